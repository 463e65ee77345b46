"""Correct a running match from the shell: move or remove cubes, or kick a player.

1. Validate the request against the match (running, cubes given, the player seated).
2. Queue it as an OperatorAction, with who asked.
3. With --wait, wait until the match's arbiter has applied it and print the result.
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from game.models import OperatorAction
from game.records.operations import request_action
from lobby.models import Match


class Command(BaseCommand):
    help = "Move or remove cubes, or kick a player, in a running match (applied by its arbiter)."

    def add_arguments(self, parser):
        parser.add_argument("match", help="the match id (UUID)")
        parser.add_argument("action", choices=[k.value for k in OperatorAction.Kind])
        parser.add_argument("--ids", default="", help="cube ids, comma-separated (move, remove)")
        parser.add_argument("--to", nargs=2, type=float, metavar=("X", "Z"), help="the point (move)")
        parser.add_argument("--player", type=int, help="the player id (kick)")
        parser.add_argument("--reason", default="")
        parser.add_argument("--by", default="", help="who asks (recorded); defaults to 'shell'")
        parser.add_argument(
            "--wait", type=float, default=0, help="seconds to wait for the arbiter to apply it"
        )

    def handle(self, *args, **opts):
        try:
            match = Match.objects.get(pk=opts["match"])
        except (Match.DoesNotExist, ValidationError, ValueError):
            raise CommandError(f"no match {opts['match']}") from None
        try:
            ids = [int(i) for i in opts["ids"].split(",") if i.strip()]
        except ValueError:
            raise CommandError("--ids takes whole numbers separated by commas, e.g. --ids 3,7") from None
        x, z = opts["to"] or (None, None)
        try:
            action = request_action(
                match,
                opts["action"],
                name=opts["by"] or "shell",
                entity_ids=ids,
                x=x,
                z=z,
                player_id=opts["player"],
                reason=opts["reason"],
            )
        except ValidationError as err:
            raise CommandError("; ".join(err.messages)) from None
        self.stdout.write(f"queued action {action.pk}: {action}")
        deadline = time.monotonic() + opts["wait"]
        while opts["wait"] and time.monotonic() < deadline:
            action.refresh_from_db()
            if action.applied:
                self.stdout.write(f"applied: {action.result}")
                return
            time.sleep(0.2)
        if opts["wait"]:
            raise CommandError(f"not applied within {opts['wait']} s; is the match's arbiter running?")
