"""`manage.py verify_replays [--since YYYY-MM-DD] [--match ID]`: replay finished matches from
their input log under the rules version they were played with (game/sim/replay.py) and report
any that does not reproduce its record, with the first tick that differs."""

import time as clock
from datetime import datetime, time

import msgspec
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from game.records import replays
from game.sim import replay, rulesets
from lobby.models import Match


def verify(match: Match) -> tuple[bool, str]:
    """(reproduced, what was found): the match replayed from its first tick through its chunks."""
    try:
        report = replays.check(match)
    except replays.NoLog as exc:
        return False, str(exc)
    except (rulesets.UnknownRules, msgspec.ValidationError, ValueError) as exc:
        return False, f"log unreadable: {exc}"
    return report.ok, str(report)


def report(match: Match) -> replay.Report:
    """The full report of one match (NoLog, UnknownRules or a decode error when it has none)."""
    return replays.check(match)


class Command(BaseCommand):
    help = "Replay finished matches from their input log; report mismatches and the first tick that differs."

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
            began = clock.perf_counter()
            ok, what = verify(m)
            took = clock.perf_counter() - began
            bad += not ok
            self.stdout.write(f"{'ok' if ok else 'MISMATCH'} {m.pk} {m.name!r}: {what} ({took:.2f} s)")
        self.stdout.write(f"{matches.count() - bad} reproduced, {bad} not")
        if bad:
            raise CommandError(f"{bad} match(es) did not replay to their recorded state")
