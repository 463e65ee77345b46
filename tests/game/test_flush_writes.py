"""A flush's writes and its guard on SQLite (tests/scaleout/test_flush_pipeline.py: PostgreSQL)."""

import pytest

from tests.game.flush_writes import (
    check_a_flush_under_an_older_epoch_writes_nothing,
    check_a_flush_writes_everything_and_reads_pending_actions,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flush_writes_everything_and_reads_pending_actions():
    check_a_flush_writes_everything_and_reads_pending_actions()


def test_a_flush_under_an_older_epoch_writes_nothing():
    check_a_flush_under_an_older_epoch_writes_nothing()
