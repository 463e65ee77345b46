"""What a process tells Prometheus: `/metrics` on each ASGI server, a port of its own on a
`runworker` (CUBEARENA_METRICS_PORT). Not public: loopback, or the bearer token in
CUBEARENA_METRICS_TOKEN.

Every series here is the process's own: the matches its arbiter owns, the sockets it serves.
Per-match series (`match` label) are removed when the match leaves the process (ended,
handed over, stepped down), so a long-lived process does not accumulate dead ones.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

TICK_LAG = Histogram(
    "cubearena_tick_lag_seconds",
    "From a tick's due time to its snapshot leaving the arbiter",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0),
)
MATCHES = Gauge("cubearena_matches", "Matches this process's arbiter owns")
PLAYERS = Gauge("cubearena_players", "Player sockets joined to matches this process owns")
COMMANDS = Counter(
    "cubearena_commands_total", "Commands by outcome: accepted, or the reject code", ["result"]
)
SNAPSHOT_BYTES = Counter(
    "cubearena_snapshot_bytes_total", "Snapshot bytes published, once per encoding", ["enc"]
)
FRAMES = Counter(
    "cubearena_frames_written_total",
    "Frames the fan-out wrote to sockets: `direct` (framed once per encoding, written as bytes) "
    "or `consumer` (through the socket's ordinary send, where no direct route exists)",
    ["route"],
)
LAYER_SENT = Counter("cubearena_layer_sent_total", "Channel-layer messages sent, by type", ["type"])
LAYER_FAILED = Counter(
    "cubearena_layer_send_failures_total", "Channel-layer sends that failed, by type", ["type"]
)
LAYER_RECEIVED = Counter(
    "cubearena_layer_received_total", "Channel-layer messages received, by consumer", ["consumer"]
)
AUDITS = Counter(
    "cubearena_audits_total",
    "Batches of play this process's arbiters reviewed themselves (settings.AUDIT_IN_PROCESS): "
    "`reviewed`, `skipped` (the match's last review was still out) or `failed`",
    ["result"],
)
QUEUED = Gauge("cubearena_inbox_queued", "Messages waiting in this process's consumers' inboxes")
OWNERSHIP = Counter(
    "cubearena_ownership_changes_total", "Matches started, adopted, handed over or stepped down", ["change"]
)
MATCH_PLAYERS = Gauge("cubearena_match_players", "Connected players of a match this process owns", ["match"])
MATCH_CUBES = Gauge("cubearena_match_cubes", "Cubes in a match this process owns", ["match"])
MATCH_TICK = Gauge("cubearena_match_tick", "A match's current tick", ["match"])

_PER_MATCH = (MATCH_PLAYERS, MATCH_CUBES, MATCH_TICK)
_children: dict = {}  # (counter, label) -> its child: labels() costs a lookup and a lock each time


def count(counter, label: str, n: int = 1) -> None:
    """counter{label} += n, for counters bumped on the hot path."""
    child = _children.get((counter, label))
    if child is None:
        child = _children[(counter, label)] = counter.labels(label)
    child.inc(n)


def forget_match(match_id: str) -> None:
    """The match left this process: its series go."""
    for gauge in _PER_MATCH:
        try:
            gauge.remove(match_id)
        except KeyError:
            pass


def metrics_view(request):
    """Prometheus text; from loopback, or with the configured bearer token. Others get a 404."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    loopback = request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1") and not request.headers.get(
        "X-Forwarded-For"
    )
    if not (loopback or (token and hmac.compare_digest(given, token))):
        return HttpResponseNotFound()
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
