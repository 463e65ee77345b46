"""The slow rules: reviews of a second's worth of play, run by the auditor off the tick path.

A batch is plain data (it crosses the channel layer). Each rule reads it and returns
verdicts: a correction (the arbiter puts a cube back), a warning, or a kick. Every verdict
carries its evidence, which the arbiter records as a MatchEvent.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from game import limits

from .verdicts import Verdict


def _verdict(kind: str, rule: str, player: int | None, evidence: dict, ids=(), to=None) -> Verdict:
    return Verdict(kind, rule, player, list(ids), tuple(to) if to is not None else None, evidence)


def _owners(batch: dict) -> dict[int, int]:
    return {int(k): v for k, v in batch.get("owners", {}).items()}


def speed_cap(batch: dict) -> list[Verdict]:
    """A cube that covered more ground between two ticks than its speed allows, unless a
    backdated command or an authoritative placement explains the jump: put it back."""
    step = batch["speed"] / batch["tick_rate"]
    per_tick = step + limits.AUDIT_STEP_SLACK
    extra: dict[int, dict[int, float]] = {}  # cube -> tick -> ground a backdated command explains
    for command in batch["commands"]:
        op, ids, applied, tick = command[2], command[3], command[5], command[6]
        if op in ("move", "nudge") and applied < tick:
            # The fast-forward may shift the cube by up to 2 steps (each with its rounding) per
            # backdated tick, back along the old path and forward along the new one; and the
            # position it starts from is the recorded one, which an earlier backdated command
            # may since have moved the cube away from by as much again (up to W ticks).
            window = int(limits.LAG_WINDOW_S * batch["tick_rate"])
            shift = 2 * per_tick * ((tick - applied) + window)
            for i in ids:
                more = extra.setdefault(i, {})
                more[tick + 1] = more.get(tick + 1, 0) + shift
    placed: dict[int, set[int]] = {}
    for i, t in batch.get("placed", []):
        placed.setdefault(i, set()).add(t)
    owners = _owners(batch)
    verdicts = []
    clearly_within = 0.98 * per_tick * per_tick  # a one-tick step under this needs no root
    for key, trail in batch["trails"].items():
        ent = int(key)
        more, gone = extra.get(ent, {}), placed.get(ent, ())
        t1, x1, z1 = trail[0]
        for point in trail[1:]:
            t2, x2, z2 = point
            dx, dz = x2 - x1, z2 - z1
            if t2 - t1 == 1 and dx * dx + dz * dz < clearly_within and t2 not in more:
                t1, x1, z1 = point  # most steps
                continue
            allowed = per_tick * (t2 - t1) + more.get(t2, 0)
            moved = math.hypot(dx, dz)
            if moved <= allowed or t2 in gone:
                t1, x1, z1 = point
                continue
            verdicts.append(
                _verdict(
                    "correction",
                    "speed_cap",
                    owners.get(ent),
                    {
                        "tick": t2,
                        "from": [x1, z1],
                        "to": [x2, z2],
                        "moved": round(moved, 3),
                        "allowed": round(allowed, 3),
                    },
                    ids=[ent],
                    to=(x1, z1),
                )
            )
            break
    return verdicts


def lag_claims(batch: dict) -> list[Verdict]:
    """Moves claiming ticks further back than half the player's measured round trip explains."""
    tick_ms = 1000 / batch["tick_rate"]
    by_player: dict[int, list[tuple[int, int]]] = {}
    for command in batch["commands"]:  # [player, seq, op, ids, claimed, applied, tick, ...]
        if command[2] in ("move", "nudge"):
            by_player.setdefault(command[0], []).append((command[1], command[6] - command[4]))
    verdicts = []
    for player, claims in by_player.items():
        samples = batch["rtt"].get(str(player)) or []
        if not samples:
            continue  # no round trip measured yet: nothing to compare with
        rtt = statistics.median(samples)
        explained = rtt / 2 / tick_ms + limits.AUDIT_LAG_SLACK_TICKS
        unexplained = [(seq, back) for seq, back in claims if back > explained]
        if len(unexplained) >= limits.AUDIT_LAG_CLAIMS_TO_WARN:
            verdicts.append(
                _verdict(
                    "warning",
                    "lag_claims",
                    player,
                    {
                        "rtt_ms": round(rtt, 1),
                        "explained_ticks": round(explained, 2),
                        "claims": unexplained[:10],
                        "count": len(unexplained),
                    },
                )
            )
    return verdicts


def flood_near_limit(batch: dict) -> list[Verdict]:
    """A player who spent the whole batch at (nearly) the command rate limit."""
    seconds = max(1e-3, (batch["to"] - batch["from"]) / batch["tick_rate"])
    counts: dict[int, int] = {}
    for player, *_ in batch["commands"]:
        counts[player] = counts.get(player, 0) + 1
    for player, refused in batch.get("refused", {}).items():
        counts[int(player)] = counts.get(int(player), 0) + refused
    threshold = limits.AUDIT_FLOOD_SHARE * limits.CMD_RATE_PER_S
    return [
        _verdict(
            "warning",
            "flood_near_limit",
            player,
            {"per_second": round(n / seconds, 1), "threshold": threshold},
        )
        for player, n in counts.items()
        if seconds >= 0.5 and n / seconds >= threshold
    ]


def impossible_sequence(batch: dict) -> list[Verdict]:
    """A command claiming to be issued before the cube it names existed."""
    born = {int(k): v for k, v in batch.get("born", {}).items()}
    youngest = max(born.values(), default=-1)
    verdicts = []
    for player, seq, _op, ids, claimed, *_ in batch["commands"]:
        if claimed >= youngest:
            continue  # no cube it may name was born after it: most commands
        early = [i for i in ids if i in born and claimed < born[i]]
        if early:
            verdicts.append(
                _verdict(
                    "warning",
                    "impossible_sequence",
                    player,
                    {"seq": seq, "claimed_tick": claimed, "born": {str(i): born[i] for i in early}},
                    ids=early,
                )
            )
    return verdicts


SlowRule = Callable[[dict], list[Verdict]]
SLOW_RULES: list[SlowRule] = [speed_cap, lag_claims, flood_near_limit, impossible_sequence]


def review(batch: dict) -> list[Verdict]:
    """Run every slow rule; a player whose warnings reach the strike limit is kicked."""
    verdicts = [v for rule in SLOW_RULES for v in rule(batch)]
    strikes = {int(k): n for k, n in batch.get("strikes", {}).items()}
    for v in [v for v in verdicts if v.kind == "warning"]:
        strikes[v.player] = strikes.get(v.player, 0) + 1
        if strikes[v.player] == limits.AUDIT_STRIKES_TO_KICK:
            verdicts.append(
                _verdict("kick", "strikes", v.player, {"warnings": strikes[v.player], "last": v.rule})
            )
    return verdicts
