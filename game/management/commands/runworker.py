"""`manage.py runworker arbiter|auditor`: Channels' command with the game's worker
(game/arbiter/worker.py: survives a layer outage, live from its start, stops gracefully)."""

import os

from channels.management.commands.runworker import Command as ChannelsRunworker

from game.arbiter.worker import ArenaWorker
from game.messages import AUDITOR_CHANNEL

# An auditor's reviews are the slow tier, off the tick path: where it shares a core with
# servers and arbiters, the kernel runs their ticks first (a second of 200 players' commands
# is ~10 ms of review in one piece, long enough to make a tick on that core late).
AUDITOR_NICE = 10


class Command(ChannelsRunworker):
    worker_class = ArenaWorker

    def handle(self, *args, **options):
        if set(options["channels"]) == {AUDITOR_CHANNEL}:
            os.nice(AUDITOR_NICE)
        super().handle(*args, **options)
