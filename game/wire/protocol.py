"""Inbound WebSocket messages: parsed and range-checked at the edge, one parser per type.

Every refusal is a ProtocolError with a stable code from PROTOCOL.md. A command whose
`seq` could be read is answered with `reject` (it uses up its number); any other bad frame
is answered with `error`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from game import limits
from game.sim.commands import Command


class ProtocolError(Exception):
    """A frame or command the server refuses; `code` is stable, `message` is for people."""

    def __init__(
        self,
        code: str,
        message: str,
        seq: int | None = None,
        retry_ms: int | None = None,
        about: str | None = None,
    ):
        super().__init__(message)
        self.code, self.message, self.seq, self.retry_ms = code, message, seq, retry_ms
        self.about = about  # which kind of message was refused, when the client needs to know ("chat")

    def as_message(self) -> dict:
        if self.seq is not None:
            msg = {"type": "reject", "seq": self.seq, "code": self.code, "message": self.message}
        else:
            msg = {"type": "error", "code": self.code, "message": self.message}
        if self.retry_ms is not None:
            msg["retry_ms"] = self.retry_ms
        if self.about is not None:
            msg["about"] = self.about
        return msg


Coord = Annotated[float, Meta(ge=-limits.MAX_COORD, le=limits.MAX_COORD)]
EntityId = Annotated[int, Meta(ge=1, le=limits.MAX_ID)]
Seq = Annotated[int, Meta(ge=1, le=limits.MAX_ID)]
Tick = Annotated[int, Meta(ge=0, le=limits.MAX_ID)]
Ids = Annotated[list[EntityId], Meta(min_length=1, max_length=limits.MAX_IDS_PER_COMMAND)]
Unit = Annotated[int, Meta(ge=-1, le=1)]
Cid = Annotated[str, Meta(min_length=1, max_length=limits.CID_MAX_LEN)]


class _Cmd(Struct, forbid_unknown_fields=True, tag_field="op"):
    type: Literal["cmd"]
    seq: Seq
    tick: Tick


class SpawnCmd(_Cmd, tag="spawn"):
    at: tuple[Coord, Coord]
    cid: Cid


Form = Literal["box", "line"]
Facing = Annotated[int, Meta(ge=0, le=7)]


class MoveCmd(_Cmd, tag="move"):
    ids: Ids
    to: tuple[Coord, Coord]
    form: Form | None = None  # a formation move (game/sim/formation.py); None: all to `to`
    facing: Facing = 0  # with form: the front's direction, 0..7 (formation.DIRECTIONS)


class NudgeCmd(_Cmd, tag="nudge"):
    ids: Ids
    dir: tuple[Unit, Unit]


class DeleteCmd(_Cmd, tag="delete"):
    ids: Ids


AnyCmd = SpawnCmd | MoveCmd | NudgeCmd | DeleteCmd


class Ping(Struct, forbid_unknown_fields=True):
    type: Literal["ping"]
    t: Annotated[float, Meta(ge=-1e15, le=1e15)]


class Pong(Struct, forbid_unknown_fields=True):
    """The answer to a server ping (an addition to PROTOCOL.md: the server measures round trips)."""

    type: Literal["pong"]
    t: Annotated[float, Meta(ge=-1e15, le=1e15)]


class Resync(Struct, forbid_unknown_fields=True):
    type: Literal["resync"]


class End(Struct, forbid_unknown_fields=True):
    type: Literal["end"]


class Chat(Struct, forbid_unknown_fields=True):
    """A line for the match's chat (an addition to PROTOCOL.md); `chat_text` checks its length."""

    type: Literal["chat"]
    text: str


_SIMPLE = {"ping": Ping, "pong": Pong, "resync": Resync, "end": End, "chat": Chat}
KNOWN_TYPES = {"cmd", *_SIMPLE}


_FAST = {False: msgspec.json.Decoder(AnyCmd), True: msgspec.msgpack.Decoder(AnyCmd)}


