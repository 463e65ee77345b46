"""Every message that crosses the channel layer, typed, and the one seam that encodes them.

Where processes meet over Redis a message is a plain dict (channels-redis serialises it
with msgpack); everywhere else it is one of the Structs below. `pack` makes the dict,
`unpack` checks one against what the receiving consumer accepts. A message of unknown
type, unknown version or wrong shape is logged (at most once a second per kind of fault)
and dropped: it never reaches a handler, and never takes a worker down.

Who sends what:
- socket -> `arbiter` (any worker): MatchStart; /healthz -> `arbiter`: ArbiterPing
- socket -> the owner's own channel: MatchJoin, MatchLeave, MatchCmd (MatchCmds, batched, when
  the owner is in another process), MatchResync, MatchEnd, MatchNote, MatchRtt, MatchAlive,
  MatchChat
- the worker -> its arbiter: ArbiterBoot (at start), ArbiterStop (SIGTERM); the stale
  watch -> its arbiter: MatchAdopt
- the arbiter -> itself (timers and finished database work, so that every change to a match
  happens on its dispatch loop): MatchTick, MatchFlushDue, MatchAuditDue, MatchClaimed,
  MatchFlushed (the final write is the closing task's own, after the match is disposed)
- the arbiter -> `auditor`: AuditBatch; the auditor -> the owner: MatchVerdicts
- the arbiter -> one socket or the match's group: Game*
The lobby's one message, `lobby.changed` (no fields, to the lobby pages' group), is the
lobby's own (lobby/notify.py): lobby imports nothing of game.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Literal, get_args

import msgspec
from channels.exceptions import ChannelFull
from msgspec import Struct

from game import metrics
from game.sim.commands import Command
from game.sim.verdicts import Verdict

log = logging.getLogger("game.messages")

VERSION = 1
ARBITER_CHANNEL = "arbiter"  # start requests any worker may take
AUDITOR_CHANNEL = "auditor"  # batches for the slow rules, any auditor


class Message(Struct, tag_field="type", kw_only=True, gc=False):
    """gc=False: thousands are made a second and none can be part of a reference cycle (they
    hold plain data), so the collector need not track them; tracked, they made its full
    collections, pauses of the shared loop, more frequent."""

    v: int = VERSION


# -- to the arbiter ----------------------------------------------------------------------
class MatchJoin(Message, tag="match.join", kw_only=True):
    """A socket joins (player) or watches (player None); `reply` is its channel."""

    match: str
    player: int | None
    nickname: str = ""
    color: str | None = None
    enc: Literal["json", "msgpack"] = "json"
    reply: str


class MatchStart(Message, tag="match.start", kw_only=True):
    """To `arbiter`: own the match (start or adopt it), then join the socket."""

    match: str
    join: MatchJoin


class MatchAdopt(Message, tag="match.adopt", kw_only=True):
    """The stale watch -> its own arbiter: this running match has no live owner; take it."""

    match: str


class ArbiterBoot(Message, tag="arbiter.boot", kw_only=True):
    """The worker -> its arbiter, at start: be live (start the stale watch) before any socket asks."""


class ArbiterStop(Message, tag="arbiter.stop", kw_only=True):
    """The worker -> its arbiter, on SIGTERM: hand every match over, then let the process go."""


class MatchAlive(Message, tag="match.alive", kw_only=True):
    """A socket -> the owner, every few seconds: it is still there (a seat whose socket stops
    saying so goes offline, whichever process died)."""

    match: str
    player: int | None
    reply: str


class ArbiterPing(Message, tag="arbiter.ping", kw_only=True):
    reply: str


class MatchLeave(Message, tag="match.leave", kw_only=True):
    match: str
    player: int | None
    reply: str


class MatchCmd(Message, tag="match.cmd", kw_only=True):
    """A command the socket parsed and range-checked; the player is in `cmd`."""

    match: str
    reply: str
    cmd: Command


class MatchCmds(Message, tag="match.cmds", kw_only=True):
    """Commands from one process's sockets to a match owned in another, gathered for a few
    milliseconds (game/edge/forwarder.py): one layer message, not one per command."""

    match: str
    cmds: list[MatchCmd]


class MatchResync(Message, tag="match.resync", kw_only=True):
    match: str
    reply: str
    enc: Literal["json", "msgpack"] = "json"


class MatchEnd(Message, tag="match.end", kw_only=True):
    """A player asks to end the match; the rules decide whether it may (game/sim/rules.py)."""

    match: str
    player: int | None = None
    reply: str = ""


class MatchNote(Message, tag="match.note", kw_only=True):
    """A frame the socket refused on its own, for the match's record."""

    match: str
    player: int | None
    kind: str
    payload: dict


class MatchChat(Message, tag="match.chat", kw_only=True):
    """A player's chat line, its length already checked (game/wire/protocol.chat_text); the
    owner rate-limits it, records it and sends it to everyone on the match."""

    match: str
    player: int
    reply: str
    text: str


