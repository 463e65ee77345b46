"""A match's stored input log read back from the database, for game/sim/replay.py.

`load(match)` gives the log's header and its chunks decoded; `check(match)` replays it and
compares it with the match's recorded events (what `manage.py verify_replays` runs).
"""

from __future__ import annotations

import zlib

import msgpack
import msgspec

from game.models import MatchLog, MatchLogChunk
from game.records.flush import match_settings
from game.sim import inputlog, replay, rulesets
from lobby.models import Match, MatchEvent


class NoLog(Exception):
    """The match has no input log to replay."""


def header(match: Match) -> replay.Header:
    """The log's header; a log written before headers existed was played under rules 1 with
    the settings on the Match record, from an empty arena."""
    row = MatchLog.objects.filter(match=match).first()
    if row is None:
        settings = match_settings(match)
        return replay.Header(
            log_version=inputlog.LOG_VERSION,
            rules_version=1,
            settings=settings,
            initial=rulesets.new_state(settings, 1).checkpoint(0.0),
        )
    return replay.Header(
        log_version=row.log_version,
        rules_version=row.rules_version,
        settings=msgspec.convert(row.settings, rulesets.Settings),
        initial=row.initial,
    )


def raw_entries(blob: bytes) -> list[bytes]:
    """A chunk's entries as stored, each still encoded (inputlog.encode)."""
    return msgpack.unpackb(zlib.decompress(bytes(blob)))


def decode_entries(blob: bytes) -> list[inputlog.Entry]:
    return [inputlog.decode(raw) for raw in raw_entries(blob)]


def _rows(match: Match):
    """The log's chunk rows in tick order, one at a time; UnknownRules for another log version."""
    rows = MatchLogChunk.objects.filter(match=match).order_by("first_tick")
    for row in rows.iterator(chunk_size=50):
        if row.version != inputlog.LOG_VERSION:
            raise rulesets.UnknownRules(f"chunk at tick {row.first_tick} is log version {row.version}")
        yield row


def chunks(match: Match):
    """The log's chunks in tick order, decoded one at a time (a long match is not all in memory)."""
    for row in _rows(match):
        yield replay.Chunk(
            row.first_tick, row.last_tick, decode_entries(row.entries), row.digest, row.keyframe, row.resumed
        )


def encoded_entries(match: Match) -> list[bytes]:
    """Every entry of the log, each still encoded: a cursor decodes one as it plays it (a tenth
    of the memory: a 30-minute match of 200 players is ~180 MB, not ~1.8 GB)."""
    return [raw for row in _rows(match) for raw in raw_entries(row.entries)]


def events(match: Match) -> dict[int, list[tuple]]:
    rows = MatchEvent.objects.filter(match=match, kind__in=replay.REPLAYED_EVENTS).values_list(
        "tick", "kind", "payload"
    )
    return replay.recorded_events(rows.iterator())


def check(match: Match) -> replay.Report:
    """Replay the match's log and compare it tick by tick (NoLog when there is none)."""
    if not MatchLogChunk.objects.filter(match=match).exists():
        raise NoLog("no input log")
    return replay.verify(header(match), chunks(match), events(match))
