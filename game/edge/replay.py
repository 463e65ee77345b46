"""The replay socket (`/ws/replay/<match id>/`): a finished match played back from its input
log, streamed as the live match's own snapshots, so the browser needs no rules engine.

The server replays the log (game/sim/replay.Cursor, under the rules version the match was
played with) and sends, as a spectator of the replay would see it:

- `replay.preparing`: `{tick, first, last}` at once and every half second while the log is played
  through once before the first frame (a 30-minute match of 2,000 cubes: about a minute);
- `replay`: the match's name, arena, speed and tick rate, its first and last tick, and the
  seek bar's marks `[tick, kind, player]` (joins, leaves, kicks, corrections, warnings);
- `snap` (the live format, docs/protocol.md): a full snap after each seek, then one delta a tick;
- `players` (the live format): the players panel as it was, whenever it changes;
- `replay.state`: `{tick, playing, speed}` after each control, and at the end.

The browser sends messages of type `play`, `pause`, `speed` (with `speed`, 0.25 to 8) and
`seek` (with `tick`); anything else is answered with an `error` (`bad_message`) and ignored.
Closes 4404 when there is no finished match with a log there, 4403 when a private match is
not the visitor's to see.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from game.models import MatchLogChunk
from game.records import replays
from game.sim import inputlog, replay
from game.wire.snapshots import delta_snap, full_snap
from lobby import access
from lobby.models import Match, Player
from lobby.session import player_id_in

log = logging.getLogger("game.replay")

SPEEDS = (0.25, 8.0)
CHECKPOINT_EVERY_S = 5  # a seek replays at most this much play (closer for big matches: replay.Cursor)
MAX_FRAME = 1024


class Refused(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def load(match_id: str, session, code: str | None) -> tuple[replay.Header, list, Match]:
    """The match's log (Refused when it is not there or not the visitor's)."""
    try:
        match = Match.objects.get(pk=match_id)
    except (Match.DoesNotExist, ValidationError, ValueError):
        raise Refused(4404, "no such match") from None
    if not match.is_over:
        raise Refused(4404, "the match is not over: watch it live")
    pid = player_id_in(session)
    player = Player.objects.filter(pk=pid).first() if pid is not None else None
    if not access.can_view(match, player, code or ""):
        raise Refused(4403, access.PRIVATE)
    if not MatchLogChunk.objects.filter(match=match).exists():
        raise Refused(4404, "this match has no input log to replay")
    header = replays.header(match)
    return header, replays.encoded_entries(match), match


def cursor_for(header: replay.Header, entries: list) -> replay.Cursor:
    return replay.Cursor(header, entries, every=CHECKPOINT_EVERY_S * header.settings.tick_rate)


PROGRESS_EVERY_S = 0.5  # while a big match's log is prepared (up to a minute), the page is told how far


async def prepare(cursor: replay.Cursor, progress) -> None:
    """One pass over the log (CPU only: a thread of its own, not Django's sync thread), with
    `progress(tick)` awaited now and every PROGRESS_EVERY_S until it is done. Like every other
    use of the cursor that replays (a seek, a step and its snap), it never runs on the event
    loop's thread: a big match's seek is tens of milliseconds of CPU."""
    job = asyncio.ensure_future(asyncio.to_thread(cursor.prepare))
    try:
        while True:
            await progress(cursor.prepared)
            done, _ = await asyncio.wait({job}, timeout=PROGRESS_EVERY_S)
            if done:
                return job.result()
    finally:  # the page went away: the pass finishes in its thread, its result unread
        if not job.done():
            job.cancel()


class ReplayConsumer(AsyncWebsocketConsumer):
    cursor: replay.Cursor | None = None
    runner: asyncio.Task | None = None

    async def connect(self):
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        match_id = self.scope["url_route"]["kwargs"]["match_id"]
        try:
            began = time.perf_counter()
            header, entries, match = await database_sync_to_async(load)(
                match_id, self.scope.get("session"), query.get("code", [None])[0]
            )
            cursor = await asyncio.to_thread(cursor_for, header, entries)
            await prepare(cursor, lambda tick: self._preparing(cursor, tick))
            self.cursor = cursor
        except Refused as refusal:
            await self.close(code=refusal.code, reason=refusal.reason)
            return
        except (inputlog.LogGap, replay.rulesets.UnknownRules, ValueError) as exc:
            log.warning("replay of %s cannot start: %s", match_id, exc)
            await self.close(code=4404, reason=f"this match's log cannot be replayed: {exc}"[:120])
            return
        c = self.cursor
        log.info("replay of %s ready in %.2f s (%d ticks)", match_id, time.perf_counter() - began, c.last)
        s = c.header.settings
        self.playing, self.speed = False, 1.0
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()  # one of: a step and its snap, or a control and its answer
        self.sent_players = None
        await self._send(
            {
                "type": "replay",
                "match": str(match.pk),
                "name": match.name,
                "arena": [s.arena_width, s.arena_depth],
                "speed": s.speed,
                "tick_rate": s.tick_rate,
                "rules": c.header.rules_version,
                "first": c.first,
                "last": c.last,
                "marks": [list(m) for m in c.marks],
            }
        )
        await self._full(await asyncio.to_thread(self._full_snap))
        await self._state()
        self.runner = asyncio.get_running_loop().create_task(self._run())

    async def _preparing(self, cursor: replay.Cursor, tick: int) -> None:
        progress = {"type": "replay.preparing", "tick": tick, "first": cursor.first, "last": cursor.last}
        await self._send(progress)

    async def disconnect(self, code):
        if self.runner is not None:
            self.runner.cancel()

    async def receive(self, text_data=None, bytes_data=None):
        if self.cursor is None:
            return
        msg = None
        if text_data is not None and len(text_data) <= MAX_FRAME:
            try:
                msg = json.loads(text_data)
            except ValueError:
                msg = None
        async with self.lock:  # a control lands between ticks, never between a step and its snap
            await self._control(msg.get("type") if isinstance(msg, dict) else None, msg)

    async def _control(self, kind, msg) -> None:
        if kind == "play":
            if self.cursor.tick >= self.cursor.last:
                await self._full(await asyncio.to_thread(self._seek, self.cursor.first))
            self.playing = True
        elif kind == "pause":
            self.playing = False
        elif kind == "speed" and _number(msg.get("speed")) and SPEEDS[0] <= msg["speed"] <= SPEEDS[1]:
            self.speed = float(msg["speed"])
        elif kind == "seek" and _number(msg.get("tick")) and float(msg["tick"]).is_integer():
            await self._full(await asyncio.to_thread(self._seek, int(msg["tick"])))
        else:
            await self._send(
                {
                    "type": "error",
                    "code": "bad_message",
                    "message": "expected play, pause, speed (0.25-8) or seek (a tick)",
                }
            )
            return
        self.wake.set()
        await self._state()

    async def _run(self) -> None:
        """Step at tick_rate x speed while playing; a control wakes it at once."""
        loop = asyncio.get_running_loop()
        c = self.cursor
        due = loop.time()
        while True:
            if not self.playing:
                self.wake.clear()
                await self.wake.wait()
                due = loop.time()
                continue
            async with self.lock:
                if not self.playing:  # paused while this waited for the lock
                    continue
                advanced = await asyncio.to_thread(self._advance)
                if advanced is None:
                    self.playing = False
                    await self._state()
                    continue
                await self.send(text_data=advanced[0])
                await self._players(advanced[1])
            due += 1.0 / (c.header.settings.tick_rate * self.speed)
            delay = due - loop.time()
            if delay < -0.5:
                due = loop.time()  # far behind (a slow reader): do not rush to catch up
            self.wake.clear()
            if delay > 0:
                try:
                    await asyncio.wait_for(self.wake.wait(), delay)
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(0)
            if self.wake.is_set():
                due = loop.time()

    # The cursor's work, in a worker thread (the caller holds the lock: one at a time).
    def _seek(self, tick: int) -> tuple[str, list]:
        self.cursor.seek(tick)
        return self._full_snap()

    def _full_snap(self) -> tuple[str, list]:
        c = self.cursor
        return full_snap(c.state.world, _ms(c), {}).text, c.state.players()

    def _advance(self) -> tuple[str, list] | None:
        """The next tick's delta snap and the players panel, or None at the end."""
        c = self.cursor
        changes = c.step()
        if changes is None:
            return None
        return delta_snap(c.state.world, _ms(c), {}, changes).text, c.state.players()

    async def _full(self, snap: tuple[str, list]) -> None:
        await self.send(text_data=snap[0])
        self.sent_players = None
        await self._players(snap[1])

    async def _players(self, players: list) -> None:
        if players != self.sent_players:
            self.sent_players = players
            await self._send({"type": "players", "players": players})

    async def _state(self) -> None:
        c = self.cursor
        await self._send(
            {"type": "replay.state", "tick": c.tick, "playing": self.playing, "speed": self.speed}
        )

    async def _send(self, msg: dict) -> None:
        await self.send(text_data=json.dumps(msg))


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ms(c: replay.Cursor) -> int:
    """The snap's `t`: the replayed tick's time into the match, in ms."""
    return round(c.tick * 1000 / c.header.settings.tick_rate)
