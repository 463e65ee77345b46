"""A lean Redis connection for the calls made every tick and every second: the owners' log
appends, the stale watch's look, the load advert.

redis-py's asyncio client spends ~110-160 us of CPU on a call (a connection checked out of
its pool and back, a task to send, `wait_for` around the read, its observability hooks: ~380
Python calls), where the call's own work, a write and a read on one socket, costs a few tens.
Here requests go out on one connection as they come and their answers are matched to them in
order, inside the protocol's `data_received`: no task, no pool, one timer a request.

Only what those calls need: commands and Lua scripts, RESP2 replies, AUTH and SELECT from the URL, `redis://`,
`rediss://` and `unix://`. A request that is not answered within `timeout` closes the
connection (its answer could no longer be told from the next one's) and fails every request
on it; the next request connects again.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit


class ReplyError(Exception):
    """Redis answered with an error (`-ERR ...`, `-NOSCRIPT ...`)."""


class Script:
    """A Lua script: its text, and the SHA1 Redis knows it by once it ran."""

    def __init__(self, text: str):
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()


def encode(args) -> bytes:
    """A command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int | float):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


_MORE = object()  # the buffer does not hold the whole reply yet


class Parser:
    """RESP2 replies from a stream of bytes: `feed`, then `next()` until it returns `_MORE`.
    An error reply is a ReplyError, returned (inside an array too), not raised."""

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0

    def feed(self, data: bytes) -> None:
        if self.pos:
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += data

    def next(self):
        start = self.pos
        reply = self._one()
        if reply is _MORE:
            self.pos = start
        return reply

    def _line(self):
        end = self.buf.find(b"\r\n", self.pos)
        if end < 0:
            return None
        line = bytes(self.buf[self.pos : end])
        self.pos = end + 2
        return line

    def _one(self):
        line = self._line()
        if line is None:
            return _MORE
        kind, rest = line[:1], line[1:]
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            if len(self.buf) < self.pos + size + 2:
                return _MORE
            data = bytes(self.buf[self.pos : self.pos + size])
            self.pos += size + 2
            return data
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None
            items = []
            for _ in range(count):
                item = self._one()
                if item is _MORE:
                    return _MORE
                items.append(item)
            return items
        if kind == b"+":
            return rest
        if kind == b"-":
            return ReplyError(rest.decode(errors="replace"))
        raise ConnectionError(f"not a Redis reply: {line[:40]!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.parser = Parser()
        self.waiting: deque[Callable] = deque()  # an answer's taker per request, in order
        self.lost: Exception | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        while self.waiting:
            try:
                reply = self.parser.next()
            except ConnectionError as exc:
                self.fail(exc)
                return
            if reply is _MORE:
                return
            self.waiting.popleft()(reply)

    def connection_lost(self, exc) -> None:
        self.fail(exc or ConnectionError("Redis closed the connection"))

    def fail(self, exc: Exception) -> None:
        if self.lost is None:
            self.lost = exc if isinstance(exc, ConnectionError | TimeoutError) else ConnectionError(repr(exc))
        if self.transport is not None:
            self.transport.abort()
        while self.waiting:
            self.waiting.popleft()(self.lost)


class RespConnection:
    """One connection to the Redis of `url`, opened on the first request and again after a loss."""

    def __init__(self, url: str, timeout: float = 1.0):
        self.url, self.timeout = url, timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future | None = None

    async def call(self, *args):
        """One command's reply (a ReplyError is raised); ConnectionError or TimeoutError if
        Redis cannot be reached or does not answer within the timeout."""
        protocol = await self.ready()
        return await self._ask(lambda take: self.send(protocol, encode(args), take))

    async def script(self, script: Script, keys, args):
        """A Lua script's reply, raised as `call`'s (see `send_script`)."""
        protocol = await self.ready()
        return await self._ask(lambda take: self.send_script(protocol, script, keys, args, take))

    def current(self) -> _Protocol | None:
        """The connection as it is, without connecting (for `send`, which needs no await)."""
        return self._protocol

    def send(self, protocol: _Protocol | None, payload: bytes, take: Callable) -> None:
        """Write a request; `take` gets its reply (a ReplyError as a value) or the connection's
        error (ConnectionError, TimeoutError), exactly once."""
        if protocol is None or protocol.lost is not None:
            take(protocol.lost if protocol is not None else ConnectionError("not connected to Redis"))
            return
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.timeout, protocol.fail, TimeoutError("Redis did not answer in time"))

        def taken(reply) -> None:
            timer.cancel()
            take(reply)

        protocol.waiting.append(taken)
        protocol.transport.write(payload)

    def send_script(self, protocol: _Protocol | None, script: Script, keys, args, take: Callable) -> None:
        """Run a Lua script as `send` writes a request: EVALSHA, or EVAL with its text once if
        Redis does not have it (a restart lost its scripts; EVAL puts it back)."""

        def again_if_unknown(reply) -> None:
            if isinstance(reply, ReplyError) and str(reply).startswith("NOSCRIPT"):
                self.send(protocol, encode(("EVAL", script.text, len(keys), *keys, *args)), take)
            else:
                take(reply)

        self.send(protocol, encode(("EVALSHA", script.sha, len(keys), *keys, *args)), again_if_unknown)

    async def _ask(self, start: Callable) -> object:
        """What `start(take)` gets back, as `call` returns it."""
        done = asyncio.get_running_loop().create_future()

        def take(reply) -> None:
            if done.done():
                return
            if isinstance(reply, ConnectionError | TimeoutError | ReplyError):
                done.set_exception(reply)
            else:
                done.set_result(reply)

        start(take)
        return await done

    async def ready(self) -> _Protocol:
        """The open connection (connecting first if there is none)."""
        protocol = self._protocol
        if protocol is not None and protocol.lost is None:
            return protocol
        if self._connecting is None:  # one connection attempt at a time; the others wait for it
            self._connecting = asyncio.ensure_future(self._connect())
        try:
            return await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        parts = urlsplit(self.url)
        if parts.scheme == "unix":
            connect = loop.create_unix_connection(_Protocol, parts.path)
        elif parts.scheme in ("redis", "rediss"):
            tls = ssl.create_default_context() if parts.scheme == "rediss" else None
            host, port = parts.hostname or "localhost", parts.port or 6379
            connect = loop.create_connection(_Protocol, host, port, ssl=tls)
        else:
            raise ValueError(f"not a Redis URL: {self.url!r}")
        try:
            _, protocol = await asyncio.wait_for(connect, self.timeout)
        except TimeoutError:
            raise TimeoutError("Redis did not accept the connection in time") from None
        except OSError as exc:
            raise ConnectionError(f"Redis unreachable: {exc}") from exc
        password = unquote(parts.password) if parts.password else None
        query = parse_qs(parts.query)
        db = query.get("db", [parts.path.strip("/") if parts.scheme != "unix" else ""])[0] or "0"
        try:
            if password is not None:
                user = unquote(parts.username) if parts.username else None
                auth = ("AUTH", user, password) if user else ("AUTH", password)
                await self._ask(lambda take: self.send(protocol, encode(auth), take))
            if db != "0":
                await self._ask(lambda take: self.send(protocol, encode(("SELECT", db)), take))
        except BaseException:
            protocol.fail(ConnectionError("Redis refused the connection's set-up"))
            raise
        self._protocol = protocol
        return protocol

    def close(self) -> None:
        if self._protocol is not None:
            self._protocol.fail(ConnectionError("closed"))
            self._protocol = None
