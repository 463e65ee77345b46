"""Let Daphne send the registered "try again" close codes (RFC 6455 section 7.4, IANA registry).

Autobahn, under Daphne, refuses every close code but 1000 and 3000-4999 and raises instead of
closing, so `close(code=1013)` ended in a traceback and a 1011 close. PROTOCOL.md's additions
use 1013 (try again later): a socket refused while the database is down, or whose join no game
server answered. This sends those codes' close frames (reason included) as autobahn would any other.
"""

# Codes a server may send: going away, internal error, service restart, try again later, bad gateway.
SERVER_CODES = frozenset({1001, 1011, 1012, 1013, 1014})


def install() -> None:
    """Wrap daphne.ws_protocol.WebSocketProtocol.sendClose once (idempotent)."""
    try:
        from autobahn.util import encode_truncate
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another server: its own rules
        return
    if getattr(WebSocketProtocol.sendClose, "registered_codes", False):
        return
    original = WebSocketProtocol.sendClose

    def sendClose(self, code=None, reason=None):
        if code not in SERVER_CODES:
            return original(self, code=code, reason=reason)
        reason_utf8 = encode_truncate(reason, 123) if reason else None
        self.sendCloseFrame(code=code, reasonUtf8=reason_utf8, isReply=False)

    sendClose.registered_codes = True
    WebSocketProtocol.sendClose = sendClose

    # A frame over Daphne's message bound (1 MiB) made autobahn drop the TCP connection (the
    # client saw 1006, no reason); close it with 1009 "message too big" instead.
    original_connect = WebSocketProtocol.onConnect

    def onConnect(self, request):
        self.failByDrop = False
        return original_connect(self, request)

    WebSocketProtocol.onConnect = onConnect
