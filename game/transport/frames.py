"""Frame once, write many: what the fan-out relies on from Daphne, autobahn and Twisted.

Server-to-client WebSocket frames are not masked, so one framed snapshot can go to every
socket that reads its encoding. This module is the only place that knows how:
- the socket's protocol object is reached through the scope: `install` wraps Daphne's
  `Server.create_application` (where Daphne builds each application instance) to put it in
  `scope["extensions"]["cubearena.ws"]`, the ASGI spec's place for server extensions.
  Elsewhere (WebsocketCommunicator, another server) there is no such key and the fan-out
  falls back to the consumer's ordinary send;
- a frame is prepared with autobahn's public `factory.prepareMessage` (framed once) and
  written with the protocol's own `sendPreparedMessage`, or, when autobahn has nothing
  queued, straight into the socket (Twisted's `writeSomeData`) when Twisted's buffer is
  empty: one `send` syscall instead of registering the socket with the reactor and
  writing on its next turn;
- a socket is written to only while open (not closing), and only without permessage-deflate
  and without fragmentation (Daphne negotiates neither; `usable` checks it per socket);
- a socket whose unread backlog passes its bound is dropped (game/transport/backpressure.py);
- what the socket receives goes on to autobahn's frame parser without the debug line autobahn
  formats for every read, and the small whole frames a player sends (a command: one masked
  text or binary frame, FIN set, under 126 bytes) are read here and handed to the protocol's
  `onMessage` as autobahn would (`take_small_frames`): autobahn's general parser (a masker
  object, five callbacks and a join per frame) was most of a command's cost on the way in.
  Anything else (control frames, longer or fragmented ones, bad UTF-8, a frame cut by the
  read) goes to autobahn, which then has the rest of the read;
- what Daphne hands the application (connect, each frame, disconnect) goes straight into the
  consumer's inbox (`feeder`): Daphne puts it on the socket's `application_queue`, which is
  replaced by a stand-in that puts into the inbox, so no pump task wakes per frame to move
  it from one queue to the other.

requirements.txt pins autobahn and Twisted; tests/game/test_frames.py fails loudly if an
upgrade changes any of the attributes read here.
"""

from __future__ import annotations

import asyncio
import logging
import math

from game.transport import backpressure

log = logging.getLogger("game.socket")

EXTENSION = "cubearena.ws"


def install() -> None:
    """Give every WebSocket scope its protocol object (idempotent; a no-op without Daphne)."""
    try:
        from daphne.server import Server
    except ImportError:
        return
    if getattr(Server.create_application, "exposes_protocol", False):
        return
    original = Server.create_application

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket":
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), EXTENSION: protocol}}
        return original(self, protocol, scope)

    create_application.exposes_protocol = True
    Server.create_application = create_application

    # autobahn formats a debug line (hltype, hlval) for every read even with debug logging
    # off: 1-2 % of the server at 200 players. Hand the bytes on as it does, without it.
    from autobahn.twisted.websocket import WebSocketAdapterProtocol

    def dataReceived(self, data: bytes) -> None:
        if (
            self.state == self.STATE_OPEN
            and not self.data
            and self.current_frame is None
            and not self.inside_message
            and self._perMessageCompress is None
            and not self.failedByMe
        ):
            data = take_small_frames(self, data)
            if not data:
                return
        self._dataReceived(data)

    WebSocketAdapterProtocol.dataReceived = dataReceived


class _Feed:
    """Stands in for Daphne's per-socket input queue: what Daphne puts on it goes into the
    consumer's inbox as an inbox item, in the order Daphne put it."""

    __slots__ = ("inbox",)

    def __init__(self, inbox: asyncio.Queue):
        self.inbox = inbox

    def put_nowait(self, message: dict) -> None:
        self.inbox.put_nowait((math.inf, message))


TEXT, BINARY = 0x81, 0x82  # FIN + opcode, no RSV bits


def take_small_frames(protocol, data: bytes) -> bytes:
    """Hand each whole small masked data frame at the front of `data` to `protocol.onMessage`;
    what is left (from the first frame this does not take) is for autobahn."""
    at, end = 0, len(data)
    while end - at >= 6:
        first, second = data[at], data[at + 1]
        length = second & 0x7F
        if (first != TEXT and first != BINARY) or not second & 0x80 or length > 125:
            break  # a control frame, a longer or fragmented one, an unmasked one: autobahn's
        stop = at + 6 + length
        if stop > end:
            break  # cut by the read: autobahn buffers it
        mask = data[at + 2 : at + 6] * (length // 4 + 1)
        payload = (
            int.from_bytes(data[at + 6 : stop], "little") ^ int.from_bytes(mask[:length], "little")
        ).to_bytes(length, "little")
        if first == TEXT:
            try:
                payload.decode()
            except UnicodeDecodeError:
                break  # autobahn fails the connection with the right close code
        protocol.trafficStats.incomingOctetsWireLevel += stop - at
        at = stop
        protocol.onMessage(payload, first == BINARY)
        if protocol.state != protocol.STATE_OPEN:
            return b""  # closed by what it read: the rest is not read (as autobahn does)
    return data[at:]


def feeder(scope):
    """A function that has Daphne put this socket's messages straight into a consumer's inbox
    from then on, after what it has put already; None where there is no Daphne protocol to
    ask (the consumer reads `receive` as usual). The inbox must be unbounded, as Daphne's own
    queue is: nothing it hands over may be refused."""
    protocol = (scope.get("extensions") or {}).get(EXTENSION)
    queue = getattr(protocol, "application_queue", None)
    if not isinstance(queue, asyncio.Queue):
        return None

    def feed(inbox: asyncio.Queue) -> None:
        assert not inbox.maxsize, "Daphne's messages must not meet a full inbox"
        while not queue.empty():
            inbox.put_nowait((math.inf, queue.get_nowait()))
        protocol.application_queue = _Feed(inbox)

    return feed


def protocol_of(scope):
    """The socket's autobahn protocol, if frames may be written to it directly; else None."""
    protocol = (scope.get("extensions") or {}).get(EXTENSION)
    if protocol is None:
        return None
    if not usable(protocol):
        log.warning("socket %s: compression or fragmentation on; frames go the ordinary way", protocol)
        return None
    return protocol


def usable(protocol) -> bool:
    """A prepared frame is the exact bytes to send only without compression and fragmentation."""
    return protocol._perMessageCompress is None and not protocol.autoFragmentSize


def prepare(protocol, payload: str | bytes):
    """Frame `payload` once (text for str, binary for bytes), for any socket of this server."""
    binary = isinstance(payload, bytes)
    return protocol.factory.prepareMessage(payload if binary else payload.encode(), binary)


def is_open(protocol) -> bool:
    return protocol.state == protocol.STATE_OPEN


def write(protocol, prepared) -> bool:
    """Write a prepared frame; False if the socket is not open or was just dropped as a slow reader."""
    if protocol.state != protocol.STATE_OPEN:
        return False
    transport = protocol.transport
    if transport is None:
        return False
    backlog = backpressure.transport_backlog(transport)
    if backlog and backpressure.drop_if_slow(protocol, backlog):
        return False
    if protocol.send_queue:  # autobahn holds frames back (sync or chopped sends): keep the order
        protocol.sendPreparedMessage(prepared)
        return True
    frame = prepared.payloadHybi
    straight = getattr(transport, "writeSomeData", None)
    if not backlog and straight is not None and transport.connected:
        sent = straight(frame)
        if not isinstance(sent, int):  # the connection is lost: Twisted reports it on its own
            return False
        if sent == len(frame):
            return True
        frame = frame[sent:]
    transport.write(frame)
    return True
