"""`manage.py verify_replays [--since YYYY-MM-DD] [--match ID]`: replay finished matches from
their input log (game/sim/inputlog.py) and report any that does not reproduce its keyframes."""

import zlib
from datetime import datetime, time

import msgpack
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from game.models import MatchLogChunk
from game.sim import inputlog
from game.sim.match import MatchState
from game.sim.world import World
from lobby.limits import DEFAULT_SPEED
from lobby.models import Match


def verify(match: Match) -> tuple[bool, str]:
    """(reproduced, what was found): the match replayed from tick 0 through its chunks."""
    chunks = MatchLogChunk.objects.filter(match=match).order_by("first_tick")
    if not chunks.exists():
        return False, "no input log"
    world = World(match.arena_width, match.arena_depth, DEFAULT_SPEED, match.tick_rate)
    state = MatchState(world, creator=match.creator_id)
    checked, agreed = 0, 0
    for chunk in chunks.iterator():
        if chunk.version != inputlog.LOG_VERSION:
            return False, f"chunk at tick {chunk.first_tick} is log version {chunk.version}"
        entries = [inputlog.decode(raw) for raw in msgpack.unpackb(zlib.decompress(chunk.entries))]
        try:
            inputlog.replay(state, entries, now=0.0)
        except inputlog.LogGap as gap:
            return False, f"{gap} (last agreement at tick {agreed})"
        if chunk.keyframe is not None:
            diff = inputlog.differences(state, chunk.keyframe)
            if diff:
                found = "; ".join(diff[:3])
                return False, f"differs by tick {chunk.last_tick} (agreed at {agreed}): {found}"
            checked, agreed = checked + 1, chunk.last_tick
    return True, f"{state.world.tick} ticks, {checked} keyframes agree"


class Command(BaseCommand):
    help = "Replay finished matches from their input log and report any mismatch."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="only matches that ended on or after this date (YYYY-MM-DD)")
        parser.add_argument("--match", help="one match, by id")

    def handle(self, *args, since=None, match=None, **options):
        matches = Match.objects.filter(status__in=[Match.Status.FINISHED, Match.Status.ABANDONED])
        if match:
            matches = Match.objects.filter(pk=match)
        if since:
            try:
                day = datetime.strptime(since, "%Y-%m-%d").date()
            except ValueError:
                raise CommandError("--since takes a date, YYYY-MM-DD") from None
            matches = matches.filter(ended__gte=timezone.make_aware(datetime.combine(day, time.min)))
        bad = 0
        for m in matches.order_by("ended"):
            ok, what = verify(m)
            bad += not ok
            self.stdout.write(f"{'ok' if ok else 'MISMATCH'} {m.pk} {m.name!r}: {what}")
        self.stdout.write(f"{matches.count() - bad} reproduced, {bad} not")
        if bad:
            raise CommandError(f"{bad} match(es) did not replay to their recorded state")
