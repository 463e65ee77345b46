"""`manage.py runworker arbiter|auditor`: Channels' command with the game's worker
(game/arbiter/worker.py: survives a layer outage, live from its start, stops gracefully)."""

from channels.management.commands.runworker import Command as ChannelsRunworker

from game.arbiter.worker import ArenaWorker


class Command(ChannelsRunworker):
    worker_class = ArenaWorker
