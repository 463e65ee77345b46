"""Rules versions: which simulation a match was played with, so its log replays through that one.

A match's input log (game/sim/inputlog.py) starts with a `Header`: the log format, the rules
version the match was played under, its settings and its initial state. `RULES_VERSION` names
the rules this code plays. Change what a replay depends on (how a command moves cubes, the
lag-compensation window, the nudge distance, the step) and you bump `RULES_VERSION` and
register the new rules here, keeping the old entry working: a `Ruleset` makes the match state
a version plays with (a `MatchState`, or a subclass that keeps an older behaviour), so a log
recorded under version 1 still replays exactly after formations (or anything else) land.

tests/sim/test_replay.py checks that the current ruleset is what the arbiter plays, that a
version 1 log (from before formations) still verifies, and that formations need version 2.

Plain Python and msgspec, no Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from game import limits

from . import rules
from .match import MatchState
from .world import World

RULES_VERSION = 2


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """What a match was made with, as its arbiter played it (the lobby's Match record)."""

    arena_width: int
    arena_depth: int
    tick_rate: int
    speed: float  # units a second
    cube_cap: int
    creator: int | None = None
    max_players: int = 0
    name: str = ""


class UnknownRules(ValueError):
    """A log names a rules version this code cannot replay."""


@dataclass(frozen=True, slots=True)
class Ruleset:
    version: int
    make_state: Callable[[Settings], MatchState]
    tick_rules: tuple  # run over each logged command as the replay applies it (see replay.py)
    lag_window_s: float  # what the version was played with, pinned (the guard test compares)
    nudge_distance: float
    summary: str


def _state(s: Settings) -> MatchState:
    world = World(s.arena_width, s.arena_depth, s.speed, s.tick_rate)
    return MatchState(world, cube_cap=s.cube_cap, creator=s.creator)


def no_formations(state, seat, cmd, now) -> rules.Refusal:
    """Rules 1 had no formation moves: a version 1 log that has one was not played under them."""
    if cmd.form is not None:
        return ("bad_message", "a formation move, which rules version 1 did not have", None)
    return None


RULESETS: dict[int, Ruleset] = {
    # Before formations. Today's engine plays such a log exactly: a move without a form means
    # what it did then (the form and facing fields came last, with defaults).
    1: Ruleset(
        1,
        _state,
        (*rules.TICK_RULES, no_formations),
        lag_window_s=0.25,
        nudge_distance=1.0,
        summary="cubes move straight to the commanded point; lag-compensated moves and nudges",
    ),
    2: Ruleset(
        2,
        _state,
        tuple(rules.TICK_RULES),
        lag_window_s=0.25,
        nudge_distance=1.0,
        summary="rules 1, and formation moves: a group order sends each cube to its own slot",
    ),
}


def ruleset(version: int) -> Ruleset:
    found = RULESETS.get(version)
    if found is None:
        known = ", ".join(str(v) for v in sorted(RULESETS))
        raise UnknownRules(f"rules version {version} is not one this server can replay (knows {known})")
    return found


def new_state(settings: Settings, version: int = RULES_VERSION) -> MatchState:
    """A fresh match state of `version`'s rules for these settings."""
    return ruleset(version).make_state(settings)


def current_limits() -> dict:
    """What this code's rules read from game/limits.py: compared with the current ruleset."""
    return {"lag_window_s": limits.LAG_WINDOW_S, "nudge_distance": limits.NUDGE_DISTANCE}
