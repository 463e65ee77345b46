"""A flush's writes and its guard on PostgreSQL, where its statements go out in one pipeline:
the heartbeat's answer comes back after everything else was sent, so a flush under an older
epoch must roll all of it back. The tests are tests/game/test_flush_writes.py's (SQLite there)."""

from tests.game.test_flush_writes import (  # noqa: F401 (collected here too, on PostgreSQL)
    pytestmark,
    test_a_first_chunk_written_again_replaces_itself_header_and_all,
    test_a_flush_under_an_older_epoch_writes_nothing,
    test_a_flush_writes_everything_and_reads_pending_actions,
)
