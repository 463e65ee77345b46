"""A finished match as one file: its settings, players, seats, events and input log (with the
log's header), so it can be kept, moved to another installation and replayed there the same.

The file is JSON (gzip-compressed when its name ends in .gz), versioned by `format` and
`version`; the log's chunks keep their compressed entries as base64. `export_match` writes
it, `import_match` reads it into a new match (its players become guests of this installation,
named as they were; the log keeps the ids it was played with, so it replays as it did).
A file that is not such a file, or is inconsistent, is refused with a `MatchFileError` that
says what is wrong, and nothing is written.
"""

from __future__ import annotations

import gzip
import uuid
from datetime import datetime

import msgspec
from django.db import transaction
from django.utils import timezone

from game.models import MatchLog, MatchLogChunk
from game.records import replays
from game.sim import inputlog, rulesets
from lobby.models import Match, MatchEvent, Participation, Player

FORMAT = "cubearena-match"
FILE_VERSION = 1
MAX_FILE_BYTES = 512 * 1024 * 1024


class MatchFileError(ValueError):
    """The file cannot be imported; the message says why."""


class MatchInfo(msgspec.Struct, forbid_unknown_fields=True):
    id: uuid.UUID
    name: str
    status: str
    created: datetime
    started: datetime | None
    ended: datetime | None
    end_reason: str
    max_players: int
    tick_rate: int
    arena_width: int
    arena_depth: int
    private: bool
    creator: int | None
    last_tick: int
    final_entities: int | None


