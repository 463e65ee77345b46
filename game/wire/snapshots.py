"""Snapshots on the wire: built once per tick per match, encoded once per encoding.

JSON carries entities as objects with coordinates in units; msgpack carries them as
`[id, owner, x, z, tx, tz, cid or nil]` with coordinates as integer hundredths.
"""

from __future__ import annotations

import msgspec

from game.sim.quant import hundredths
from game.sim.world import Changes, Entity, World

_json = msgspec.json.Encoder()
_msgpack = msgspec.msgpack.Encoder()


def _ent_json(e: Entity, cid: str | None) -> dict:
    rec = {"id": e.id, "owner": e.owner, "x": e.x, "z": e.z, "tx": e.tx, "tz": e.tz}
    if cid is not None:
        rec["cid"] = cid
    return rec


def _ent_bin(e: Entity, cid: str | None) -> list:
    return [e.id, e.owner, hundredths(e.x), hundredths(e.z), hundredths(e.tx), hundredths(e.tz), cid]


class Snap:
    """One snapshot, with lazily made and cached encodings."""

    __slots__ = ("tick", "full", "_head", "_ents", "_cids", "_gone", "_text", "_bytes")

    def __init__(self, tick: int, t_ms: int, full: bool, acks: dict[int, int], ents, cids, gone):
        self.tick, self.full = tick, full
        self._head = {
            "type": "snap",
            "tick": tick,
            "t": t_ms,
            "full": full,
            "acks": {str(p): s for p, s in acks.items()},
        }
        self._ents, self._cids, self._gone = ents, cids, gone
        self._text: str | None = None
        self._bytes: bytes | None = None

    def as_dict(self, binary: bool = False) -> dict:
        """The snap as a message in either encoding's shape (entities as objects or arrays)."""
        rec = _ent_bin if binary else _ent_json
        return {**self._head, "ents": [rec(e, self._cids.get(e.id)) for e in self._ents], "gone": self._gone}

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _json.encode(self.as_dict()).decode()
        return self._text

    @property
    def data(self) -> bytes:
        if self._bytes is None:
            self._bytes = _msgpack.encode(self.as_dict(binary=True))
        return self._bytes


def full_snap(world: World, t_ms: int, acks: dict[int, int], cids: dict[int, str] | None = None) -> Snap:
    """Every entity, as of the world's current tick (with the cids of spawns made on that tick,
    so a keyframe that falls on a spawn's tick still confirms the owner's provisional cube)."""
    return Snap(world.tick, t_ms, True, acks, list(world.entities.values()), cids or {}, [])


def delta_snap(world: World, t_ms: int, acks: dict[int, int], changes: Changes) -> Snap:
    """Only what the shared step cannot predict from the previous tick."""
    ents = [world.entities[i] for i in sorted(changes.touched) if i in world.entities]
    return Snap(world.tick, t_ms, False, acks, ents, changes.cids, sorted(changes.gone))


def encode(msg: dict, binary: bool) -> str | bytes:
    """Any other server message in the connection's encoding."""
    return _msgpack.encode(msg) if binary else _json.encode(msg).decode()
