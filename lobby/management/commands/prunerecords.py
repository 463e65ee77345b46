"""Delete records nobody needs any more.

1. Delete the MatchEvents older than --days (CUBEARENA_RECORDS_KEEP_DAYS) of finished and
   abandoned matches, and what other apps keep of matches that ended before then (the game's
   input log) through the `prune_ended_matches` signal: this is the one place records go.
2. Delete guest Players idle (last_seen) longer than --guest-days with no seat in a running match
   (their seats in ended matches go with them).
3. Mark abandoned: matches nobody joined within --lobby-hours, and running matches whose
   arbiter heartbeat stopped --stale-hours ago with no worker adopting them.
4. Print what was done (with --dry-run, what would be).
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from lobby.models import Match, MatchEvent, Participation, Player
from lobby.signals import prune_ended_matches

ENDED = (Match.Status.FINISHED, Match.Status.ABANDONED)


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.RECORDS_KEEP_DAYS,
            help="keep events and logs younger than this (default CUBEARENA_RECORDS_KEEP_DAYS)",
        )
        parser.add_argument(
            "--guest-days", type=int, default=30, help="keep guests seen more recently (default 30)"
        )
        parser.add_argument("--lobby-hours", type=int, default=24, help="abandon unjoined matches this old")
        parser.add_argument(
            "--stale-hours", type=int, default=1, help="abandon running matches silent this long"
        )
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, days, guest_days, lobby_hours, stale_hours, dry_run, **options):
        now = timezone.now()
        # 1. Old events of ended matches.
        events = MatchEvent.objects.filter(match__status__in=ENDED, created__lt=now - timedelta(days=days))
        # 2. Idle guests not seated in a running match.
        running_seats = Participation.objects.filter(match__status=Match.Status.RUNNING).values("player_id")
        guests = Player.objects.filter(user=None, last_seen__lt=now - timedelta(days=guest_days)).exclude(
            pk__in=running_seats
        )
        # 3. Matches that will never be played or finished.
        unjoined = Match.objects.filter(
            status=Match.Status.LOBBY, created__lt=now - timedelta(hours=lobby_hours)
        )
        silent = Match.objects.filter(
            status=Match.Status.RUNNING, last_tick_at__lt=now - timedelta(hours=stale_hours)
        )
        with transaction.atomic():
            if dry_run:
                n_events, n_guests = events.count(), guests.count()
                n_abandoned = unjoined.count() + silent.count()
            else:
                n_events = events.delete()[1].get(MatchEvent._meta.label, 0)
                n_guests = guests.delete()[1].get(Player._meta.label, 0)
                n_abandoned = sum(
                    qs.update(status=Match.Status.ABANDONED, ended=now, arbiter_channel="", end_reason=why)
                    for qs, why in ((unjoined, "nobody joined"), (silent, "its game server stopped"))
                )
            others = prune_ended_matches.send(Command, before=now - timedelta(days=days), dry_run=dry_run)
        # 4. Report.
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {n_events} match events older than {days} days")
        for _, (what, count) in others:
            self.stdout.write(f"{verb} {count} {what} of matches ended more than {days} days ago")
        self.stdout.write(f"{verb} {n_guests} guest players idle more than {guest_days} days")
        marked = "would mark" if dry_run else "marked"
        self.stdout.write(f"{marked} {n_abandoned} matches abandoned")
