"""Rates, caps and timings, in one place (PROTOCOL.md gives the wire-visible ones).

Plain constants with no Django import, so the simulation and its tests can use them.
"""

# Frames
MAX_FRAME_BYTES = 16 * 1024
MAX_IDS_PER_COMMAND = 64
MAX_ID = 2**31 - 1
MAX_COORD = 1e6  # anything beyond is a bad_message, not a clamp
CID_MAX_LEN = 16

# Command rates (token bucket per player), spawn rate, and the other client messages
CMD_RATE_PER_S = 30
CMD_BURST = 60
SPAWNS_PER_S = 5
PINGS_PER_S = 5
RESYNCS_PER_S = 5

# Chat: a line is at most this many characters after trimming; each player may send a burst
# of CHAT_BURST lines, refilled at CHAT_BURST per CHAT_WINDOW_S (a token bucket per seat)
CHAT_MAX_CHARS = 200
CHAT_BURST = 5
CHAT_WINDOW_S = 10.0
CHAT_HISTORY = 20  # the latest lines a welcome carries, for a socket that joins (or comes back) later

# World
CUBE_CAP_PER_PLAYER = 50
LAG_WINDOW_S = 0.25  # W = floor(LAG_WINDOW_S * tick_rate) ticks
NUDGE_DISTANCE = 1.0

# Lifecycle
KEYFRAME_EVERY_S = 5.0  # a full snap every few seconds bounds a client's drift
FLUSH_EVERY_S = 1.0  # records and the checkpoint are written in batches this often
ARBITER_STALE_S = 5.0  # admission's guess: a recorded owner whose heartbeat is older may be gone
PENDING_EVENTS_MAX = 200_000  # events kept for a database that is away; beyond, the oldest go
DB_JOB_TIMEOUT_S = 10.0  # an arbiter's claim, flush or finish that takes longer has failed
FINISH_TRIES = 5  # a match's final write is tried this often before it is left to the stale watch
WELCOME_TIMEOUT_S = 5.0  # a socket waiting this long for its welcome asks again, once

# Second tier (the auditor), off the tick path
AUDIT_EVERY_S = 1.0  # the arbiter sends a batch this often
AUDIT_WATCH_MAX = 256  # cubes whose every position goes into one batch
AUDIT_STEP_SLACK = 0.01  # quantisation may add up to this per tick to a step's length
AUDIT_LAG_SLACK_TICKS = 2  # claims may reach this far beyond half the round trip
AUDIT_LAG_CLAIMS_TO_WARN = 3  # unexplained backdated claims in one batch before a warning
AUDIT_FLOOD_SHARE = 0.9  # a second spent at this share of the command rate or more
AUDIT_STRIKES_TO_KICK = 3  # warnings in one match before the auditor kicks
PROBE_EVERY_S = 2.0  # the server pings each player this often to measure its round trip
ABUSE_FRAMES = 100  # refused frames within ABUSE_WINDOW_S before a socket is closed 4429
ABUSE_WINDOW_S = 10.0
