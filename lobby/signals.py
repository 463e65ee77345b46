"""On login, the session speaks for the user's Player (made on first login). And the one
retention policy: `prunerecords` asks every app to delete what it keeps of ended matches."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver

from .services import player_for_user
from .session import remember_player


@receiver(user_logged_in, dispatch_uid="lobby.player_on_login")
def player_on_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    remember_player(request.session, player_for_user(user))


# Sent by `manage.py prunerecords` with `before` (a datetime) and `dry_run`; each receiver deletes
# (or counts) what it keeps of matches that ended before then and returns (what, how many). The
# game's input log answers it (game/records/retention.py): lobby imports nothing of game.
prune_ended_matches = Signal()