class MatchRtt(Message, tag="match.rtt", kw_only=True):
    """A round trip the player's socket measured with a server ping."""

    match: str
    player: int
    ms: float


class MatchVerdicts(Message, tag="match.verdicts", kw_only=True):
    """The auditor's answer to a batch."""

    match: str
    verdicts: list[Verdict]


class MatchTick(Message, tag="match.tick", kw_only=True):
    match: str
    due: float  # the loop time the tick fell due


class MatchFlushDue(Message, tag="match.flush_due", kw_only=True):
    match: str


class MatchAuditDue(Message, tag="match.audit_due", kw_only=True):
    match: str


class Claim(Struct, kw_only=True):
    """What an arbiter learns when it asks to own a match."""

    owned: bool
    owner: str = ""  # when not owned: the live owner's channel, or "" if the match is over
    epoch: int = 0  # the fencing token of this ownership (lobby Match.epoch)
    tick_rate: int = 10
    arena: tuple[int, int] = (100, 100)
    creator: int | None = None
    checkpoint: dict | None = None
    adopted: bool = False
    tail: list[bytes] = []  # the input log after the checkpoint (game/sim/inputlog.py)


class MatchClaimed(Message, tag="match.claimed", kw_only=True):
    """The claim's result; `error` when the database could not answer in time."""

    match: str
    claim: Claim | None = None
    error: str = ""


class OperatorVerdict(Struct):
    action: int  # the OperatorAction row
    verdict: Verdict


class MatchFlushed(Message, tag="match.flushed", kw_only=True):
    """A flush's result: `written` events and the seat counters it wrote, or `error`."""

    match: str
    flush: int  # which flush (the runtime numbers them)
    ours: bool = True
    actions: list[OperatorVerdict] = []
    error: str = ""


# -- to the auditor ----------------------------------------------------------------------
class AuditBatch(Message, tag="audit.batch", kw_only=True):
    match: str
    reply: str  # the owning arbiter's channel
    batch: dict


# -- to sockets --------------------------------------------------------------------------
class GameWelcome(Message, tag="game.welcome", kw_only=True):
    tick: int
    arbiter: str
    text: str | None = None  # the welcome frame for a JSON socket
    data: bytes | None = None  # or for a msgpack one


class GameSnap(Message, tag="game.snap", kw_only=True):
    tick: int
    full: bool
    text: str | None = None  # JSON, when some socket reads JSON
    data: bytes | None = None  # msgpack, when some socket reads msgpack


class GameMessage(Message, tag="game.message", kw_only=True):
    """Any other server message (reject, correction, players, error), encoded by the socket."""

    msg: dict


class GameReplaced(Message, tag="game.replaced", kw_only=True):
    pass


class GameEnded(Message, tag="game.ended", kw_only=True):
    reason: str


class GameKick(Message, tag="game.kick", kw_only=True):
    code: int
    reason: str


class GameUnowned(Message, tag="game.unowned", kw_only=True):
    """The arbiter asked no longer owns the match: find the owner again."""


class GameRejoin(Message, tag="game.rejoin", kw_only=True):
    """To the match's group: the match has a new owner (`arbiter`), or, when "", its owner is
    stopping and any arbiter may take it: every socket joins again and gets a fresh welcome.
    To one socket (`known` False): the owner does not know it (it fell silent); join again."""

    arbiter: str = ""
    known: bool = True  # sent to the whole group: a socket already welcomed by `arbiter` stays


# -- health ------------------------------------------------------------------------------
class ArbiterPong(Message, tag="arbiter.pong", kw_only=True):
    arbiter: str
    matches: int


class HealthEcho(Message, tag="health.echo", kw_only=True):
    pass


ToArbiter = (
    MatchStart
    | MatchAdopt
    | ArbiterBoot
    | ArbiterStop
    | MatchAlive
    | ArbiterPing
    | MatchJoin
    | MatchLeave
    | MatchCmd
    | MatchCmds
    | MatchResync
    | MatchEnd
    | MatchNote
    | MatchChat
    | MatchRtt
    | MatchVerdicts
    | MatchTick
    | MatchFlushDue
    | MatchAuditDue
    | MatchClaimed
    | MatchFlushed
)
ToAuditor = AuditBatch
ToSocket = (
    GameWelcome | GameSnap | GameMessage | GameReplaced | GameEnded | GameKick | GameUnowned | GameRejoin
)
ToHealth = ArbiterPong | HealthEcho


def pack(msg: Message) -> dict:
    """A message as the plain dict a channel layer carries (bytes stay bytes, for msgpack).

    A field that already is plain data in a dict (an audit batch, a players list) goes as it
    is: copying it (to_builtins walks it all: ~0.8 ms for a second's audit batch at 200
    players) would stall the loop, and the layer's own send does not copy either. Its sender
    makes it fresh and never changes it after."""
    plain = _PLAIN.get(type(msg))
    if plain is None:
        return msgspec.to_builtins(msg, builtin_types=(bytes,))
    out = {"type": type(msg).__struct_config__.tag}
    for name in msg.__struct_fields__:
        value = getattr(msg, name)
        out[name] = value if name == plain else msgspec.to_builtins(value, builtin_types=(bytes,))
    return out


