"""A match's socket path as the lobby hands it out.

Scaled out with affinity, the path carries the prefix of the server process that should
serve the match (`/s/<name>/ws/match/<id>/`, which the reverse proxy routes to it); the game
decides which (settings.SOCKET_PLACEMENT names its placement function: lobby imports
nothing of game). Otherwise it is the match's plain path, which any process serves.
"""

from django.conf import settings
from django.utils.module_loading import import_string


def socket_path(match, listing: bool = False) -> str:
    """`listing`: one of many matches in a list, placed from cached adverts, nothing written."""
    if not settings.SOCKET_PLACEMENT:
        return match.ws_path
    return import_string(settings.SOCKET_PLACEMENT)(match, listing) + match.ws_path