def parse_frame(data: str | bytes, binary: bool) -> Struct:
    """A frame to its typed message, or ProtocolError with the right code.

    Commands are most of the traffic: a well-formed one is decoded straight into its type in
    one pass; anything else takes the two-step path that can tell bad_json from bad_message.
    """
    if len(data) <= limits.MAX_FRAME_BYTES // 4:  # surely within the byte limit, whatever the text
        try:
            cmd = _FAST[binary].decode(data)
            if not (isinstance(cmd, NudgeCmd) and cmd.dir == (0, 0)):
                return cmd
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass
    return parse_message(decode_frame(data, binary))


def decode_frame(data: str | bytes, binary: bool) -> dict:
    """Bytes or text to a JSON-like dict, refusing size, syntax and non-object frames."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > limits.MAX_FRAME_BYTES:
        raise ProtocolError(
            "too_large", f"frames are at most {limits.MAX_FRAME_BYTES} bytes; this one had {size}"
        )
    try:
        obj = msgspec.msgpack.decode(data) if binary else msgspec.json.decode(data)
    except msgspec.ValidationError as exc:  # e.g. 1e400: parses, but out of range
        raise ProtocolError("bad_message", f"a number is out of range: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        kind = "msgpack" if binary else "JSON (NaN and Infinity are not JSON)"
        raise ProtocolError("bad_json", f"not valid {kind}: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad_message", "a frame must be one object")
    return obj


def parse_message(obj: dict) -> Struct:
    """A decoded frame to its typed message, or ProtocolError."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", "every message needs a string field 'type'")
    if kind not in KNOWN_TYPES:
        raise ProtocolError("unknown_type", f"unknown message type {kind[:32]!r}")
    if kind == "cmd":
        return _parse_cmd(obj)
    try:
        return msgspec.convert(obj, _SIMPLE[kind])
    except msgspec.ValidationError as exc:
        raise ProtocolError("bad_message", f"bad {kind}: {exc}") from None


def _parse_cmd(obj: dict) -> AnyCmd:
    seq = obj.get("seq")
    readable = isinstance(seq, int) and not isinstance(seq, bool) and 1 <= seq <= limits.MAX_ID
    try:
        cmd = msgspec.convert(obj, AnyCmd)
    except msgspec.ValidationError as exc:
        raise ProtocolError("bad_message", f"bad command: {exc}", seq if readable else None) from None
    if isinstance(cmd, NudgeCmd) and cmd.dir == (0, 0):
        raise ProtocolError("bad_message", "nudge needs a direction other than [0, 0]", cmd.seq)
    return cmd


# Control characters (and the line and paragraph separators) would let one line pose as
# several, or as something the page did not send: each becomes a space.
_BLANKS = {c: " " for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}


def chat_text(raw: str) -> str:
    """A chat line as the match shows it: control characters made spaces, trimmed, then
    1..CHAT_MAX_CHARS characters (code points, so an emoji counts once), else ProtocolError."""
    text = raw.translate(_BLANKS).strip()
    if not text:
        raise ProtocolError("chat_empty", "a chat message needs some text", about="chat")
    if len(text) > limits.CHAT_MAX_CHARS:
        raise ProtocolError(
            "chat_too_long",
            f"chat messages are at most {limits.CHAT_MAX_CHARS} characters; this one had {len(text)}",
            about="chat",
        )
    return text


def to_command(cmd: AnyCmd, player: int) -> Command:
    """The simulation's view of a parsed command (ids de-duplicated, order kept)."""
    if isinstance(cmd, SpawnCmd):
        return Command(player, cmd.seq, cmd.tick, "spawn", point=cmd.at, cid=cmd.cid)
    ids = tuple(dict.fromkeys(cmd.ids))
    if isinstance(cmd, MoveCmd):
        if cmd.form is None:
            return Command(player, cmd.seq, cmd.tick, "move", ids, point=cmd.to)
        return Command(player, cmd.seq, cmd.tick, "move", ids, point=cmd.to, form=cmd.form, facing=cmd.facing)
    if isinstance(cmd, NudgeCmd):
        return Command(player, cmd.seq, cmd.tick, "nudge", ids, point=(float(cmd.dir[0]), float(cmd.dir[1])))
    return Command(player, cmd.seq, cmd.tick, "delete", ids)
