"""Commands to an owner in another process travel in batches, in order, and a refused batch
answers each of its commands (game/edge/forwarder.py)."""

import asyncio

from channels.exceptions import ChannelFull

from game.edge.forwarder import BATCH_S, Forwarder
from game.messages import MatchCmd, MatchCmds, MatchLeave, unpack
from game.sim.commands import Command
from game.transport.memory_layer import ArenaChannelLayer

from ..own_loop import in_own_loop


class Elsewhere(ArenaChannelLayer):
    """The owner is another process's: nothing is local, and the layer may refuse."""

    refuse = False

    def is_local(self, channel):
        return False

    async def send(self, channel, message):
        if self.refuse and channel == "owner":
            raise ChannelFull(channel)
        await super().send(channel, message)


def cmd(seq: int, reply: str = "sock.a") -> MatchCmd:
    return MatchCmd(match="m1", reply=reply, cmd=Command(7, seq, 10, "delete", (seq,)))


async def arrives(layer, channel: str, timeout: float = 1.0) -> None:
    """Until something waits on `channel` (bounded)."""
    async with asyncio.timeout(timeout):
        while layer._queue(channel).empty():
            await asyncio.sleep(BATCH_S / 3)


async def drain(layer, channel: str) -> list:
    out = []
    while not layer._queue(channel).empty():
        out.append(unpack(await layer.receive(channel), MatchCmd | MatchCmds | MatchLeave))
    return out


@in_own_loop
async def test_commands_to_a_remote_owner_go_as_one_message_and_a_leave_waits_for_them():

    layer = Elsewhere()
    fwd = Forwarder(layer)
    for seq in (1, 2, 3):
        await fwd.send("owner", cmd(seq, reply=f"sock.{seq % 2}"))
    assert await drain(layer, "owner") == []  # waiting a few ms for company
    await arrives(layer, "owner")
    [batch] = await drain(layer, "owner")
    assert isinstance(batch, MatchCmds) and [c.cmd.seq for c in batch.cmds] == [1, 2, 3]
    await fwd.send("owner", cmd(4))
    await fwd.send("owner", MatchLeave(match="m1", player=7, reply="sock.a"))  # goes after seq 4
    got = await drain(layer, "owner")
    assert [type(m) for m in got] == [MatchCmd, MatchLeave] and got[0].cmd.seq == 4


@in_own_loop
async def test_a_refused_batch_answers_each_of_its_commands_busy():

    layer = Elsewhere()
    layer.refuse = True
    fwd = Forwarder(layer)
    for seq in (5, 6):
        await fwd.send("owner", cmd(seq))
    await arrives(layer, "sock.a")
    answers = [await layer.receive("sock.a") for _ in range(2)]
    assert [(a["msg"]["type"], a["msg"]["code"], a["msg"]["seq"]) for a in answers] == [
        ("reject", "busy", 5),
        ("reject", "busy", 6),
    ]
    assert await drain(layer, "owner") == []


@in_own_loop
async def test_to_an_owner_in_this_process_a_command_goes_at_once():
    layer = ArenaChannelLayer()  # everything is local
    fwd = Forwarder(layer)
    await fwd.send("owner", cmd(1))
    [one] = await drain(layer, "owner")
    assert isinstance(one, MatchCmd) and one.cmd.seq == 1


@in_own_loop
async def test_to_an_adopted_owner_messages_go_typed_into_its_inbox_in_order():
    layer = ArenaChannelLayer()
    inbox: asyncio.Queue = asyncio.Queue(8)
    layer.adopt("owner", inbox, typed=True)  # as a worker consumer (the arbiter) adopts its channel
    fwd = Forwarder(layer)
    first, leave = cmd(1), MatchLeave(match="m", player=1, reply="r")
    await fwd.send("owner", first)
    await fwd.send("owner", leave)
    assert [inbox.get_nowait()[1] for _ in range(2)] == [first, leave]  # the very objects: no dict
    untyped: asyncio.Queue = asyncio.Queue(8)
    layer.adopt("fan-out", untyped)  # a consumer that reads dicts gets dicts
    await fwd.send("fan-out", cmd(5))
    assert unpack(untyped.get_nowait()[1], MatchCmd).cmd.seq == 5
    for _ in range(8):
        await fwd.send("owner", cmd(2))
    try:
        await fwd.send("owner", cmd(3))
    except ChannelFull:
        pass  # a full inbox refuses, as a full channel does: the socket answers busy
    else:
        raise AssertionError("a full inbox took a command")
