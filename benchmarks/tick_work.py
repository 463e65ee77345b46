"""The arbiter's own work per tick for a 1,000-cube match: rules, step, snapshot encoding,
and the input log (game/sim/inputlog.py): its cost per tick, its size, and its replay.

No server, no network: the simulation and the encoders alone, as the arbiter runs them.
200 players x 5 cubes at 20 Hz (`--cubes 2000`: 10 each), each player moving one cube every
100 ms (so 100 moves a tick), a keyframe every 5 s, and the auditor's batch built once a second.
"rules+step" includes the entry's steer check (computed after the step, see MatchState.steer_check).

The log: every tick the arbiter takes the tick's entry and encodes it (on the tick path);
once a second the flush compresses the second's entries into a chunk and hashes the
checkpoint (in a database thread, off the tick path), with a full keyframe every 30 chunks.
At the end the whole log is replayed and checked as `manage.py verify_replays` does, and the
replay viewer's cursor (game/sim/replay.Cursor, as game/edge/replay.py makes it) prepares the
log and seeks to random ticks: its checkpoints (how many, their memory, the longest gap) and
the seeks' p50, p99 and max.

    .venv/bin/python benchmarks/tick_work.py [--players 200] [--seconds 10] [--cubes 2000]
    # seeks in a 30-minute match of the largest size (~4 min, ~3 GB: the decoded log):
    .venv/bin/python benchmarks/tick_work.py --cubes 2000 --seconds 1800 --no-verify
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import zlib
from pathlib import Path

import msgpack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game import limits  # noqa: E402
from game.sim import inputlog, replay, rulesets  # noqa: E402
from game.sim.commands import Command  # noqa: E402
from game.sim.match import MatchState  # noqa: E402
from game.sim.world import World  # noqa: E402
from game.wire.snapshots import delta_snap, full_snap  # noqa: E402
from lobby import limits as match_limits  # noqa: E402
from lobby.fastjson import FastJSONEncoder  # noqa: E402

KEYFRAME_EVERY_FLUSHES = 30  # as game/arbiter/pending.py (which needs Django to import)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


class Log:
    """The input log as the arbiter keeps it (a tail of encoded entries) and as the flush
    stores it (a zlib chunk a second, a digest of each checkpoint, a keyframe now and then)."""

    def __init__(self, state: MatchState, tick_rate: int):
        self.state, self.tick_rate = state, tick_rate
        self.tail: list[tuple[int, bytes]] = []
        self.chunks: list[replay.Chunk] = []
        self.events: list = []
        self.entry_bytes = 0
        self.chunk_bytes = 0
        self.keyframe_size = 0
        self.flush_ms: list[float] = []
        self.timed_from = 0  # the setup's ticks are logged, not counted in the sizes

    def take(self) -> float:
        """The tick path's part: take the tick's entry and encode it (ms)."""
        t0 = time.perf_counter()
        entry = self.state.take_entry()
        data = inputlog.encode(entry)
        self.tail.append((entry.tick, data))
        took = (time.perf_counter() - t0) * 1000
        if entry.tick > self.timed_from:
            self.entry_bytes += len(data)
        return took

    def flush(self, now: float, last: bool = False) -> None:
        """The flush's part, off the tick path: the checkpoint is the runtime's anyway; the log
        adds the chunk's compression and the checkpoint's digest."""
        if not self.tail:
            return
        checkpoint = self.state.checkpoint(now)
        t0 = time.perf_counter()
        blob = zlib.compress(msgpack.packb([data for _, data in self.tail]), inputlog.CHUNK_ZLIB_LEVEL)
        t1 = time.perf_counter()
        digest = replay.digest(checkpoint)
        t2 = time.perf_counter()
        FastJSONEncoder().encode(checkpoint)  # the checkpoint's JSON, as the database gets it
        t3 = time.perf_counter()
        json.dumps(checkpoint)  # as Django's JSONField wrote it before lobby/fastjson.py
        t4 = time.perf_counter()
        self.flush_ms.append(tuple((b - a) * 1000 for a, b in ((t0, t1), (t1, t2), (t2, t3), (t3, t4))))
        keyframe = None
        if last or len(self.chunks) % KEYFRAME_EVERY_FLUSHES == 0:
            keyframe = checkpoint
            self.keyframe_size = len(json.dumps(keyframe))
        if self.tail[0][0] > self.timed_from:
            self.chunk_bytes += len(blob)
        first, end = self.tail[0][0], self.tail[-1][0]
        entries = [d for _, d in self.tail]  # kept encoded, as stored (decoded: ten times the memory)
        self.chunks.append(replay.Chunk(first, end, entries, digest, keyframe))
        self.events += [(e.tick, e.kind, e.payload) for e in self.state.take_events()]
        self.tail = []

    def report(
        self, header: replay.Header, players: int, seconds: float, verify: bool = True, seeks_n: int = 100
    ) -> None:
        chunks_per_s = self.chunk_bytes / seconds
        keyframes_per_s = self.keyframe_size / KEYFRAME_EVERY_FLUSHES  # one every 30 flushes, as JSON
        per_s = chunks_per_s + keyframes_per_s
        print(f"input log ({len(self.chunks)} chunks, a keyframe every {KEYFRAME_EVERY_FLUSHES}):")
        print(f"  entries as encoded on the tick path: {self.entry_bytes / seconds / 1000:,.1f} KB/s")
        print(
            f"  stored: zlib chunks {chunks_per_s / 1000:,.1f} KB/s + keyframes"
            f" ({self.keyframe_size / 1000:,.0f} KB each) {keyframes_per_s / 1000:,.1f} KB/s"
        )
        print(
            f"  = {per_s * 60 / players / 1000:,.2f} KB per player-minute,"
            f" {per_s * 3600 / 1e6:,.1f} MB per match-hour ({players} players)"
        )
        compress, digest, fast, stock = zip(*self.flush_ms, strict=True)
        print(
            f"  once a second, off the tick path (the flush's thread): compress p50 {statistics.median(compress):.2f}"
            f" ms, state digest p50 {statistics.median(digest):.2f} ms, checkpoint JSON p50"
            f" {statistics.median(fast):.2f} ms (json.dumps: {statistics.median(stock):.2f} ms)"
        )
        if verify:
            t0 = time.perf_counter()
            decoded = (
                replay.Chunk(
                    c.first_tick, c.last_tick, [inputlog.decode(d) for d in c.entries], c.digest, c.keyframe
                )
                for c in self.chunks
            )  # one at a time, as game/records/replays.py reads them
            result = replay.verify(header, decoded, replay.recorded_events(self.events))
            took = time.perf_counter() - t0
            assert result.ok, str(result)
            print(
                f"  verify (replay + every check): {took:.2f} s for {result.ticks} ticks,"
                f" {took / (result.ticks / self.tick_rate) * 600:.0f} s for 10 minutes of this match"
            )
        # The replay viewer's cursor (game/edge/replay.py, a worker thread): one pass, then seeks anywhere.
        entries = [d for c in self.chunks for d in c.entries]  # encoded, as the socket loads them
        # The socket's process holds the entries only: not the chunks' keyframes (a tree of lists
        # each, millions of objects in a long run, which would make the collector's full passes
        # during the seeks this benchmark's own cost).
        self.chunks = []
        gc.collect()
        t0 = time.perf_counter()
        cursor = replay.Cursor(header, entries, every=5 * self.tick_rate)
        cursor.prepare()
        prepared = time.perf_counter() - t0
        ticks = getattr(cursor, "ticks", None) or sorted(cursor.saved)
        gaps = [b - a for a, b in zip(ticks, ticks[1:] + [cursor.last], strict=True)]
        packed = getattr(cursor, "saved_bytes", None)
        print(
            f"  replay viewer: ready in {prepared:.2f} s; {len(ticks)} checkpoints"
            + (f" ({packed / 2**20:.1f} MB)" if packed is not None else "")
            + f", up to {max(gaps)} ticks apart (median {statistics.median(gaps):.0f})"
        )
        rng = random.Random(1)
        seeks, cpu, worst = [], [], (0.0, "")
        collections = []
        gc.callbacks.append(
            lambda phase, info: collections.append(info["generation"]) if phase == "stop" else None
        )
        for _ in range(seeks_n):
            tick = rng.randrange(cursor.first, cursor.last + 1)
            start, collections[:] = cursor.tick, []
            t0, c0 = time.perf_counter(), time.thread_time()
            cursor.seek(tick)
            seeks.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            if cpu[-1] > worst[0]:
                base = max(t for t in ticks if t <= tick)
                played = tick - start if base <= start <= tick else tick - base
                worst = (
                    cpu[-1],
                    f"{played} ticks replayed, collections by generation {collections.count(0)}/{collections.count(1)}/{collections.count(2)}",
                )
        gc.callbacks.pop()
        print(
            f"  a seek anywhere ({seeks_n} seeks): p50 {statistics.median(seeks):.0f} ms,"
            f" p99 {pct(seeks, 99):.0f} ms, max {max(seeks):.0f} ms; its thread's CPU"
            f" p50 {statistics.median(cpu):.0f} ms, max {max(cpu):.0f} ms (the rest: waiting for a core)"
        )
        print(f"  the most CPU a seek took: {worst[0]:.0f} ms, {worst[1]}")


def main(
    players: int, seconds: float, tick_rate: int, cubes: int = 0, verify: bool = True, seeks: int = 100
) -> None:
    rng = random.Random(7)
    settings = rulesets.Settings(
        arena_width=100,
        arena_depth=100,
        tick_rate=tick_rate,
        speed=match_limits.DEFAULT_SPEED,
        cube_cap=limits.CUBE_CAP_PER_PLAYER,
    )
    header = replay.header_for(settings)
    state = MatchState(World(100, 100, match_limits.DEFAULT_SPEED, tick_rate))
    log = Log(state, tick_rate)
    now = 0.0
    seqs = {}
    for p in range(1, players + 1):
        state.seat(p, f"bot{p}", "#ffffff", now)
        seqs[p] = 0
    each = -(-(cubes or players * 5) // players)  # 5 cubes each by default
    for n in range(each):
        for p in range(1, players + 1):
            if cubes and n * players + p > cubes:
                break
            seqs[p] += 1
            state.submit(
                Command(p, seqs[p], 0, "spawn", point=(rng.uniform(-50, 50), rng.uniform(-50, 50)), cid="c"),
                now,
            )
        now += 1.0
        state.tick(now)
        log.take()
    log.flush(now)  # the setup's chunk: not counted in the sizes
    log.timed_from = state.world.tick
    owned = {p: [e.id for e in state.world.owned_by(p)] for p in range(1, players + 1)}
    assert sum(len(v) for v in owned.values()) == (cubes or players * 5)

    keyframe_every = round(limits.KEYFRAME_EVERY_S * tick_rate)
    times = {"rules+step": [], "log entry": [], "encode": [], "total": []}
    audit_ms = []
    sizes = []
    ticks = int(seconds * tick_rate)
    dt = 1.0 / tick_rate
    movers_per_tick = players * 10 // tick_rate  # one move per player per 100 ms
    order = list(range(1, players + 1))
    for t in range(ticks):
        now += dt
        rng.shuffle(order)
        for p in order[:movers_per_tick]:
            seqs[p] += 1
            state.submit(
                Command(
                    p,
                    seqs[p],
                    state.world.tick,
                    "move",
                    (rng.choice(owned[p]),),
                    (rng.uniform(-50, 50), rng.uniform(-50, 50)),
                ),
                now,
            )
        t0 = time.perf_counter()
        result = state.tick(now)
        log_ms = log.take()
        t1 = time.perf_counter()
        if result.tick % keyframe_every == 0:
            snap = full_snap(state.world, 0, {s.player: s.ack for s in state.seats.values()})
        else:
            snap = delta_snap(state.world, 0, result.acks, result.changes)
        text, data = snap.text, snap.data
        t2 = time.perf_counter()
        times["rules+step"].append((t1 - t0) * 1000 - log_ms)
        times["log entry"].append(log_ms)
        times["encode"].append((t2 - t1) * 1000)
        times["total"].append((t2 - t0) * 1000)
        sizes.append((len(text), len(data), snap.full))
        if t % tick_rate == tick_rate - 1:
            log.flush(now)
        if t % tick_rate == 0:
            a0 = time.perf_counter()
            state.audit_batch()
            audit_ms.append((time.perf_counter() - a0) * 1000)

    print(
        f"arbiter tick work: {players} players, {len(state.world.entities)} cubes, {tick_rate} Hz, "
        f"{movers_per_tick} moves a tick, {ticks} ticks"
    )
    for name, values in times.items():
        print(
            f"  {name:<11} p50 {statistics.median(values):6.2f} ms   p99 {pct(values, 99):6.2f} ms   max {max(values):6.2f} ms"
        )
    print(f"  audit batch (once a second) p50 {statistics.median(audit_ms):6.2f} ms")
    deltas = [s for s in sizes if not s[2]]
    fulls = [s for s in sizes if s[2]]

    def sizes_of(snaps) -> str:  # a run shorter than a keyframe's period has none
        if not snaps:
            return "none"
        return f"JSON {statistics.median(x[0] for x in snaps):,.0f} B, msgpack {statistics.median(x[1] for x in snaps):,.0f} B"

    print(f"  delta snap: {sizes_of(deltas)}; keyframe: {sizes_of(fulls)}")
    per_player = (sum(d[1] for d in deltas) + sum(f[1] for f in fulls)) / seconds
    print(f"  msgpack bytes per player per second (snaps only): {per_player / 1000:,.1f} KB/s")
    log.flush(now, last=True)
    log.report(header, players, seconds, verify, seeks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tick-rate", type=int, default=20)
    parser.add_argument("--cubes", type=int, default=0, help="cubes in all (default: 5 per player)")
    parser.add_argument("--no-verify", action="store_true", help="skip the whole log's verify (long runs)")
    parser.add_argument("--seeks", type=int, default=100, help="seeks to random ticks timed (default 100)")
    args = parser.parse_args()
    main(args.players, args.seconds, args.tick_rate, args.cubes, not args.no_verify, args.seeks)
