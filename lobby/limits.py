"""Lobby sizes and windows: fixed by the code, looked up at call time (``limits.NAME``).

The caps an operator sets (guests per address, matches per player) are settings, read from
the environment in cubearena/settings.py: settings.GUESTS_PER_ADDRESS,
settings.LIVE_MATCHES_PER_PLAYER, settings.MATCHES_PER_HOUR.
The simulation's rates live in game/limits.py.
"""

from datetime import timedelta

# The windows of the guest and match caps (settings.GUESTS_PER_ADDRESS, MATCHES_PER_HOUR).
GUEST_WINDOW = timedelta(hours=1)
MATCH_WINDOW = timedelta(hours=1)

# What a match may be made with (the arbiter reads them from the match record).
MIN_TICK_RATE, MAX_TICK_RATE, DEFAULT_TICK_RATE = 5, 30, 10
DEFAULT_ARENA = 100
DEFAULT_SPEED = 5.0  # units a second

NICKNAME_MAX_LEN = 24
MATCH_NAME_MAX_LEN = 64
MIN_PLAYERS = 2
DEFAULT_MAX_PLAYERS = 8

# JSON bodies are a few fields; anything bigger is refused before parsing.
MAX_BODY_BYTES = 4 * 1024

# The lobby list shows the newest open matches only.
LOBBY_LIST_LIMIT = 200
# A lobby socket re-sends the list at most this often, however many changes arrive.
LOBBY_RESEND_MIN_S = 0.5

# A player's last_seen is written at most this often by page views.
LAST_SEEN_EVERY = timedelta(minutes=5)
# Who's online in the lobby: a seat online in a running match, or a page seen this recently
# (twice LAST_SEEN_EVERY, so a player still browsing is never missed between two writes).
ONLINE_SEEN_WITHIN = 2 * LAST_SEEN_EVERY
ONLINE_LIST_LIMIT = 50  # names shown; the count covers everyone
ONLINE_CACHE_S = 1.0  # the lobby sockets of one process share one reading this long

SUMMARY_EVENTS = 50
RECENT_FINISHED = 10  # ended matches the lobby shows
HISTORY_PAGE = 50  # matches per page of a player's history
ADMIN_EVENTS = 50
