"""Frame once, write many (game/transport/frames.py, game/edge/fanout.py).

Through a real Daphne: frames written as prepared bytes decode in a standard client
(`websockets`), each encoding gets its own, a socket joining mid-match gets its welcome and
then only what is newer, and a correction arrives before the snap that shows it. And what
frames.py relies on from autobahn, Daphne and Twisted is checked by name, so an upgrade
that changes it fails here, loudly, not in production.
"""

import asyncio
import inspect
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cubearena.liveserver import LiveServer
from loadbots.client import Account

from ..own_loop import in_own_loop

ROOT = Path(__file__).resolve().parents[2]


def pinned(package: str) -> str:
    text = (ROOT / "requirements.txt").read_text()
    found = re.search(rf"^{re.escape(package)}==(\S+)$", text, re.M | re.I)
    assert found, f"{package} is not pinned in requirements.txt (frames.py relies on its internals)"
    return found.group(1)


def test_what_frames_relies_on_is_still_there():
    import autobahn
    import daphne
    import twisted
    from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol, WebSocketServerFactory
    from daphne.server import Server
    from twisted.internet import abstract, tcp

    assert autobahn.__version__ == pinned("autobahn")
    assert twisted.__version__ == pinned("Twisted")
    assert daphne.__version__ == pinned("daphne")
    # autobahn: the public broadcast API, and the attributes read before a write
    assert list(inspect.signature(WebSocketServerFactory.prepareMessage).parameters)[:3] == [
        "self",
        "payload",
        "isBinary",
    ]
    assert callable(WebSocketProtocol.sendPreparedMessage)
    frame = PreparedMessage(b"\x01\x02", True, False, False).payloadHybi
    assert frame == b"\x82\x02\x01\x02", "an unmasked binary frame: FIN + opcode 2, length 2"
    assert WebSocketProtocol.STATE_OPEN != WebSocketProtocol.STATE_CLOSING
    init = inspect.getsource(WebSocketProtocol)
    for name in ("self.send_queue", "self._perMessageCompress", "self.state"):
        assert name in init, f"autobahn's WebSocketProtocol no longer has {name}"
    assert "autoFragmentSize" in inspect.getsource(WebSocketServerFactory)
    from autobahn.twisted.websocket import WebSocketAdapterProtocol, WebSocketServerProtocol

    assert callable(WebSocketServerProtocol._dataReceived)  # what our dataReceived hands bytes to
    for name in ("self.data", "self.current_frame", "self.inside_message", "self.failedByMe"):
        assert name in init, f"autobahn's WebSocketProtocol no longer has {name} (take_small_frames)"
    assert "self.trafficStats.incomingOctetsWireLevel += len(data)" in inspect.getsource(
        WebSocketProtocol._dataReceived
    )
    assert "self._onMessage(payload, self.message_is_binary)" in inspect.getsource(
        WebSocketProtocol.onMessageEnd
    )
    assert "self._dataReceived(data)" in inspect.getsource(WebSocketAdapterProtocol.dataReceived)
    # Daphne: where each application instance is made, with its protocol at hand
    assert list(inspect.signature(Server.create_application).parameters) == ["self", "protocol", "scope"]
    # ... its input queue, which the socket's protocol keeps and puts everything on (feeder)
    import daphne.server
    from daphne.ws_protocol import WebSocketProtocol as DaphneSocket

    assert "input_queue = asyncio.Queue()" in inspect.getsource(daphne.server)  # (install wraps the method)
    socket_source = inspect.getsource(DaphneSocket)
    assert "self.application_queue = application_queue" in socket_source
    for kind in ("websocket.connect", "websocket.receive", "websocket.disconnect"):
        assert re.search(rf"application_queue\.put_nowait\(\s*{{\s*\"type\": \"{kind}\"", socket_source), kind
    # Twisted: the backlog's buffers, and the one-syscall write
    assert callable(tcp.Connection.writeSomeData)
    source = inspect.getsource(abstract.FileDescriptor)
    for name in ("self.dataBuffer", "self.offset", "self._tempDataLen", "self.connected"):
        assert name in source, f"Twisted's FileDescriptor no longer has {name}"


