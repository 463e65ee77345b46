"""The arbiter's once-a-second write: events, changed seat counters, heartbeat and checkpoint.

Nothing here runs per command or per tick.
"""

from __future__ import annotations

import contextlib
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


class _NotOurs(Exception):
    """Another arbiter's records now: what this flush wrote rolls back."""


def flush(b: FlushBatch) -> tuple[bool, list[tuple[int, dict]]]:
    """Write a second's worth of events, counters, applied actions and the heartbeat, all or
    nothing; then read the operator actions still pending. A lane job (game/records/lane.py).

    Returns (still ours, [(action id, verdict)]); not ours means another arbiter adopted the match.

    On PostgreSQL every statement goes out in one pipeline, answered in one round trip:
    three round trips with the transaction's start and its commit, where there were six (the
    heartbeat's answer, read after the others were sent, rolls them back if the match is not
    ours: a rare case that wastes a few writes). Plain SQL, not the ORM: its inserts read
    back ids, a round trip each.
    """
    now = timezone.now()
    heartbeat = {"last_tick": b.tick, "last_tick_at": now, "tick_lag": b.tick_lag}
    if b.checkpoint is not None:
        heartbeat["checkpoint"] = b.checkpoint
    if b.hand_off:
        heartbeat["arbiter_channel"] = ""
    try:
        with transaction.atomic(), connection.cursor() as cursor, connection.cursor() as pending:
            if b.log and b.log[0][0] == 1:  # the first chunk: the log's header first, by the ORM,
                write_header(b.match_id)  # outside the pipeline (its update reads its row count)
            with _one_round_trip():
                _update(
                    cursor,
                    Match,
                    heartbeat,
                    {"id": b.match_id, "epoch": b.epoch, "status": Match.Status.RUNNING},
                )
                if b.events:
                    _insert(
                        MatchEvent,
                        ("match", "tick", "player", "kind", "payload", "created"),
                        [(b.match_id, e.tick, e.player, e.kind, e.payload, now) for e in b.events],
                    )
                if b.seats:
                    _write_seats(b.match_id, b.seats, now)
                if b.log:
                    _write_log(b, now)
                if b.applied:
                    _write_applied(b.applied, now)
                _ask_pending(pending, b.match_id)
            if cursor.rowcount != 1:
                raise _NotOurs
            any_pending = pending.fetchone() is not None
            check_deadline()
    except _NotOurs:
        return False, []  # another arbiter's records now: nothing was written over them
    if not any_pending:  # almost every second of every match
        return True, []
    actions = OperatorAction.objects.filter(match_id=b.match_id, applied__isnull=True)
    return True, [(a.pk, a.as_verdict()) for a in actions]


def _one_round_trip():
    """On PostgreSQL, the statements inside are sent together and answered at its end
    (psycopg's pipeline mode); elsewhere they run one by one as they come."""
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    return connection.connection.pipeline()


def _names(model, *fields: str) -> list[str]:
    """The model's table and the fields' columns, quoted, for the plain queries here."""
    quote = connection.ops.quote_name
    return [quote(model._meta.db_table), *(quote(model._meta.get_field(f).column) for f in fields)]


def _prep(model, field: str, value):
    """A value as the field's column takes it (a uuid, JSON, a timestamp...)."""
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def _update(cursor, model, values: dict, where: dict) -> None:
    table, *cols = _names(model, *values, *where)
    sets = ", ".join(f"{c} = %s" for c in cols[: len(values)])
    conds = " AND ".join(f"{c} = %s" for c in cols[len(values) :])
    params = [_prep(model, f, v) for f, v in (*values.items(), *where.items())]
    cursor.execute(f"UPDATE {table} SET {sets} WHERE {conds}", params)


def _insert(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    table, *cols = _names(model, *fields)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [tuple(_prep(model, f, v) for f, v in zip(fields, row)) for row in rows])


def _ask_pending(cursor, match_id: str) -> None:
    """Whether an operator action waits for the match: one plain query. Almost every second
    of every match has none, and the ORM's query for them was the largest part of a flush
    (py-spy, 10 matches in one process: ~5 % of the server, in a thread holding the GIL)."""
    table, match_col, applied_col = _names(OperatorAction, "match", "applied")
    cursor.execute(
        f"SELECT 1 FROM {table} WHERE {match_col} = %s AND {applied_col} IS NULL LIMIT 1",
        [_match_key(match_id)],
    )


