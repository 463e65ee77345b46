"""The fast rules: small functions run over every command, in order, until one refuses.

Admission rules run when a command arrives (rates need its arrival time); tick rules run
when the tick applies it (ownership and caps need the world as of that tick). Each returns
None to let the command through, or a (code, message, retry_ms) triple with a stable code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .commands import Command
from .seat import Seat
from .world import World


class MatchState(Protocol):
    """What the rules read of a match (game/sim/match.py has the real one)."""

    world: World
    cube_cap: int
    creator: int | None


Refusal = tuple[str, str, int | None] | None


def seq_rises(state: MatchState, seat: Seat, cmd: Command, now: float) -> Refusal:
    if cmd.seq <= seat.seq:
        return ("stale_seq", f"seq {cmd.seq} is not above the last one received ({seat.seq})", None)
    return None


def command_rate(state: MatchState, seat: Seat, cmd: Command, now: float) -> Refusal:
    wait = seat.bucket.take(now)
    if wait:
        return ("rate_limited", "too many commands; slow down", wait)
    return None


def spawn_rate(state: MatchState, seat: Seat, cmd: Command, now: float) -> Refusal:
    if cmd.op == "spawn":
        wait = seat.spawns.take(now)
        if wait:
            return ("spawn_cooldown", "at most 5 spawns a second", wait)
    return None


def ids_known(state: MatchState, seat: Seat, cmd: Command, now: float) -> Refusal:
    for ent_id in cmd.ids:
        if ent_id not in state.world.entities:
            return ("unknown_entity", f"no cube {ent_id} in this match", None)
    return None


def owner_only(state: MatchState, seat: Seat, cmd: Command, now: float) -> Refusal:
    for ent_id in cmd.ids:
        if state.world.entities[ent_id].owner != seat.player:
            return ("not_owner", f"cube {ent_id} belongs to another player", None)
    return None


def cube_cap(state: MatchState, seat: Seat, cmd: Command, now: float) -> Refusal:
    if cmd.op == "spawn" and state.world.count_owned(seat.player) >= state.cube_cap:
        return ("cube_cap", f"at most {state.cube_cap} cubes per player", None)
    return None


Rule = Callable[[MatchState, Seat, Command, float], Refusal]

ADMISSION_RULES: list[Rule] = [seq_rises, command_rate, spawn_rate]
TICK_RULES: list[Rule] = [ids_known, owner_only, cube_cap]


def may_end(state: MatchState, player: int | None) -> Refusal:
    """Only the match's creator may end it (spectators and other players may not)."""
    if player is None or player != state.creator:
        return ("not_creator", "only the match's creator can end it", None)
    return None
