"""What this process's sockets send their matches' owners, in order, and cheaply across processes.

To an owner in this process (affinity, or the embedded default) a message goes straight into
its inbox, typed (the layer's `hand`: no dict packed and converted back). To an owner in
another process, commands are gathered for BATCH_S per owner and match and sent as one
`MatchCmds`: one layer message (one Redis round trip) instead of one per command. Anything
else a socket sends that owner for that match (a leave, an end, a resync, a heartbeat) first
sends the batch that waits, so each socket's messages keep their order. A batch the layer
refuses (full, or Redis unreachable) answers each of its commands with its own `busy`
reject, through the fan-out, as the owner would have.
"""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from game.messages import GameMessage, MatchCmd, MatchCmds, first_in_a_second, pack, put
from game.transport.broadcast import deliver
from game.transport.inbox import per_loop

log = logging.getLogger("game.socket")

BATCH_S = 0.003  # how long a command may wait for others to the same owner and match
BUSY = "the match's server is busy or unreachable; command not queued, send it again"


class Forwarder:
    def __init__(self, layer):
        self.layer = layer
        self.pending: dict[tuple[str, str], list[MatchCmd]] = {}
        is_local = getattr(layer, "is_local", None)
        self.is_local = is_local if is_local is not None else lambda channel: False

    async def send(self, owner: str, msg) -> None:
        """Send `msg` to `owner`; raises if a direct send fails (the caller refuses its frame)."""
        if self.is_local(owner):
            await put(self.layer, owner, msg)
            return
        key = (owner, msg.match)
        if isinstance(msg, MatchCmd):
            batch = self.pending.get(key)
            if batch is None:
                batch = self.pending[key] = []
                asyncio.get_running_loop().call_later(BATCH_S, self._flush_later, key)
            batch.append(msg)
            return
        await self.flush(key)  # what the socket sent before this goes first
        await self.layer.send(owner, pack(msg))

    def _flush_later(self, key) -> None:
        if key in self.pending:
            asyncio.get_running_loop().create_task(self.flush(key))

    async def flush(self, key: tuple[str, str]) -> None:
        cmds = self.pending.pop(key, None)
        if not cmds:
            return
        owner, match = key
        msg = cmds[0] if len(cmds) == 1 else MatchCmds(match=match, cmds=cmds)
        try:
            await self.layer.send(owner, pack(msg))
        except Exception as exc:
            if first_in_a_second(f"forward:{type(exc).__name__}"):
                log.warning("match %s: %d commands not forwarded to %s: %r", match, len(cmds), owner, exc)
            for cmd in cmds:
                reject = {"type": "reject", "seq": cmd.cmd.seq, "code": "busy", "message": BUSY}
                reject["retry_ms"] = 100
                await deliver(self.layer, cmd.reply, GameMessage(msg=reject), match)


# This process's forwarder (one per event loop: tests run a loop each).
local = per_loop(lambda: Forwarder(get_channel_layer()))
