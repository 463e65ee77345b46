"""How the arbiter's messages reach sockets: one ordered stream per process.

Every server process has one fan-out (game/edge/fanout.py) with one channel on the broadcast
layer. That channel is the member of each match group that has a socket in the process, and
each local socket's address is `<fan-out channel>#<socket>`: so a match's broadcasts (snap,
correction, players, ended) and its per-socket messages (welcome, reject, kick) reach the
process through one channel, in the order the arbiter sent them. On the wire the message is
the usual packed dict with one more key: `group` for a broadcast, `to` for one socket.

Scaled out, the broadcast layer is channels-redis' pub/sub: one PUBLISH per group per tick,
and a process's group subscriptions and its fan-out channel share one connection, so Redis
delivers them in publish order. Placement (the `arbiter` channel) and messages to arbiters
stay on the default, queue-based layer, since a named channel must reach exactly one worker.
Embedded, both are the one in-memory layer.
"""

from channels.layers import get_channel_layer

from game.messages import Message, pack, send, send_packed

BROADCAST_ALIAS = "broadcast"
SOCKET_SEP = "#"  # not valid in a channel name: an address is never mistaken for one


def broadcast_layer():
    return get_channel_layer(BROADCAST_ALIAS) or get_channel_layer()


async def to_group(layer, group: str, msg: Message, members=None) -> None:
    """One send for every socket of the group, in every process. `members`: the addresses of
    every socket the sender knows in the group; when all are in this process (affinity),
    nothing is published. None: publish anyway (a rejoin or an end, which sockets the sender
    does not know yet must hear too)."""
    packed = pack(msg)
    packed["group"] = group
    here_only = getattr(layer, "group_send_here", None)
    if here_only is not None and members is not None and _all_here(layer, members):
        await here_only(group, packed)
    else:
        await layer.group_send(group, packed)


def _all_here(layer, addresses) -> bool:
    """Every socket address is of this process's fan-out."""
    for address in addresses:
        channel, sep, _ = address.partition(SOCKET_SEP)
        if not sep or not layer.is_local(channel):
            return False
    return True


async def deliver(layer, address: str, msg: Message, match: str = "") -> bool:
    """To a socket's address through its process's fan-out (in order with its group's
    broadcasts), or to a plain channel (an arbiter, the health check) on `layer`. A failure
    is logged and counted, never raised (game.messages.send)."""
    channel, sep, socket = address.partition(SOCKET_SEP)
    if not sep:
        return await send(layer, address, msg, match)
    packed = pack(msg)
    packed["to"] = socket
    return await send_packed(broadcast_layer(), channel, packed, type(msg).__name__, match)
