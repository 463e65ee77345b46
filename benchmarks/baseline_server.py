"""A bare baseline for the load bots: CubeArena's match semantics over plain `websockets`.

No Django, no channel layer, one process: the same rules engine and step
(`game.sim.match.MatchState` over `game.sim.world.World`), the same edge parsing
(`game.wire.protocol`) and the same snapshot shapes (`game.wire.snapshots`, encoded once per tick per
encoding), broadcast at the same tick rate. Joining takes no HTTP: `?player=N` is the seat.

    .venv/bin/python benchmarks/baseline_server.py --port 8765 --mode delta|full [--tick-rate 20]

`--mode delta` sends CubeArena's predictive deltas (a keyframe every few seconds);
`--mode full` sends every entity every tick.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.server import ServerConnection, broadcast, serve  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from game import limits  # noqa: E402
from game.arbiter import clock  # noqa: E402
from game.sim.match import MatchState  # noqa: E402
from game.sim.world import World  # noqa: E402
from game.wire.protocol import End, Ping, ProtocolError, Resync, decode_frame, parse_message, to_command  # noqa: E402
from game.wire.snapshots import Snap, delta_snap, encode, full_snap  # noqa: E402
from lobby import limits as match_limits  # noqa: E402

log = logging.getLogger("baseline")

COLORS = ["#e5533d", "#3d8be5", "#47b35a", "#e5b83d", "#9b59d0", "#2bb5b0", "#e57a3d", "#d04f8e"]


def now_ms() -> int:
    return int(time.time() * 1000)


class Room:
    """One match: its state, its sockets and its tick timer (dies with `dispose`)."""

    def __init__(self, match_id: str, tick_rate: int, arena: float, full: bool, rooms: dict):
        self.match_id, self.tick_rate, self.full, self.rooms = match_id, tick_rate, full, rooms
        self.state = MatchState(World(arena, arena, match_limits.DEFAULT_SPEED, tick_rate))
        self.sockets: dict[int, tuple[ServerConnection, bool]] = {}
        self.keyframe_every = max(1, round(limits.KEYFRAME_EVERY_S * tick_rate))
        self.loop = asyncio.get_running_loop()
        self.task = self.loop.create_task(self._ticker(), name=f"tick {match_id}")

    # -- lifecycle -----------------------------------------------------------------------
    async def join(self, player: int, ws: ServerConnection, binary: bool) -> None:
        """Seat the player (replacing an older socket) and send the welcome."""
        seat = self.state.seat(player, f"p{player}", COLORS[player % len(COLORS)], self.loop.time())
        old = self.sockets.get(player)
        if old is not None and old[0] is not ws:
            self.loop.create_task(old[0].close(4001, "replaced by a newer connection"))
        self.sockets[player] = (ws, binary)
        seat.online = True
        world = self.state.world
        welcome = {
            "type": "welcome",
            "v": 1,
            "match": self.match_id,
            "you": player,
            "role": "player",
            "color": seat.color,
            "tick_rate": self.tick_rate,
            "arena": [world.half_w * 2, world.half_d * 2],
            "speed": world.speed,
            "ack": seat.ack,
            "players": self.state.players(),
            "snap": self._full().as_dict(binary),
        }
        await ws.send(encode(welcome, binary))
        self._broadcast_players()

    def leave(self, player: int, ws: ServerConnection) -> None:
        current = self.sockets.get(player)
        if current is None or current[0] is not ws:
            return
        del self.sockets[player]
        self.state.seats[player].online = False
        if not self.sockets:
            self.dispose()
        else:
            self._broadcast_players()

    def dispose(self) -> None:
        """Stop the timer and forget the match."""
        self.task.cancel()
        self.state.ended = True
        self.rooms.pop(self.match_id, None)

    async def end(self, reason: str) -> None:
        for ws, binary in list(self.sockets.values()):
            try:
                await ws.send(encode({"type": "ended", "reason": reason}, binary))
                self.loop.create_task(ws.close(4410, "match ended"))
            except ConnectionClosed:
                pass
        self.dispose()

    # -- messages ---------------------------------------------------------------------------
    async def receive(self, player: int, ws: ServerConnection, binary: bool, raw: str | bytes) -> None:
        """Decode, validate and queue one frame, as the CubeArena socket and arbiter do."""
        try:
            msg = parse_message(decode_frame(raw, binary=binary and isinstance(raw, bytes)))
            if isinstance(msg, Ping):
                await ws.send(
                    encode(
                        {"type": "pong", "t": msg.t, "st": now_ms(), "tick": self.state.world.tick}, binary
                    )
                )
            elif isinstance(msg, Resync):
                snap = self._full()
                await ws.send(snap.data if binary else snap.text)
            elif isinstance(msg, End):
                await self.end("ended by its creator")
            else:
                reject = self.state.submit(to_command(msg, player), self.loop.time())
                if reject is not None:
                    await ws.send(encode(self._reject_msg(reject), binary))
        except ProtocolError as err:
            await ws.send(encode(err.as_message(), binary))

    # -- the tick ---------------------------------------------------------------------------
    async def _ticker(self) -> None:
        async def tick(_due: float) -> None:
            try:
                self.tick()
            except Exception:
                log.exception("match %s: tick failed", self.match_id)

        await clock.every(self.tick_rate, tick)

    def tick(self) -> None:
        """Apply the queue, step, and broadcast one snapshot encoded once per encoding."""
        result = self.state.tick(self.loop.time())
        self.state.take_events()  # nothing records them here
        for reject in result.rejects:
            sock = self.sockets.get(reject.player)
            if sock is not None:
                self.loop.create_task(self._send(sock, self._reject_msg(reject)))
        if self.full or result.tick % self.keyframe_every == 0:
            snap = self._full(result.changes.cids)
        else:
            snap = delta_snap(self.state.world, now_ms(), result.acks, result.changes)
        self._broadcast(snap.text, snap.data)

    # -- sending ----------------------------------------------------------------------------
    def _full(self, cids: dict[int, str] | None = None) -> Snap:
        """Every entity; on a tick that spawned, with the spawns' cids (a delta would carry them)."""
        acks = {s.player: s.ack for s in self.state.seats.values()}
        if not cids:
            return full_snap(self.state.world, now_ms(), acks)
        world = self.state.world
        return Snap(world.tick, now_ms(), True, acks, list(world.entities.values()), cids, [])

    def _broadcast(self, text: str | None, data: bytes | None) -> None:
        texts = [ws for ws, b in self.sockets.values() if not b]
        binaries = [ws for ws, b in self.sockets.values() if b]
        if texts:
            broadcast(texts, text)
        if binaries:
            broadcast(binaries, data)

    def _broadcast_players(self) -> None:
        msg = {"type": "players", "players": self.state.players()}
        self._broadcast(encode(msg, False), encode(msg, True))

    @staticmethod
    def _reject_msg(reject) -> dict:
        msg = {"type": "reject", "seq": reject.seq, "code": reject.code, "message": reject.message}
        if reject.retry_ms is not None:
            msg["retry_ms"] = reject.retry_ms
        return msg

    @staticmethod
    async def _send(sock: tuple[ServerConnection, bool], msg: dict) -> None:
        try:
            await sock[0].send(encode(msg, sock[1]))
        except ConnectionClosed:
            pass


