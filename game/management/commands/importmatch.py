"""`manage.py importmatch FILE [--keep-id]`: read a match file written by exportmatch (or the
admin's export) into this installation as an ended match, then replay its log to show it
reproduces here. A malformed or inconsistent file is refused with what is wrong; nothing is written."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from game.records import matchfile, replays
from game.sim import rulesets


class Command(BaseCommand):
    help = "Import a match file (from exportmatch) as an ended match and verify its replay."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the match file (.json or .json.gz)")
        parser.add_argument(
            "--keep-id", action="store_true", help="keep the match's id (it must be free here)"
        )

    def handle(self, *args, file, keep_id=False, **options):
        try:
            raw = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            match = matchfile.import_match(matchfile.loads(raw), keep_id=keep_id)
        except matchfile.MatchFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        self.stdout.write(f"imported {match.pk} {match.name!r}")
        keep = timezone.now() - timedelta(days=settings.RECORDS_KEEP_DAYS)
        if match.ended and match.ended < keep:
            self.stdout.write(
                f"note: it ended more than {settings.RECORDS_KEEP_DAYS} days ago "
                "(CUBEARENA_RECORDS_KEEP_DAYS): the next prunerecords deletes its events and log"
            )
        try:
            report = replays.check(match)
        except replays.NoLog:
            self.stdout.write("it has no input log to replay")
            return
        except rulesets.UnknownRules as exc:
            raise CommandError(f"imported, but its log cannot be replayed here: {exc}") from None
        self.stdout.write(f"replay {'ok' if report.ok else 'MISMATCH'}: {report}")
        if not report.ok:
            raise CommandError("imported, but its replay does not reproduce its record")
