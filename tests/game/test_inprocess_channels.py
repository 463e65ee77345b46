"""Which named channels the arbiter on the ASGI server's loop reads (game/arbiter/inprocess.py)."""

from game.arbiter.inprocess import served_channels
from game.messages import ARBITER_CHANNEL, AUDITOR_CHANNEL


def test_embedded_the_in_process_worker_also_reviews(settings):
    settings.REDIS_URL = None
    assert sorted(served_channels()) == sorted([ARBITER_CHANNEL, AUDITOR_CHANNEL])


def test_scaled_out_the_servers_leave_reviews_to_the_auditor_processes(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert served_channels() == [ARBITER_CHANNEL]
