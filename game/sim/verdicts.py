"""What the second tier's verdicts (and an operator's corrections) do to a match.

A verdict comes from the auditor's slow rules (game/sim/audit.py) or from an operator;
`apply` carries it out on the match state and records it as an event with its evidence.
The arbiter only does the talking: it announces the correction and closes a kicked socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from msgspec import Struct

from .commands import Event

if TYPE_CHECKING:
    from .match import MatchState


class Verdict(Struct, kw_only=False):
    kind: Literal["correction", "removal", "warning", "kick"]
    rule: str  # the slow rule that raised it, or "operator"
    player: int | None = None
    ids: list[int] = []
    to: tuple[float, float] | None = None  # a correction's point
    evidence: dict = {}


@dataclass(slots=True)
class Outcome:
    """What the arbiter must tell the match's sockets after a verdict."""

    result: str  # for the operator's record, e.g. "moved [3]"
    corrected: list[int] = field(default_factory=list)  # cubes to announce in a correction
    reason: str = ""  # the correction's reason, for players
    kicked: int | None = None  # a player whose socket must close (4430)
    rule: str = ""
    action: str = ""  # what the correction did to its cubes: "moved" or "removed"
    by: str = "server"  # "operator" when a person did it, so players are told so


def apply(state: MatchState, v: Verdict) -> Outcome:
    """Carry out one verdict on the match state and record it with its evidence."""
    tick = state.world.tick
    payload = {"rule": v.rule, "ids": list(v.ids), "evidence": v.evidence}
    if v.kind == "kick":
        return kick(state, v.player, v.rule)
    if v.kind == "correction":
        done = [i for i in v.ids if state.place(i, *(v.to or (0.0, 0.0)))]
        payload["to"] = list(v.to or (0.0, 0.0))
        out = Outcome(f"moved {done}", done, f"{v.rule}: moved back by the server", action="moved")
    elif v.kind == "removal":
        done = [i for i in v.ids if state.remove(i)]
        out = Outcome(f"removed {done}", done, f"{v.rule}: removed by the server", action="removed")
    else:  # warning: a strike; enough of them and the auditor asks for a kick
        if v.player is not None:
            state.strike(v.player)
        out = Outcome("warned")
    state.events.append(Event(tick, "correction" if v.kind == "removal" else v.kind, v.player, payload))
    if v.rule == "operator":
        out.by = "operator"
    return out


def kick(state: MatchState, player: int | None, rule: str) -> Outcome:
    """Remove a player from the match for good: cubes removed, seat barred, recorded."""
    seat = state.seats.get(player) if player is not None else None
    if seat is None or seat.kicked:
        return Outcome("no such player")
    state.bar(player)
    gone = [e.id for e in state.world.owned_by(player)]
    for ent_id in gone:
        state.remove(ent_id)
    state.events.append(Event(state.world.tick, "kick", player, {"rule": rule, "removed": gone}))
    return Outcome(
        f"kicked, removed {len(gone)} cubes",
        gone,
        f"{rule}: player removed",
        kicked=player,
        rule=rule,
        action="removed",
        by="operator" if rule == "operator" else "server",
    )
