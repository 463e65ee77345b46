"""A counting WebSocket client: frames are counted and skipped, not assembled or decoded.

The `websockets` library spends tens of microseconds on every frame it hands over; a bot
that only needs to know how much arrived cannot afford that at hundreds of sockets times
20 snapshots a second. This is the client side of RFC 6455 reduced to that job: a plain
HTTP/1.1 upgrade, unmasked server frames parsed header by header, payloads skipped unless
asked for (`deliver`) or small (a `reject` is recognised by its first bytes), pings
answered, close frames echoed. Frames it sends are masked as the RFC requires.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import msgpack

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SMALL = 256  # payloads up to this size are kept, to recognise rejects
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class HandshakeError(ConnectionError):
    """The server refused the upgrade (its status line says why)."""


class Closed(ConnectionError):
    """The socket is closed; nothing more can be sent."""


def _mask(payload: bytes) -> bytes:
    key = os.urandom(4)
    n = len(payload)
    if n == 0:
        return key
    stream = (key * (n // 4 + 1))[:n]
    return key + (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (FIN set)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + _mask(payload)


class CountingProtocol(asyncio.Protocol):
    """Counts data messages and their payload bytes into `counters` (`bytes_in`, `msgs_in`,
    `rejected`); hands whole messages to `on_message` (at first: `inbox`) only while `deliver`
    is set."""

    def __init__(self, counters, on_close: Callable[[int | None], None] | None = None):
        self.counters = counters
        self.on_close = on_close
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()  # the welcome may come with the upgrade
        self.on_message: Callable[[bytes], None] | None = self.inbox.put_nowait
        self.deliver = True
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened = loop.create_future()
        self.closed = loop.create_future()
        self.expect_accept = b""
        self.close_code: int | None = None
        self._handshaking = True
        self._buf = bytearray()  # the handshake answer, or a frame header split across reads
        self._left = 0  # payload bytes of the current frame still to come
        self._payload: bytearray | None = None  # kept payload of the current frame
        self._message: bytearray | None = None  # a fragmented message being kept
        self._ctrl = 0  # the opcode of the current frame if it is a control frame
        self._fin = True

    # -- asyncio ------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)
            if self.on_close is not None:
                self.on_close(self.close_code)

    def data_received(self, data: bytes) -> None:
        if self._handshaking:
            self._buf += data
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, rest = bytes(self._buf[:end]), bytes(self._buf[end + 4 :])
            self._buf.clear()
            self._handshaking = False
            self._check_handshake(head)
            if not rest:
                return
            data = rest
        self._frames(data)

    # -- frames -------------------------------------------------------------------------
    def _frames(self, data: bytes) -> None:
        if self._buf:
            data = bytes(self._buf) + data
            self._buf.clear()
        i, n = 0, len(data)
        while i < n:
            if self._left:
                take = min(self._left, n - i)
                if self._payload is not None:
                    self._payload += data[i : i + take]
                i += take
                self._left -= take
                if not self._left:
                    self._frame_done()
                continue
            if n - i < 2:
                self._buf += data[i:]
                return
            b0, b1 = data[i], data[i + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - i < 4:
                    self._buf += data[i:]
                    return
                length, head = int.from_bytes(data[i + 2 : i + 4], "big"), 4
            elif length == 127:
                if n - i < 10:
                    self._buf += data[i:]
                    return
                length, head = int.from_bytes(data[i + 2 : i + 10], "big"), 10
            i += head
            opcode = b0 & 0x0F
            self._fin = bool(b0 & 0x80)
            self._ctrl = opcode if opcode >= OP_CLOSE else 0  # control frames may come between fragments
            keep = opcode >= OP_CLOSE or self.deliver or length <= SMALL or self._message is not None
            if opcode < OP_CLOSE:
                self.counters.bytes_in += length
            self._payload = bytearray() if keep else None
            self._left = length
            if not length:
                self._frame_done()

    def _frame_done(self) -> None:
        payload, self._payload = self._payload, None
        op = self._ctrl
        if op == OP_PING:
            self._write(frame(OP_PONG, bytes(payload or b"")))
            return
        if op == OP_PONG:
            return
        if op == OP_CLOSE:
            payload = payload or b""
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._write(frame(OP_CLOSE, bytes(payload[:2])))
            return
        if op:
            return
        if not self._fin:  # a fragment: keep the message only if it is wanted whole
            if payload is not None and (self.deliver or self._message is not None):
                self._message = (self._message or bytearray()) + payload
            return
        if self._message is not None:
            payload = self._message + (payload or b"")
            self._message = None
        self.counters.msgs_in += 1
        if payload is None:
            return
        if self.deliver and self.on_message is not None:
            self.on_message(bytes(payload))
        elif b"reject" in payload[:20]:
            self.counters.rejected += 1

    # -- handshake ----------------------------------------------------------------------
    def _check_handshake(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if len(status) < 2 or status[1] != b"101":
            err = HandshakeError(f"upgrade refused: {lines[0].decode(errors='replace')}")
        elif headers.get(b"sec-websocket-accept") != self.expect_accept:
            err = HandshakeError("upgrade answered with a wrong Sec-WebSocket-Accept")
        else:
            self.opened.set_result(None)
            return
        self.opened.set_exception(err)
        self.transport.close()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class CountingSocket:
    """A match socket for a bot that only counts: same `cmd`/`send`/`recv`/`close` as Socket."""

    def __init__(self, proto: CountingProtocol, binary: bool):
        self.proto, self.binary = proto, binary
        self.seq = 0
        self.tick = 0

    @classmethod
    async def connect(
        cls,
        uri: str,
        counters,
        origin: str,
        cookie: str = "",
        binary: bool = False,
        on_close=None,
        timeout: float = 60,
    ) -> CountingSocket:
        parts = urlsplit(uri)
        if parts.scheme != "ws":
            raise ValueError("the counting client speaks plain ws:// only")
        loop = asyncio.get_running_loop()
        transport, proto = await asyncio.wait_for(
            loop.create_connection(
                lambda: CountingProtocol(counters, on_close), parts.hostname, parts.port or 80
            ),
            timeout,
        )
        key = base64.b64encode(os.urandom(16))
        proto.expect_accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {origin}",
        ]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            await asyncio.wait_for(proto.opened, timeout)
        except BaseException:
            transport.close()
            raise
        return cls(proto, binary)

    def listen(self, on_message: Callable[[bytes], None] | None) -> None:
        """Hand whole messages to `on_message` from now on; None: count only."""
        self.proto.on_message = on_message
        self.proto.deliver = on_message is not None

    async def recv_raw(self, timeout: float) -> bytes:
        return await asyncio.wait_for(self.proto.inbox.get(), timeout)

    async def send(self, msg: dict) -> None:
        if self.proto.closed.done():
            raise Closed("the socket is closed")
        if self.binary:
            self.proto._write(frame(OP_BINARY, msgpack.packb(msg)))
        else:
            self.proto._write(frame(OP_TEXT, json.dumps(msg, separators=(",", ":")).encode()))

    async def cmd(self, op: str, **fields) -> tuple[int, float]:
        self.seq += 1
        await self.send({"type": "cmd", "seq": self.seq, "tick": self.tick, "op": op, **fields})
        return self.seq, time.monotonic()

    async def close(self) -> None:
        proto = self.proto
        if not proto.closed.done():
            proto._write(frame(OP_CLOSE, (1000).to_bytes(2, "big")))
            try:
                await asyncio.wait_for(asyncio.shield(proto.closed), 2)
            except TimeoutError:
                pass
        if proto.transport is not None:
            proto.transport.close()
