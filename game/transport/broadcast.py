"""The layer a match's group broadcasts travel on.

Scaled out, snapshots go through channels-redis' pub/sub layer: one PUBLISH per group per
tick, fanned out to local sockets by each server process, where the queue-based
RedisChannelLayer writes one copy per member. Placement (the `arbiter` channel) and direct
replies stay on the default, queue-based layer, since a named channel must reach exactly
one worker. Embedded, both are the one in-memory layer.
"""

from channels.layers import get_channel_layer

BROADCAST_ALIAS = "broadcast"


def broadcast_layer():
    return get_channel_layer(BROADCAST_ALIAS) or get_channel_layer()
