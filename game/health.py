"""`/healthz`: is the database reachable, does the channel layer carry a message, does an arbiter answer."""

import asyncio
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse

from game.arbiter.inprocess import ensure_arbiter
from game.messages import ARBITER_CHANNEL, ArbiterPing, ArbiterPong, HealthEcho, pack, unpack

TIMEOUT_S = 2.0


@database_sync_to_async
def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _layer_and_arbiter() -> tuple[str, str]:
    layer = get_channel_layer()
    reply = await layer.new_channel()
    await layer.send(reply, pack(HealthEcho()))
    unpack(await asyncio.wait_for(layer.receive(reply), TIMEOUT_S), HealthEcho)
    ensure_arbiter()
    await layer.send(ARBITER_CHANNEL, pack(ArbiterPing(reply=reply)))
    pong = unpack(await asyncio.wait_for(layer.receive(reply), TIMEOUT_S), ArbiterPong)
    return "ok", pong.arbiter


async def healthz(request):
    checks: dict[str, str] = {}
    started = time.monotonic()
    try:
        await _database()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"failed: {exc.__class__.__name__}"
    try:
        checks["channel_layer"], arbiter = await _layer_and_arbiter()
        checks["arbiter"] = "ok"
    except TimeoutError:
        checks.setdefault("channel_layer", "ok")
        checks["arbiter"] = "failed: no arbiter answered within 2 s"
    except Exception as exc:
        checks.setdefault("channel_layer", f"failed: {exc.__class__.__name__}")
        checks.setdefault("arbiter", "unknown")
    ok = all(v == "ok" for v in checks.values())
    body = {"ok": ok, "checks": checks, "ms": round((time.monotonic() - started) * 1000, 1)}
    return JsonResponse(body, status=200 if ok else 503)
