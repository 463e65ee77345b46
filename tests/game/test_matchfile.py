"""A match exported as one file and imported (here under a new id, or after the original is
gone) replays the same; a file that is not a good match file is refused with what is wrong."""

import base64
import gzip
import json
import zlib
from io import StringIO

import msgpack
import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command

from game.models import MatchLog, MatchLogChunk
from game.records import matchfile
from lobby.models import Match, MatchEvent, Participation

from .recorded import play_recorded_match

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def contents(match: Match) -> tuple:
    """What must survive the round trip (ids aside)."""
    seats = sorted(
        (p.player.nickname, p.color, p.spawned, p.deleted, p.moves, p.rejected, p.last_seq, p.joined)
        for p in Participation.objects.filter(match=match).select_related("player")
    )
    events = [
        (e.tick, e.kind, e.player.nickname if e.player else None, e.payload, e.created)
        for e in MatchEvent.objects.filter(match=match).select_related("player").order_by("tick", "id")
    ]
    chunks = [
        (c.first_tick, c.last_tick, bytes(c.entries), c.digest, c.keyframe)
        for c in MatchLogChunk.objects.filter(match=match).order_by("first_tick")
    ]
    head = MatchLog.objects.get(match=match)
    fields = (match.name, match.tick_rate, match.arena_width, match.created, match.started, match.ended)
    return fields, seats, events, chunks, (head.rules_version, head.settings, head.initial)


@pytest.mark.usefixtures("arbiter")
async def test_an_exported_match_imported_again_replays_the_same(settings, tmp_path):
    match = await play_recorded_match(settings)

    def round_trip():
        path = tmp_path / "m.json.gz"
        assert "wrote" in run("exportmatch", str(match.pk), "-o", str(path))
        assert path.read_bytes()[:2] == b"\x1f\x8b"

        out = run("importmatch", str(path))  # beside the original, under a new id
        assert "replay ok" in out and "prunerecords" not in out, out
        copy = Match.objects.exclude(pk=match.pk).get(name=match.name)
        assert contents(copy) == contents(match)
        assert copy.creator.nickname == "alice" and copy.creator_id != match.creator_id
        assert "1 reproduced, 0 not" in run("verify_replays", "--match", str(copy.pk))

        Match.objects.filter(pk=match.pk).delete()  # gone here; the file brings it back as it was
        assert "replay ok" in run("importmatch", str(path), "--keep-id")
        back = Match.objects.get(pk=match.pk)
        assert contents(back)[2:] == contents(copy)[2:]
        assert "1 reproduced, 0 not" in run("verify_replays", "--match", str(back.pk))
        with pytest.raises(CommandError, match="exists already"):
            run("importmatch", str(path), "--keep-id")

    await database_sync_to_async(round_trip)()


@pytest.mark.usefixtures("arbiter")
async def test_a_bad_match_file_is_refused_with_what_is_wrong_and_nothing_is_written(settings, tmp_path):
    match = await play_recorded_match(settings)

    def bad_files():
        good = json.loads(matchfile.dumps(matchfile.export_match(match), compress=False))
        before = (Match.objects.count(), MatchEvent.objects.count(), MatchLogChunk.objects.count())

        def refused(data, expected: str, raw: bytes | None = None):
            path = tmp_path / "bad.json"
            path.write_bytes(raw if raw is not None else json.dumps(data).encode())
            with pytest.raises(CommandError, match=expected):
                run("importmatch", str(path))
            assert (
                Match.objects.count(),
                MatchEvent.objects.count(),
                MatchLogChunk.objects.count(),
            ) == before

        def edited(change):
            data = json.loads(json.dumps(good))
            change(data)
            return data

        refused(None, "not JSON", raw=b"{nope")
        refused(None, "not readable gzip", raw=gzip.compress(b"{}")[:12])
        refused({"format": "other"}, "not a CubeArena match file")
        refused(edited(lambda d: d.update(version=99)), "match file version 99")
        refused(edited(lambda d: d["match"].pop("tick_rate")), r"malformed: .*tick_rate")
        refused(edited(lambda d: d["match"].update(tick_rate="fast")), r"malformed: .*\$\.match\.tick_rate")
        refused(edited(lambda d: d["match"].update(status="running")), "only a finished or abandoned")
        refused(edited(lambda d: d["seats"][0].update(player=999)), r"\$\.seats\[0\] names player 999")
        refused(edited(lambda d: d["events"][0].__setitem__(1, "teleport")), "unknown kind 'teleport'")
        refused(edited(lambda d: d["log"].update(rules_version=42)), "rules version 42")
        refused(edited(lambda d: d["log"]["chunks"][0].update(first_tick=2)), r"chunks\[0\] covers ticks 2-")
        refused(edited(lambda d: d["log"].update(chunks=[])), r"\$\.log has no chunks")
        refused(
            edited(lambda d: d["log"]["chunks"][0].update(entries="bm90IGEgbG9n")),
            r"chunks\[0\]\.entries is not an input log chunk",
        )
        one_short = zlib.compress(
            msgpack.packb(msgpack.unpackb(zlib.decompress(bytes(first_chunk().entries)))[:-1])
        )
        refused(
            edited(lambda d: d["log"]["chunks"][0].update(entries=base64.b64encode(one_short).decode())),
            r"entries are not ticks",
        )
        with pytest.raises(CommandError, match="cannot read"):
            run("importmatch", str(tmp_path / "missing.json"))

        old = tmp_path / "old.json"  # a good file of a match older than the retention policy
        old.write_text(json.dumps(edited(lambda d: d["match"].update(ended="2001-01-01T00:00:00Z"))))
        out = run("importmatch", str(old))
        assert "replay ok" in out and "the next prunerecords deletes its events and log" in out

    def first_chunk():
        return MatchLogChunk.objects.filter(match=match).order_by("first_tick").first()

    await database_sync_to_async(bad_files)()


def test_a_running_match_is_not_exported():
    match = Match.objects.create(name="live", status=Match.Status.RUNNING)
    with pytest.raises(CommandError, match="only an ended match"):
        run("exportmatch", str(match.pk))
    with pytest.raises(CommandError, match="no match"):
        run("exportmatch", "not-an-id")
