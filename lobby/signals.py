"""On login, the session speaks for the user's Player (made on first login)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .services import player_for_user
from .session import remember_player


@receiver(user_logged_in, dispatch_uid="lobby.player_on_login")
def player_on_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    remember_player(request.session, player_for_user(user))
