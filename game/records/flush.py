"""The arbiter's once-a-second write: events, changed seat counters, heartbeat and checkpoint.

Nothing here runs per command or per tick.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field

import msgpack
import msgspec
from django.db import connection, transaction
from django.utils import timezone

from game import limits
from game.models import MatchLog, MatchLogChunk, OperatorAction
from game.records.lane import check_deadline
from game.sim import replay
from game.sim.inputlog import CHUNK_ZLIB_LEVEL, LOG_VERSION
from game.sim.rulesets import Settings
from lobby import limits as match_limits
from lobby.models import Match, MatchEvent, Participation


@dataclass(slots=True)
class SeatRecord:
    player: int
    presence: str | None  # "joined" or "left" when that changed since the last flush
    last_seq: int
    spawned: int
    deleted: int
    moves: int
    rejected: int
    kicked: bool


@dataclass(slots=True)
class FlushBatch:
    """What one flush writes; the runtime drops it from its pending records only once written."""

    match_id: str
    epoch: int  # the fencing token the owner holds: a write under an older one is refused
    tick: int
    checkpoint: dict | None
    events: list
    seats: list[SeatRecord]
    tick_lag: dict | None = None
    applied: list[tuple[int, str]] = field(default_factory=list)  # operator actions carried out: (id, result)
    hand_off: bool = False  # the owner is stopping: the record says nobody owns the match now
    log: list[tuple[int, bytes]] = field(default_factory=list)  # input log entries (tick, entry)
    keyframe: dict | None = None  # the state after the log's last entry, now and then
    resumed: dict | None = None  # an adopter's first chunk: the state it resumed from
    overwrite: bool = True  # a chunk a flush whose commit was not confirmed wrote may overlap this one
    ends_at: dict | None = None  # the state the log's last entry leaves, for the chunk's digest


def flush(b: FlushBatch) -> tuple[bool, list[tuple[int, dict]]]:
    """Write a second's worth of events, counters, applied actions and the heartbeat, all or
    nothing; then read the operator actions still pending. A lane job (game/records/lane.py).

    Returns (still ours, [(action id, verdict)]); not ours means another arbiter adopted the match.
    """
    now = timezone.now()
    heartbeat = {"last_tick": b.tick, "last_tick_at": now, "tick_lag": b.tick_lag}
    if b.checkpoint is not None:
        heartbeat["checkpoint"] = b.checkpoint
    if b.hand_off:
        heartbeat["arbiter_channel"] = ""
    with transaction.atomic():
        still_ours = Match.objects.filter(pk=b.match_id, epoch=b.epoch, status=Match.Status.RUNNING).update(
            **heartbeat
        )
        if not still_ours:
            return False, []  # another arbiter's records now: write nothing over them
        if b.events:
            MatchEvent.objects.bulk_create(
                MatchEvent(
                    match_id=b.match_id, tick=e.tick, player_id=e.player, kind=e.kind, payload=e.payload
                )
                for e in b.events
            )
        if b.seats:
            _write_seats(b.match_id, b.seats, now)
        if b.log:
            _write_log(b)
        for pk, result in b.applied:
            OperatorAction.objects.filter(pk=pk, applied__isnull=True).update(
                applied=now, result=result[:200]
            )
        check_deadline()
    if not _any_pending(b.match_id):
        return True, []
    pending = OperatorAction.objects.filter(match_id=b.match_id, applied__isnull=True)
    return True, [(a.pk, a.as_verdict()) for a in pending]


def _any_pending(match_id: str) -> bool:
    """Whether an operator action waits for the match: one plain query. Almost every second
    of every match has none, and the ORM's query for them was the largest part of a flush
    (py-spy, 10 matches in one process: ~5 % of the server, in a thread holding the GIL)."""
    table, match_col, applied_col = _names(OperatorAction, "match", "applied")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE {match_col} = %s AND {applied_col} IS NULL LIMIT 1",
            [_match_key(match_id)],
        )
        return cursor.fetchone() is not None


def _names(model, *fields: str) -> list[str]:
    """The model's table and the fields' columns, quoted, for the plain queries here."""
    quote = connection.ops.quote_name
    return [quote(model._meta.db_table), *(quote(model._meta.get_field(f).column) for f in fields)]


def _match_key(match_id: str):
    """A match's id as its column holds it (hex on SQLite, a uuid on PostgreSQL)."""
    return Match._meta.pk.get_db_prep_value(uuid.UUID(str(match_id)), connection)


def _write_log(b: FlushBatch) -> None:
    """One chunk of the input log, with the digest of the state it ends at; the first chunk
    also writes the log's header. A flush whose commit was not confirmed is sent again with
    more entries: the chunk it wrote then gives way to the longer one (`overwrite`; after a
    confirmed flush there is none to look for)."""
    first, last = b.log[0][0], b.log[-1][0]
    if first == 1:
        write_header(b.match_id)
    state = b.ends_at
    if b.overwrite:  # else the last flush was confirmed and this chunk starts after its
        MatchLogChunk.objects.filter(match_id=b.match_id, last_tick__gte=first).delete()
    MatchLogChunk.objects.create(
        match_id=b.match_id,
        first_tick=first,
        last_tick=last,
        version=LOG_VERSION,
        entries=zlib.compress(msgpack.packb([data for _, data in b.log]), CHUNK_ZLIB_LEVEL),
        keyframe=b.keyframe,
        resumed=b.resumed,
        digest=replay.digest(state) if state is not None and state["tick"] == last else "",
    )


def match_settings(match: Match) -> Settings:
    """The settings the arbiter plays a match with (game/arbiter/runtime.py builds its World
    and MatchState from the same record and limits)."""
    return Settings(
        arena_width=match.arena_width,
        arena_depth=match.arena_depth,
        tick_rate=match.tick_rate,
        speed=match_limits.DEFAULT_SPEED,
        cube_cap=limits.CUBE_CAP_PER_PLAYER,
        creator=match.creator_id,
        max_players=match.max_players,
        name=match.name,
    )


def write_header(match_id: str) -> MatchLog:
    """The log's header (game/sim/replay.Header) from the Match record, under this code's rules."""
    header = replay.header_for(match_settings(Match.objects.get(pk=match_id)))
    row, _ = MatchLog.objects.update_or_create(
        match_id=match_id,
        defaults={
            "log_version": header.log_version,
            "rules_version": header.rules_version,
            "settings": msgspec.to_builtins(header.settings),
            "initial": header.initial,
        },
    )
    return row


COUNTERS = ("last_seq", "spawned", "deleted", "moves", "rejected", "kicked")


def _write_seats(match_id: str, seats: list[SeatRecord], now) -> None:
    """Counters of every changed seat in one executemany; presence for the few that changed.

    Not bulk_update: its CASE WHEN per row and field cost ~15 ms of CPU a second for 100
    seats, in a thread holding the GIL the event loop needs (py-spy, benchmarks/README.md).
    """
    table, match_col, player_col, *counter_cols = _names(Participation, "match", "player", *COUNTERS)
    sets = ", ".join(f"{col} = %s" for col in counter_cols)
    match_key = _match_key(match_id)
    rows = [(*(getattr(s, f) for f in COUNTERS), match_key, s.player) for s in seats]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {match_col} = %s AND {player_col} = %s", rows)
    for s in seats:
        if s.presence is not None:
            joined = s.presence == "joined"
            Participation.objects.filter(match_id=match_id, player_id=s.player).update(
                online=joined, left=None if joined else now
            )