class PlayerInfo(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    nickname: str


class SeatInfo(msgspec.Struct, forbid_unknown_fields=True):
    player: int
    color: str
    joined: datetime
    left: datetime | None
    online: bool
    kicked: bool
    last_seq: int
    spawned: int
    deleted: int
    moves: int
    rejected: int


class EventInfo(msgspec.Struct, array_like=True):
    tick: int
    kind: str
    player: int | None
    payload: dict
    created: datetime


class ChunkInfo(msgspec.Struct, forbid_unknown_fields=True):
    first_tick: int
    last_tick: int
    version: int
    entries: bytes  # zlib-compressed msgpack, as stored
    digest: str = ""
    keyframe: dict | None = None
    resumed: dict | None = None  # an adopter's first chunk: the state it resumed from


class LogInfo(msgspec.Struct, forbid_unknown_fields=True):
    log_version: int
    rules_version: int
    settings: rulesets.Settings
    initial: dict
    chunks: list[ChunkInfo]


class MatchFile(msgspec.Struct, forbid_unknown_fields=True):
    format: str
    version: int
    exported: datetime
    match: MatchInfo
    players: list[PlayerInfo]
    seats: list[SeatInfo]
    events: list[EventInfo]
    log: LogInfo | None


SEAT_FIELDS = (
    "color",
    "joined",
    "left",
    "online",
    "kicked",
    "last_seq",
    "spawned",
    "deleted",
    "moves",
    "rejected",
)
MATCH_FIELDS = ("name", "status", "created", "started", "ended", "end_reason", "max_players", "tick_rate")
MATCH_FIELDS += ("arena_width", "arena_depth", "private", "last_tick", "final_entities")


def export_match(match: Match) -> MatchFile:
    """The match as a MatchFile (only a finished or abandoned match: a running one still changes)."""
    if not match.is_over:
        raise MatchFileError(f"match {match.pk} is {match.status}: only an ended match can be exported")
    seats = list(match.participations.select_related("player").order_by("joined", "id"))
    events = match.events.order_by("tick", "id").values_list(
        "tick", "kind", "player_id", "payload", "created"
    )
    players = {s.player_id: s.player.nickname for s in seats}
    log = None
    if MatchLogChunk.objects.filter(match=match).exists():
        head = replays.header(match)
        chunks = [
            ChunkInfo(c.first_tick, c.last_tick, c.version, bytes(c.entries), c.digest, c.keyframe, c.resumed)
            for c in MatchLogChunk.objects.filter(match=match).order_by("first_tick")
        ]
        log = LogInfo(head.log_version, head.rules_version, head.settings, head.initial, chunks)
    return MatchFile(
        format=FORMAT,
        version=FILE_VERSION,
        exported=timezone.now(),
        match=MatchInfo(
            id=match.pk, creator=match.creator_id, **{f: getattr(match, f) for f in MATCH_FIELDS}
        ),
        players=[PlayerInfo(pid, name) for pid, name in players.items()],
        seats=[SeatInfo(player=s.player_id, **{f: getattr(s, f) for f in SEAT_FIELDS}) for s in seats],
        events=[EventInfo(*row) for row in events.iterator()],
        log=log,
    )


def dumps(data: MatchFile, compress: bool = True) -> bytes:
    raw = msgspec.json.encode(data)
    return gzip.compress(raw, mtime=0) if compress else raw


def loads(raw: bytes) -> MatchFile:
    """Parse and check a match file (gzip or plain JSON); MatchFileError says what is wrong."""
    if len(raw) > MAX_FILE_BYTES:
        raise MatchFileError(f"the file is over {MAX_FILE_BYTES // 2**20} MB")
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise MatchFileError(f"the file is not readable gzip: {exc}") from None
    try:
        head = msgspec.json.decode(raw, type=dict[str, object])
    except msgspec.DecodeError as exc:
        raise MatchFileError(f"the file is not JSON: {exc}") from None
    if head.get("format") != FORMAT:
        raise MatchFileError(
            f"not a CubeArena match file (format {head.get('format')!r}, expected {FORMAT!r})"
        )
    if head.get("version") != FILE_VERSION:
        raise MatchFileError(
            f"match file version {head.get('version')!r} is not one this server reads ({FILE_VERSION})"
        )
    try:
        data = msgspec.json.decode(raw, type=MatchFile)
    except msgspec.ValidationError as exc:
        raise MatchFileError(f"the match file is malformed: {exc}") from None
    check(data)
    return data


def check(data: MatchFile) -> None:
    """What the schema cannot say: the file is consistent with itself and with this server."""
    m = data.match
    if m.status not in (Match.Status.FINISHED, Match.Status.ABANDONED):
        raise MatchFileError(f"the match is {m.status!r}: only a finished or abandoned match is imported")
    known = {p.id for p in data.players}
    if len(known) != len(data.players):
        raise MatchFileError("a player appears twice in $.players")
    for n, seat in enumerate(data.seats):
        if seat.player not in known:
            raise MatchFileError(f"$.seats[{n}] names player {seat.player}, who is not in $.players")
    kinds = set(MatchEvent.Kind.values)
    for n, event in enumerate(data.events):
        if event.kind not in kinds:
            raise MatchFileError(f"$.events[{n}] is of unknown kind {event.kind!r}")
        if event.player is not None and event.player not in known:
            raise MatchFileError(f"$.events[{n}] names player {event.player}, who is not in $.players")
    if m.creator is not None and m.creator not in known:
        raise MatchFileError(f"$.match.creator {m.creator} is not in $.players")
    if data.log is None:
        return
    log = data.log
    try:
        rulesets.ruleset(log.rules_version)
    except rulesets.UnknownRules as exc:
        raise MatchFileError(str(exc)) from None
    if log.log_version != inputlog.LOG_VERSION:
        raise MatchFileError(f"input log version {log.log_version} is not {inputlog.LOG_VERSION}")
    if not log.chunks:
        raise MatchFileError("$.log has no chunks (a match without a log has null there)")
    expected = 1
    for n, chunk in enumerate(log.chunks):
        if chunk.version != inputlog.LOG_VERSION:
            raise MatchFileError(f"$.log.chunks[{n}] is log version {chunk.version}")
        if chunk.first_tick != expected or chunk.last_tick < chunk.first_tick:
            raise MatchFileError(
                f"$.log.chunks[{n}] covers ticks {chunk.first_tick}-{chunk.last_tick}; "
                f"expected from {expected}"
            )
        try:
            entries = replays.decode_entries(chunk.entries)
        except Exception as exc:  # zlib, msgpack or msgspec: the blob is not a log chunk
            raise MatchFileError(f"$.log.chunks[{n}].entries is not an input log chunk: {exc}") from None
        if [e.tick for e in entries] != list(range(chunk.first_tick, chunk.last_tick + 1)):
            raise MatchFileError(
                f"$.log.chunks[{n}]'s entries are not ticks {chunk.first_tick}-{chunk.last_tick}"
            )
        expected = chunk.last_tick + 1


@transaction.atomic
def import_match(data: MatchFile, keep_id: bool = False) -> Match:
    """Write a checked MatchFile as a new match (under its own id with `keep_id`, if free)."""
    m = data.match
    match_id = m.id if keep_id else uuid.uuid4()
    if Match.objects.filter(pk=match_id).exists():
        raise MatchFileError(f"a match {match_id} exists already (import without keeping its id)")
    players = {p.id: Player.objects.create(nickname=p.nickname[:24]) for p in data.players}
    fields = {f: getattr(m, f) for f in MATCH_FIELDS}
    creator = players[m.creator] if m.creator is not None else None
    match = Match.objects.create(id=match_id, creator=creator, **fields)
    Match.objects.filter(pk=match.pk).update(created=m.created)  # auto_now_add set it to now
    seats = [
        Participation(match=match, player=players[s.player], **{f: getattr(s, f) for f in SEAT_FIELDS})
        for s in data.seats
    ]
    Participation.objects.bulk_create(seats)
    for seat, info in zip(seats, data.seats, strict=True):  # joined is auto_now_add too
        Participation.objects.filter(pk=seat.pk).update(joined=info.joined)
    events = MatchEvent.objects.bulk_create(
        MatchEvent(
            match=match,
            tick=e.tick,
            kind=e.kind,
            player=players[e.player] if e.player is not None else None,
            payload=e.payload,
        )
        for e in data.events
    )
    for event, info in zip(events, data.events, strict=True):  # created is auto_now_add: set it after
        event.created = info.created
    MatchEvent.objects.bulk_update(events, ["created"], batch_size=500)  # retention counts from it
    if data.log is not None:
        log = data.log
        MatchLog.objects.create(
            match=match,
            log_version=log.log_version,
            rules_version=log.rules_version,
            settings=msgspec.to_builtins(log.settings),
            initial=log.initial,
        )
        MatchLogChunk.objects.bulk_create(
            MatchLogChunk(
                match=match,
                first_tick=c.first_tick,
                last_tick=c.last_tick,
                version=c.version,
                entries=c.entries,
                digest=c.digest,
                keyframe=c.keyframe,
                resumed=c.resumed,
            )
            for c in log.chunks
        )
    return match
