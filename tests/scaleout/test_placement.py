"""Placement on the real Redis: a burst of new matches spreads over the live processes,
although their adverts (a second old) do not show the matches yet."""

import json
import time
import uuid
from collections import Counter

import pytest
from django.test import override_settings

from game import placement


@pytest.fixture
def servers():
    """Two live processes advertising in a hash of this test's own; name -> players."""
    prefix = f"cubearena-test-placement-{uuid.uuid4().hex[:8]}"
    with override_settings(CHANNEL_PREFIX=prefix):

        def advertise(**players):
            for name, count in players.items():
                ad = {"name": name, "arbiter": f"arbiter.{name}", "players": count, "matches": count // 10}
                ad |= {"lag_ms": None, "capacity": 1000, "at": time.time()}
                placement._redis().hset(placement._servers_key(), name, json.dumps(ad))

        yield advertise
        placement._redis().delete(placement._servers_key(), placement._placings_key())
        for key in placement._redis().scan_iter(f"{prefix}:placed:*"):
            placement._redis().delete(key)


def place(n: int) -> Counter:
    return Counter(placement.server_for(str(uuid.uuid4()), "") for _ in range(n))


def test_a_burst_of_new_matches_spreads_over_equally_loaded_processes(servers):
    servers(s1=0, s2=0)
    assert place(10) == Counter(s1=5, s2=5)


def test_a_burst_goes_to_the_less_loaded_process_until_the_loads_meet(servers):
    servers(s1=60, s2=0)  # 6 matches of 10 on s1: a placed match counts as 10 players
    placed = place(10)
    assert placed == Counter(s1=2, s2=8)


def test_a_match_keeps_the_placement_it_was_given(servers):
    servers(s1=0, s2=0)
    match = str(uuid.uuid4())
    first = placement.server_for(match, "")
    assert [placement.server_for(match, "") for _ in range(4)] == [first] * 4
    assert sum(placement.recent_placements().values()) == 1