@in_own_loop
async def test_the_feeder_hands_daphnes_messages_to_the_inbox_in_order():
    from game.transport import frames

    class Protocol:  # what Daphne's socket protocol holds: the application's input queue
        application_queue: asyncio.Queue

    protocol = Protocol()
    protocol.application_queue = asyncio.Queue()
    protocol.application_queue.put_nowait({"type": "websocket.connect"})
    feed = frames.feeder({"extensions": {frames.EXTENSION: protocol}})
    inbox: asyncio.Queue = asyncio.Queue()
    feed(inbox)
    protocol.application_queue.put_nowait({"type": "websocket.receive", "bytes": b"1"})
    assert [inbox.get_nowait()[1]["type"] for _ in range(2)] == ["websocket.connect", "websocket.receive"]
    assert frames.feeder({}) is None  # no Daphne (WebsocketCommunicator): the consumer reads receive


def masked(
    payload: bytes, binary: bool, mask: bytes = b"\x0f\xa0\x5c\x33", first: int | None = None
) -> bytes:
    """A client's frame, as a browser sends it: FIN, masked."""
    head = first if first is not None else (0x82 if binary else 0x81)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([head, 0x80 | len(payload)]) + mask + body


class FakeProtocol:
    """What take_small_frames touches of autobahn's protocol."""

    STATE_OPEN, STATE_CLOSED = 3, 0

    def __init__(self):
        from types import SimpleNamespace

        self.state = self.STATE_OPEN
        self.trafficStats = SimpleNamespace(incomingOctetsWireLevel=0)
        self.got: list[tuple[bytes, bool]] = []

    def onMessage(self, payload, binary):
        self.got.append((payload, binary))
        if payload == b"close me":
            self.state = self.STATE_CLOSED


def test_small_whole_frames_are_read_here_and_the_rest_is_left_to_autobahn():
    from game.transport.frames import take_small_frames

    text = b'{"type":"cmd","seq":7,"op":"move","ids":[3],"to":[1.5,-2]}'
    binary = bytes(range(125))  # the longest a one-byte length holds
    ping = bytes([0x89, 0x80]) + b"abcd"  # a control frame: autobahn's
    proto = FakeProtocol()
    stream = masked(text, False) + masked(binary, True) + masked(b"", True) + ping + masked(b"after", True)
    rest = take_small_frames(proto, stream)
    assert proto.got == [(text, False), (binary, True), (b"", True)]
    assert rest == ping + masked(b"after", True)
    assert proto.trafficStats.incomingOctetsWireLevel == len(stream) - len(rest)
    cut = masked(b"a command cut by the read", True)
    assert take_small_frames(proto, cut[:10]) == cut[:10]  # autobahn buffers it
    for left in (
        masked(b"x" * 126, True)[:2] + b"\x00" * 10,  # a longer frame (two-byte length)
        masked(b"part", True, first=0x02),  # no FIN: fragmented
        masked(b"rsv", True, first=0xC2),  # RSV1 set
        bytes([0x82, 0x03]) + b"abc",  # unmasked
        masked(b"\xff\xfe", False),  # text that is not UTF-8: autobahn closes with 1007
    ):
        assert take_small_frames(FakeProtocol(), left) == left
    closing = FakeProtocol()
    assert take_small_frames(closing, masked(b"close me", True) + masked(b"unread", True)) == b""
    assert closing.got == [(b"close me", True)]


