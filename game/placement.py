"""Affinity: which server process serves a match's sockets (scaled out, CUBEARENA_SERVER_NAME).

Every ASGI process runs arbiters on its own loop and advertises its load once a second in
one Redis hash (`<prefix>:servers`, field = the process's name): its arbiter's channel,
players, matches, tick lag p99, capacity, and when it wrote. The lobby asks `socket_prefix`
for a match's socket path: the process that owns the match (its arbiter channel, recorded
on the match, is in a live advert), else the one placement already chose for it (a key that
lives a short while, so players who join together land together), else the live process
with the fewest players among those under their capacity, counting the matches it was given
in the last RECENT_S as the average match's players: adverts are a second old, and a burst
of new matches (a tournament's, a load test's) would otherwise all go where the last advert
showed the fewest. A socket served by the owner's
process never crosses Redis for a command or a snapshot; one that lands elsewhere (a proxy
that ignores the prefix, an owner that changed) is still served, through the channel layer.

Adverts older than ADVERT_LIVE_S are not live: a process that died is no longer chosen, and
the stale watch of the live ones adopts its matches.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref

from django.conf import settings

log = logging.getLogger("game.placement")

ADVERT_EVERY_S = 1.0
ADVERT_LIVE_S = 2.5  # two missed adverts and a half: a dead process stops being chosen soon
PLACED_S = 30  # a match's placement before its owner is known
RECENT_S = 5.0  # a placement this young may not show in its server's advert yet
SERVER_PREFIX = "/s/{}"  # a process's socket paths: /s/<name>/ws/match/<id>/


def _servers_key() -> str:
    return f"{settings.CHANNEL_PREFIX}:servers"


def advert(arbiter: str, players: int, matches: int, lag_ms: int | None) -> dict:
    return {
        "name": settings.SERVER_NAME,
        "arbiter": arbiter,
        "players": players,
        "matches": matches,
        "lag_ms": lag_ms,
        "capacity": settings.SERVER_CAPACITY,
        "at": time.time(),
    }


class Advertiser:
    """The process's own advert, written by its arbiter (async, on the server's loop)."""

    def __init__(self):
        from game.transport.resp import RespConnection

        self.redis = RespConnection(settings.REDIS_URL, timeout=1.0)  # once a second: the lean one

    async def write(self, ad: dict) -> None:
        await self.redis.call("HSET", _servers_key(), ad["name"], json.dumps(ad))

    async def withdraw(self) -> None:
        await self.redis.call("HDEL", _servers_key(), settings.SERVER_NAME)


def named_server(path: str) -> str | None:
    """The server a socket path names (/s/<name>/...), or None."""
    parts = path.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "s" else None


_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def arbiter_of(name: str) -> str | None:
    """The arbiter channel of live server `name` (from its advert), or None."""
    import redis.asyncio as redis

    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0
        )
    raw = await client.hget(_servers_key(), name)
    if raw is None:
        return None
    ad = json.loads(raw)
    return ad["arbiter"] if time.time() - ad.get("at", 0) <= ADVERT_LIVE_S else None


# -- the lobby's side (sync: Django views) ------------------------------------------------
_client = None
_cache: tuple[float, dict[str, dict]] = (0.0, {})


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    return _client


def live_servers(max_age_s: float = 0.0) -> dict[str, dict]:
    """name -> advert, of processes that advertised within ADVERT_LIVE_S. A list of matches
    reads them at most once a second (`max_age_s`); placing one match reads them fresh (one
    HGETALL), so it never places by a load that changed since."""
    global _cache
    now = time.time()
    if now - _cache[0] < max_age_s:
        return _cache[1]
    raw = _redis().hgetall(_servers_key())
    servers, gone = {}, []
    for name, value in raw.items():
        try:
            ad = json.loads(value)
        except ValueError:
            gone.append(name)
            continue
        if now - ad.get("at", 0) <= ADVERT_LIVE_S:
            servers[name.decode()] = ad
        elif now - ad.get("at", 0) > 3600:
            gone.append(name)  # long dead: tidy the hash
    if gone:
        _redis().hdel(_servers_key(), *gone)
    _cache = (now, servers)
    return servers


def choose(servers: dict[str, dict], recent: dict[str, int] | None = None) -> str | None:
    """The live process with the fewest players among those under capacity, a match placed
    there lately (`recent`: name -> count) counting as the average match; None if all are full."""
    open_ = [ad for ad in servers.values() if ad["players"] < ad["capacity"]]
    if not open_:
        return None
    recent = recent or {}
    matches = sum(ad["matches"] for ad in servers.values())
    per_match = max(1.0, sum(ad["players"] for ad in servers.values()) / max(1, matches))

    def load(ad: dict) -> tuple:
        new = recent.get(ad["name"], 0)
        return (ad["players"] + per_match * new, ad["matches"] + new, ad["name"])

    return min(open_, key=load)["name"]


def _placings_key() -> str:
    return f"{settings.CHANNEL_PREFIX}:placings"


def recent_placements() -> dict[str, int]:
    """name -> matches placed on it in the last RECENT_S (one round trip)."""
    now = time.time()
    pipe = _redis().pipeline()
    pipe.zremrangebyscore(_placings_key(), "-inf", now - RECENT_S)
    pipe.zrange(_placings_key(), 0, -1)
    _, members = pipe.execute()
    counts: dict[str, int] = {}
    for member in members:
        name = member.decode().partition(" ")[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def _placed(name: str, match_id: str) -> None:
    pipe = _redis().pipeline()
    pipe.zadd(_placings_key(), {f"{name} {match_id}": time.time()})
    pipe.expire(_placings_key(), int(RECENT_S) + 1)
    pipe.execute()


def server_for(match_id: str, owner_channel: str, listing: bool = False) -> str | None:
    """The name of the process that should serve the match's sockets, or None (any).
    `listing`: from the adverts alone (a list of matches costs no Redis call per match)."""
    servers = live_servers(ADVERT_EVERY_S if listing else 0.0)
    if owner_channel:
        for name, ad in servers.items():
            if ad["arbiter"] == owner_channel:
                return name
    if listing:
        return choose(servers)
    key = f"{settings.CHANNEL_PREFIX}:placed:{match_id}"
    placed = _redis().get(key)
    if placed is not None and placed.decode() in servers:
        return placed.decode()
    name = choose(servers, recent_placements())
    if name is None:
        if servers:
            log.warning("every server is at capacity; match %s goes where its socket lands", match_id)
        return None
    if not _redis().set(key, name, ex=PLACED_S, nx=True):
        placed = _redis().get(key)  # another request placed it a moment ago
        if placed is not None and placed.decode() in servers:
            return placed.decode()
        _redis().set(key, name, ex=PLACED_S)
    _placed(name, match_id)
    return name


def socket_prefix(match, listing: bool = False) -> str:
    """The path prefix of the process that should serve `match`'s sockets ("" for any).
    Redis unreachable: "" (any process serves any socket, through the channel layer)."""
    try:
        name = server_for(str(match.id), match.arbiter_channel or "", listing)
    except Exception as exc:
        log.warning("placement unavailable (%r); match %s goes where its socket lands", exc, match.id)
        return ""
    return SERVER_PREFIX.format(name) if name else ""