class BaselineServer:
    """Routes `/ws/match/<id>/?player=N&enc=...` sockets to rooms made on first join."""

    def __init__(self, tick_rate: int, arena: float, full: bool):
        self.tick_rate, self.arena, self.full = tick_rate, arena, full
        self.rooms: dict[str, Room] = {}

    async def handler(self, ws: ServerConnection) -> None:
        parts = urlsplit(ws.request.path)
        segments = [s for s in parts.path.split("/") if s]
        query = parse_qs(parts.query)
        try:
            if len(segments) != 3 or segments[:2] != ["ws", "match"]:
                raise ValueError("path")
            player = int(query["player"][0])
            if not 1 <= player <= limits.MAX_ID:
                raise ValueError("player")
        except (ValueError, KeyError):
            await ws.close(4404, "use /ws/match/<id>/?player=N")
            return
        binary = query.get("enc", [""])[0] == "msgpack"
        match_id = segments[2]
        room = self.rooms.get(match_id)
        if room is None:
            room = self.rooms[match_id] = Room(match_id, self.tick_rate, self.arena, self.full, self.rooms)
        try:
            await room.join(player, ws, binary)
            async for frame in ws:
                await room.receive(player, ws, binary, frame)
        except ConnectionClosed:
            pass
        finally:
            room.leave(player, ws)
            if not room.sockets and not room.state.ended:
                room.dispose()  # a join that failed before its seat was taken


async def main(host: str, port: int, mode: str, tick_rate: int, arena: float) -> None:
    server = BaselineServer(tick_rate, arena, full=mode == "full")
    # No permessage-deflate: Daphne offers none, and the figures compare like with like.
    async with serve(
        server.handler, host, port, compression=None, max_size=limits.MAX_FRAME_BYTES * 4
    ) as ws_server:
        bound = ws_server.sockets[0].getsockname()
        print(f"baseline ({mode}) listening on ws://{bound[0]}:{bound[1]}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--mode", choices=["delta", "full"], default="delta")
    parser.add_argument("--tick-rate", type=int, default=20)
    parser.add_argument("--arena", type=float, default=match_limits.DEFAULT_ARENA)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(main(args.host, args.port, args.mode, args.tick_rate, args.arena))
    except KeyboardInterrupt:
        pass
