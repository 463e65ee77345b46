"""Drop a WebSocket client that stops reading, before its backlog eats the server's memory.

(Also: pass a close's reason on to the client, which Daphne otherwise drops.)

Daphne writes every frame into Twisted's transport, whose buffer grows without limit when
the peer stops reading; the consumer cannot see it. This wraps Daphne's send to measure the
transport's backlog first and abort the connection once it passes SLOW_READER_BYTES. The
consumer then gets its ordinary disconnect, the player's seat stays, and nobody else waits:
the tick and the other sockets never block on a slow one. The kernel's send buffer is
capped too (SOCKET_SEND_BUFFER): left to autotune, loopback grows it to 4 MB, which would
hide a stalled reader for a minute.
"""

from __future__ import annotations

import logging
import socket

from django.conf import settings

log = logging.getLogger("game.socket")


def transport_backlog(transport) -> int:
    """Bytes written to a Twisted TCP transport and not yet taken by the kernel."""
    try:  # read for every frame written: plain attribute reads, not getattr with defaults
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:  # not a Twisted TCP transport (TLS wraps one): no backlog to see
        return 0


_bound: int | None = None  # read once: it is checked per frame


def drop_if_slow(protocol, backlog: int | None = None) -> bool:
    """Abort the connection if its unread backlog (measured, or given) passed the bound;
    True if it was (or is) dropped."""
    global _bound
    if getattr(protocol, "_dropped_slow", False):
        return True
    if _bound is None:
        _bound = settings.SLOW_READER_BYTES
    if backlog is None:
        backlog = transport_backlog(protocol.transport)
    if backlog <= _bound:
        return False
    protocol._dropped_slow = True
    log.warning(
        "dropping slow reader %s: %d bytes wait unread (bound %d)",
        getattr(protocol, "client_addr", None),
        backlog,
        _bound,
    )
    protocol.transport.abortConnection()
    return True


def install() -> None:
    """Wrap daphne.ws_protocol.WebSocketProtocol.serverSend once (idempotent)."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another server: it has its own flow control
        return
    if getattr(WebSocketProtocol.serverSend, "bounded", False):
        return
    original = WebSocketProtocol.serverSend
    original_made = WebSocketProtocol.connectionMade
    send_buffer = settings.SOCKET_SEND_BUFFER

    def connectionMade(self):
        handle = self.transport.getHandle() if self.transport is not None else None
        if isinstance(handle, socket.socket):
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        return original_made(self)

    def serverSend(self, content, binary=False):
        if self.state != self.STATE_OPEN:
            return  # a closing socket's last sends go nowhere, quietly (autobahn would raise)
        if self.transport is not None and drop_if_slow(self):
            return
        return original(self, content, binary)

    def handle_reply(self, message, _original=WebSocketProtocol.handle_reply):
        # Daphne drops a close's reason; players should read why (kicked, ended, replaced).
        if (
            message.get("type") == "websocket.close"
            and message.get("reason")
            and self.state == self.STATE_OPEN
        ):
            self.sendClose(code=message.get("code") or 1000, reason=str(message["reason"])[:120])
            return
        return _original(self, message)

    serverSend.bounded = True
    WebSocketProtocol.serverSend = serverSend
    WebSocketProtocol.connectionMade = connectionMade
    WebSocketProtocol.handle_reply = handle_reply