_PLAIN = {AuditBatch: "batch", GameMessage: "msg", MatchNote: "payload"}  # each one's plain-dict field


async def put(layer, channel: str, msg: Message) -> None:
    """Into `channel`: as it is to a consumer of this process that takes typed messages (the
    layer's `hand`: an arbiter's own ticks, a socket's command to its owner here), else packed.
    Raises what the layer raises (full, unreachable)."""
    hand = getattr(layer, "hand", None)
    if hand is None or not hand(channel, msg):
        await layer.send(channel, pack(msg))


async def send(layer, channel: str, msg: Message, match: str = "") -> bool:
    """Send; a full or failing layer is logged, not raised: the receiver falls behind, the
    sender (a match, a worker) goes on. False if it was not sent."""
    return await _counted(put(layer, channel, msg), type(msg).__name__, channel, match)


async def send_packed(layer, channel: str, packed: dict, kind: str, match: str = "") -> bool:
    """`send` for a message already packed (with a transport key added, say)."""
    return await _counted(layer.send(channel, packed), kind, channel, match)


async def _counted(sending, kind: str, channel: str, match: str) -> bool:
    try:
        await sending
        metrics.count(metrics.LAYER_SENT, kind)
        return True
    except Exception as exc:
        metrics.count(metrics.LAYER_FAILED, kind)
        if first_in_a_second(f"send:{kind}:{type(exc).__name__}"):
            log.warning("match %s: could not send %s to %s: %r", match, kind, channel, exc)
        return False


def first_in_a_second(key: str) -> bool:
    """Rate-limits a log line: during an outage every send fails, and one line a second says so."""
    now = time.monotonic()
    if len(_seen) > 1000:  # made-up types must not grow this without bound
        _seen.clear()
    if now - _seen.get(key, -1e9) < 1.0:
        return False
    _seen[key] = now
    return True


async def post(layer, channel: str, msg: Message, match: str = "") -> None:
    """Send a result a worker's own dispatch loop must not miss: a full inbox is waited out
    (up to 10 s), not dropped."""
    for _ in range(200):
        try:
            await put(layer, channel, msg)
            metrics.count(metrics.LAYER_SENT, type(msg).__name__)
            return
        except ChannelFull:
            await asyncio.sleep(0.05)
    log.error("match %s: %s lost: channel %s stayed full for 10 s", match, type(msg).__name__, channel)


class Refused(Exception):
    """A layer message this consumer cannot take: unknown type, unknown version or wrong shape."""


_seen: dict[str, float] = {}


_BY_TAG: dict[str, type[Message]] = {}
_ACCEPTED: dict[int, frozenset] = {}  # the unions are module constants: their ids are stable


def _tags(cls: type[Message]) -> None:
    for sub in cls.__subclasses__():
        _BY_TAG[sub.__struct_config__.tag] = sub
        _tags(sub)


def unpack(raw: dict, accepts) -> Message:
    """The typed message in `raw`, or Refused with what is wrong with it.

    The tag picks the Struct and msgspec checks the rest: converting to one Struct costs
    ~0.3 us, to a union of them ~6 us (measured), and this runs for every message."""
    if not _BY_TAG:
        _tags(Message)
    allowed = _ACCEPTED.get(id(accepts))  # by id: hashing a union each time costs more
    if allowed is None:
        allowed = _ACCEPTED[id(accepts)] = frozenset(get_args(accepts) or (accepts,))
    kind = raw.get("type")
    cls = _BY_TAG.get(kind) if isinstance(kind, str) else None
    if cls is None or cls not in allowed:
        raise Refused(f"{kind!r}: not a message type this consumer takes")
    try:
        msg = msgspec.convert(raw, cls)
    except msgspec.ValidationError as exc:
        raise Refused(f"{kind!r}: {exc}") from None
    if msg.v != VERSION:
        raise Refused(f"{raw.get('type')!r}: version {msg.v} (this process speaks {VERSION})")
    return msg


def receive(raw, accepts, who: str) -> Message | None:
    """`unpack`, or log the refusal (rate-limited) and give None: the caller drops it."""
    metrics.count(metrics.LAYER_RECEIVED, who)
    try:
        if not isinstance(raw, dict):
            raise Refused(f"not a message: {type(raw).__name__}")
        return unpack(raw, accepts)
    except Refused as exc:
        key = f"{who}:{raw.get('type') if isinstance(raw, dict) else '?'}"[:100]
        if first_in_a_second(key):
            log.warning("%s dropped a layer message: %s", who, exc)
        return None
