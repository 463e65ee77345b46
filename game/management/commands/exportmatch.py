"""`manage.py exportmatch MATCH_ID [-o FILE]`: an ended match (settings, players, seats, events,
input log) as one file (game/records/matchfile.py); gzip-compressed JSON unless FILE ends in .json."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from game.records import matchfile
from lobby.models import Match


class Command(BaseCommand):
    help = "Write an ended match (settings, players, events, input log) to one file."

    def add_arguments(self, parser):
        parser.add_argument("match", help="the match's id")
        parser.add_argument(
            "-o", "--output", help="file to write (default: match-<id>.json.gz; - for stdout)"
        )

    def handle(self, *args, match, output=None, **options):
        try:
            record = Match.objects.get(pk=match)
        except (Match.DoesNotExist, ValueError, ValidationError):
            raise CommandError(f"no match {match}") from None
        try:
            data = matchfile.export_match(record)
        except matchfile.MatchFileError as exc:
            raise CommandError(str(exc)) from None
        if output == "-":
            self.stdout.write(matchfile.dumps(data, compress=False).decode())
            return
        path = Path(output or f"match-{record.pk}.json.gz")
        raw = matchfile.dumps(data, compress=not path.name.endswith(".json"))
        path.write_bytes(raw)
        ticks = data.log.chunks[-1].last_tick if data.log and data.log.chunks else 0
        self.stdout.write(
            f"wrote {path} ({len(raw)} bytes): {len(data.seats)} seats, "
            f"{len(data.events)} events, {ticks} logged ticks"
        )
