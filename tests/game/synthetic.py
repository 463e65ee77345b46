"""A recorded match written through the game's own flush (game/records/flush.py), without
sockets: a scripted play of the simulation, flushed every 20 ticks as an arbiter would."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from django.utils import timezone

from game.records import lane
from game.records.flush import FlushBatch, SeatRecord, flush
from game.sim import inputlog
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import World
from lobby import limits as match_limits
from lobby.models import Match, Participation, Player


def record_match(name="synthetic", players=None, ticks=120, seed=1, minutes=3) -> Match:
    """Play `ticks` ticks: each player spawns, moves and deletes; finish the match. The players
    (created when not given) each get a seat; the match lasted `minutes`."""
    players = players or [Player.objects.create(nickname=f"p{i}") for i in (1, 2)]
    started = timezone.now() - timedelta(minutes=minutes)
    match = Match.objects.create(name=name, creator=players[0], tick_rate=20, status="running", epoch=1)
    Match.objects.filter(pk=match.pk).update(started=started)
    for n, p in enumerate(players):
        Participation.objects.create(match=match, player=p, color=f"#00000{n}")
    world = World(match.arena_width, match.arena_depth, match_limits.DEFAULT_SPEED, match.tick_rate)
    state = MatchState(world, creator=players[0].pk)
    rng = random.Random(seed)
    for p in players:
        state.seat(p.pk, p.nickname, "#000000", 0.0)
    log, seq, now = [], {p.pk: 0 for p in players}, 0.0
    for t in range(1, ticks + 1):
        now += 0.05
        for p in players:
            if rng.random() < 0.4:
                seq[p.pk] += 1
                own = [e.id for e in state.world.owned_by(p.pk)]
                if not own or rng.random() < 0.4:
                    cmd = Command(
                        p.pk, seq[p.pk], state.world.tick, "spawn", point=(rng.uniform(-40, 40), 2.0)
                    )
                elif rng.random() < 0.7:
                    cmd = Command(
                        p.pk, seq[p.pk], state.world.tick, "move", (own[0],), (rng.uniform(-40, 40), 9.0)
                    )
                else:
                    cmd = Command(p.pk, seq[p.pk], state.world.tick, "delete", (own[-1],))
                state.submit(cmd, now)
        state.tick(now)
        entry = state.take_entry()
        log.append((entry.tick, inputlog.encode(entry)))
        if t % 20 == 0 or t == ticks:
            seats = [
                SeatRecord(s.player, None, s.ack, s.spawned, s.deleted, s.moves, s.rejected, s.kicked)
                for s in state.seats.values()
            ]
            last = t == ticks
            cp = state.checkpoint(now)
            batch = FlushBatch(
                str(match.pk), 1, state.world.tick, None if last else cp, state.take_events(), seats,
                log=log, keyframe=cp if last or t == 20 else None, ends_at=cp,
            )  # fmt: skip
            lane._local.deadline = time.monotonic() + 30  # as the lane gives each job
            assert flush(batch)[0]
            log = []
    Match.objects.filter(pk=match.pk).update(
        status="finished",
        ended=started + timedelta(minutes=minutes),
        final_entities=len(state.world.entities),
    )
    return Match.objects.get(pk=match.pk)