def metric(server: LiveServer, name: str, **labels) -> float:
    text = urllib.request.urlopen(server.url + "/metrics", timeout=5).read().decode()
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}\{{{want}\}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def until(sock, test, timeout: float = 10.0) -> list[dict]:
    """Messages read until one passes `test` (that one last), within `timeout`."""
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            seen.append(await sock.recv())
            if test(seen[-1]):
                return seen


def ents(snap: dict, binary: bool) -> dict[int, tuple[float, float]]:
    """id -> (x, z) in units, either encoding."""
    if binary:
        return {e[0]: (e[2] / 100, e[3] / 100) for e in snap["ents"]}
    return {e["id"]: (e["x"], e["z"]) for e in snap["ents"]}


async def scenario(server: LiveServer) -> dict:
    alice, bob, carol = Account(server.url), Account(server.url), Account(server.url)
    alice_id = await alice.guest("alice")
    bob_id = await bob.guest("bob")
    await carol.guest("carol")
    match = await alice.create_match("frames", max_players=8, tick_rate=20)
    a = await alice.open_socket(match, enc="json")
    b = await bob.open_socket(match, enc="msgpack")
    out: dict = {"welcomes": [await a.recv(), await b.recv()]}
    a.seq = out["welcomes"][0]["ack"] or 0
    b.seq = out["welcomes"][1]["ack"] or 0
    await a.cmd("spawn", at=[1, 1], cid="a1")
    await b.cmd("spawn", at=[-1, -1], cid="b1")

    def owners(msg, binary):
        if msg.get("type") != "snap":
            return set()
        return {e[1] if binary else e["owner"] for e in msg["ents"]}

    # Each encoding gets its own frames: text for alice, binary for bob, both cubes in each.
    seen_a = await until(a, lambda m: {alice_id, bob_id} <= owners(m, False))
    seen_b = await until(b, lambda m: {alice_id, bob_id} <= owners(m, True))
    out["a_snap"], out["b_snap"] = seen_a[-1], seen_b[-1]
    cube = next(i for i, (x, _) in ents(seen_a[-1], False).items() if x == 1)

    # A socket joining mid-match: its welcome, then only newer ticks.
    c = await carol.open_socket(match, enc="msgpack")
    out["c_welcome"] = await c.recv()
    out["c_after"] = [await c.recv() for _ in range(12)]

    # A correction (an operator's move) is read before any snap that shows its result.
    await asyncio.to_thread(
        server.manage, "operate", match["id"], "move", "--ids", str(cube), "--to", "10", "-5"
    )
    out["a_after_operate"] = await until(
        a, lambda m: m.get("type") == "snap" and ents(m, False).get(cube) == (10, -5), timeout=15
    )
    out["b_after_operate"] = await until(
        b, lambda m: m.get("type") == "snap" and ents(m, True).get(cube) == (10, -5), timeout=15
    )
    out["cube"] = cube
    for s in (a, b, c):
        await s.close()
    return out


def test_a_live_server_frames_once_and_a_standard_client_reads_every_frame_in_order():
    with LiveServer() as server:
        with ThreadPoolExecutor(1) as pool:  # a loop of its own: Playwright may hold this thread's
            out = pool.submit(asyncio.run, scenario(server)).result()
        direct = metric(server, "cubearena_frames_written_total", route="direct")
        through_consumer = metric(server, "cubearena_frames_written_total", route="consumer")
    # Real frames, decoded by `websockets`: JSON for one socket, msgpack for the other.
    assert out["a_snap"]["type"] == "snap" and isinstance(out["a_snap"]["ents"][0], dict)
    assert out["b_snap"]["type"] == "snap" and isinstance(out["b_snap"]["ents"][0], list)
    assert out["a_snap"]["tick"] > out["welcomes"][0]["snap"]["tick"]
    # Mid-match join: the welcome, then nothing at or below its tick.
    welcome = out["c_welcome"]
    assert welcome["type"] == "welcome" and welcome["snap"]["tick"] > 0
    snaps = [m for m in out["c_after"] if m["type"] == "snap"]
    assert snaps, out["c_after"]
    assert all(s["tick"] > welcome["snap"]["tick"] for s in snaps), [s["tick"] for s in snaps]
    assert [s["tick"] for s in snaps] == sorted({s["tick"] for s in snaps})
    # The correction first, then the snap showing the cube where the operator put it.
    for key in ("a_after_operate", "b_after_operate"):
        kinds = [m["type"] for m in out[key]]
        assert "correction" in kinds, kinds
        correction = kinds.index("correction")
        assert out["cube"] in out[key][correction]["ids"]
        assert correction < len(kinds) - 1, "the snap showing the move came before its correction"
    # Every frame went the direct way: framed once, written as bytes.
    assert direct > 0 and through_consumer == 0, (direct, through_consumer)