def _write_applied(applied: list[tuple[int, str]], now) -> None:
    """Operator actions carried out: when, and how it went (an action is applied once)."""
    table, id_col, applied_col, result_col = _names(OperatorAction, "id", "applied", "result")
    sets = f"{applied_col} = %s, {result_col} = %s"
    sql = f"UPDATE {table} SET {sets} WHERE {id_col} = %s AND {applied_col} IS NULL"
    at = _prep(OperatorAction, "applied", now)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(at, result[:200], pk) for pk, result in applied])


def _match_key(match_id: str):
    """A match's id as its column holds it (hex on SQLite, a uuid on PostgreSQL)."""
    return _prep(Match, "id", match_id)


def _write_log(b: FlushBatch, now) -> None:
    """One chunk of the input log, with the digest of the state it ends at. A flush whose
    commit was not confirmed is sent again with more entries: the chunk it wrote then gives way
    to the longer one (`overwrite`; after a confirmed flush there is none to look for)."""
    first, last = b.log[0][0], b.log[-1][0]
    state = b.ends_at
    if b.overwrite:  # else the last flush was confirmed and this chunk starts after its
        table, match_col, last_col = _names(MatchLogChunk, "match", "last_tick")
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE {match_col} = %s AND {last_col} >= %s",
                [_match_key(b.match_id), first],
            )
    entries = zlib.compress(msgpack.packb([data for _, data in b.log]), CHUNK_ZLIB_LEVEL)
    digest = replay.digest(state) if state is not None and state["tick"] == last else ""
    fields = (
        "match",
        "first_tick",
        "last_tick",
        "version",
        "entries",
        "keyframe",
        "resumed",
        "digest",
        "created",
    )
    _insert(
        MatchLogChunk,
        fields,
        [(b.match_id, first, last, LOG_VERSION, entries, b.keyframe, b.resumed, digest, now)],
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
COUNTER_TYPES = ("integer", "integer", "integer", "integer", "integer", "boolean")  # PostgreSQL's


def _write_seats(match_id: str, seats: list[SeatRecord], now) -> None:
    """Counters of every changed seat in one statement; presence for the few that changed.

    Not bulk_update: its CASE WHEN per row and field cost ~15 ms of CPU a second for 100
    seats, in a thread holding the GIL the event loop needs (py-spy, benchmarks/README.md).
    """
    names = _names(Participation, "match", "player", "online", "left", *COUNTERS)
    table, match_col, player_col, online_col, left_col, *counter_cols = names
    where = f"WHERE {match_col} = %s AND {player_col} = %s"
    match_key = _match_key(match_id)
    left = _prep(Participation, "left", now)
    presence = [
        (s.presence == "joined", None if s.presence == "joined" else left, match_key, s.player)
        for s in seats
        if s.presence is not None
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One UPDATE joined to an array per column. A statement a seat (executemany) cost
            # a flush of 200 players 20.5 ms of the backend's CPU and 7.8 ms of the thread's;
            # this 8.7 and 5.1 (benchmarks/flush_cost.py).
            types = ("bigint", *COUNTER_TYPES)  # the player, then the counters
            arrays = [[s.player for s in seats], *([getattr(s, f) for s in seats] for f in COUNTERS)]
            sets = ", ".join(f"{col} = v.{f}" for col, f in zip(counter_cols, COUNTERS, strict=True))
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM unnest({', '.join(f'%s::{t}[]' for t in types)})"
                f" AS v(player, {', '.join(COUNTERS)}) WHERE {match_col} = %s AND {player_col} = v.player",
                [*arrays, match_key],
            )
        else:
            sets = ", ".join(f"{col} = %s" for col in counter_cols)
            rows = [(*(getattr(s, f) for f in COUNTERS), match_key, s.player) for s in seats]
            cursor.executemany(f"UPDATE {table} SET {sets} {where}", rows)
        if presence:
            cursor.executemany(f"UPDATE {table} SET {online_col} = %s, {left_col} = %s {where}", presence)
