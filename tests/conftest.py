"""Shared fixtures: a fresh channel layer and in-process arbiter per test loop."""

import pytest
from channels.layers import channel_layers


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    # The in-memory layer's queues belong to the loop that made them: start clean.
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture
async def arbiter():
    """Stop the in-process arbiter after the test, so the next loop starts its own."""
    from game.arbiter.inprocess import stop_arbiter

    yield
    await stop_arbiter()
