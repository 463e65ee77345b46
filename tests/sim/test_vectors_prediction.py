"""The prediction vectors: the arbiter's lag compensation, recorded for the browser's replay."""

import json

from tests.vectors.generate import PREDICTION_FILE, build_prediction, dumps


def cases() -> list[dict]:
    return json.loads(PREDICTION_FILE.read_text())["cases"]


def test_it_has_committed_prediction_vectors_that_match_the_arbiter():
    assert PREDICTION_FILE.read_text() == dumps(build_prediction()), "run: python -m tests.vectors.generate"


def test_it_records_backdated_clamped_and_future_claims():
    kinds = set()
    for case in cases():
        w = case["window"]
        for c in case["commands"]:
            if c["applied"] is None:
                continue
            now = c["proc"] - 1
            assert max(now - w, 0) <= c["applied"] <= now
            if c["applied"] < now and c["applied"] == c["claimed"]:
                kinds.add("backdated")
            if c["claimed"] < now - w:
                kinds.add("clamped")
            if c["claimed"] > now:
                kinds.add("future")
    assert kinds == {"backdated", "clamped", "future"}


def test_it_records_refusals_and_acknowledges_every_honest_command():
    codes = {c["reject"] for case in cases() for c in case["commands"]}
    assert {"not_owner", "unknown_entity", "cube_cap", "spawn_cooldown", "stale_seq"} <= codes
    for case in cases():
        for c in case["commands"]:
            if c["reject"] == "stale_seq":
                assert c["proc"] is None  # a stale number is not a new one: never acknowledged
            else:
                assert c["proc"] == c["at"] + 1  # refused or not, the next snap acknowledges it


def test_it_records_a_command_rewinding_to_a_tick_the_previous_one_has_not_reached():
    # A second command applied as of a tick before the first one was processed rewinds the
    # cube into the history the first one rewrote. The browser must replay that too (and
    # rewrite its own history on the ack), so the vectors hold such cases and the rewrites.
    found = 0
    for case in cases():
        for p in case["players"]:
            done = [c for c in case["commands"] if c["player"] == p and c["applied"] is not None]
            for i, second in enumerate(done):
                if any(
                    set(first["ids"]) & set(second["ids"])
                    and first["applied"] < second["applied"] < first["proc"]
                    and second["applied"] < second["proc"] - 1
                    for first in done[:i]
                ):
                    found += 1
    assert found >= 10
    assert sum(len(s["rewritten"]) for case in cases() for s in case["snaps"]) > 20
