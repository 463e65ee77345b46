"""A load run: N bots in M matches for S seconds, measured, summed up as one report.

Steps, in order:
1. guest accounts over the HTTP API (bare baseline: none);
2. the first M bots each create one match (bot i plays in match i % M);
3. every bot opens its socket and reads its welcome;
4. every bot spawns its cubes and waits to see them;
5. moves start, and after a second's warm-up the window opens: S seconds of figures,
   with the server processes sampled every second;
6. the creators end their matches and every socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import time
import uuid
from dataclasses import asdict, dataclass, field

from loadbots.bot import Bot, Window
from loadbots.procstats import ProcessSampler, discover
from loadbots.stats import LoopLag, ms, percentile, summary_ms
from lobby import ticklag

WARMUP_S = 1.0
GUESTS_PER_SOURCE = 16  # under the server's CUBEARENA_GUESTS_PER_ADDRESS (20 an hour by default)


@dataclass
class LoadConfig:
    urls: list[str]
    bots: int = 10
    matches: int = 1
    seconds: float = 10.0
    measure: int = 20
    enc: str = "json"
    tick_rate: int = 20
    cubes: int = 5
    move_every: float = 0.1
    arena: float = 100.0
    baseline: bool = False
    server_pids: list[int] | None = None
    workers: bool = True  # discover runworker processes too
    spread_sources: bool = True
    concurrency: int = 16
    label: str = ""
    progress: bool = True
    seed: int | None = None
    routes: dict = field(default_factory=dict)  # server name -> URL, for /s/<name>/ socket paths
    redis_url: str | None = None  # count the commands this Redis runs during the window
    postgres_url: str | None = None  # count its database's backends' CPU during the window
    extra: dict = field(default_factory=dict)


def source_address(index: int, base: tuple[int, int]) -> str:
    """A loopback source address for bot `index`: a few guests per address."""
    slot = index // GUESTS_PER_SOURCE
    return f"127.{base[0]}.{(base[1] + slot // 250) % 256}.{slot % 250 + 1}"


class _Progress:
    """A progress bar on stderr (rich), or nothing."""

    def __init__(self, enabled: bool):
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()

    def task(self, name: str, total: float) -> int | None:
        return self.bar.add_task(name, total=total) if self.bar else None

    def advance(self, task, amount: float = 1) -> None:
        if self.bar and task is not None:
            self.bar.advance(task, amount)


async def _gather_limited(items, fn, limit: int, progress: _Progress, task) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(item):
        async with sem:
            try:
                await fn(item)
            except Exception as exc:
                item.error = item.error or f"{fn.__name__}: {exc!r}"[:300]
            progress.advance(task)

    await asyncio.gather(*(one(item) for item in items))


def _merge_codes(dicts) -> dict[str, int]:
    """Reject codes the measuring bots saw, over the whole run (counting bots only count)."""
    out: dict[str, int] = {}
    for d in dicts:
        for code, n in d.items():
            out[code] = out.get(code, 0) + n
    return out


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def run_load(cfg: LoadConfig) -> dict:
    """Run the workload against `cfg.urls` and return the report (see `build_report`)."""
    rng = random.Random(cfg.seed)
    base = (rng.randint(1, 254), rng.randint(0, 255))
    window = Window()
    bots = [
        # Bot i plays in match i % M; its server alternates within the match, so every
        # match spans every server (the broadcast must cross the layer).
        Bot(
            i,
            cfg.urls[(i // cfg.matches) % len(cfg.urls)],
            window,
            enc=cfg.enc,
            measuring=i < cfg.measure,
            tick_rate=cfg.tick_rate,
            cubes=cfg.cubes,
            arena=cfg.arena,
            local_address=source_address(i, base) if cfg.spread_sources else None,
            seed=rng.randrange(2**32),
            routes=cfg.routes,
        )
        for i in range(cfg.bots)
    ]
    pids = cfg.server_pids if cfg.server_pids is not None else discover(cfg.urls, cfg.workers)
    sampler = ProcessSampler(pids)
    lag = LoopLag()
    lag_task = asyncio.get_running_loop().create_task(lag.run())
    per_match = -(-cfg.bots // cfg.matches)
    started = time.monotonic()
    setup: dict[str, float] = {}
    with _Progress(cfg.progress) as progress:
        # 1-2. accounts and matches
        if cfg.baseline:
            matches = [{"id": str(uuid.uuid4())} for _ in range(cfg.matches)]
        else:
            await _gather_limited(
                bots, Bot.sign_up, cfg.concurrency, progress, progress.task("accounts", len(bots))
            )
            matches = [None] * cfg.matches
            for m, bot in enumerate(bots[: cfg.matches]):
                try:
                    matches[m] = await bot.create_match(
                        f"load {cfg.label or 'run'} {m + 1}", max(2, per_match)
                    )
                except Exception as exc:
                    bot.error = f"create_match: {exc!r}"[:300]
        setup["accounts_s"] = round(time.monotonic() - started, 2)

        # 3. sockets
        async def open_socket(bot: Bot) -> None:
            if bot.error is None:
                match = matches[bot.index % cfg.matches]
                if match is None:
                    raise RuntimeError("its match could not be created")
                await bot.open(match, cfg.baseline)

        await _gather_limited(
            bots, open_socket, cfg.concurrency, progress, progress.task("sockets", len(bots))
        )
        setup["sockets_s"] = round(time.monotonic() - started - setup["accounts_s"], 2)
        live = [b for b in bots if b.error is None and b.sock is not None]

        # 4. cubes
        spawn_task = progress.task("spawning", len(live))
        await _gather_limited(live, Bot.spawn, max(1, len(live)), progress, spawn_task)

        # 5. the window
        t0 = time.monotonic() + WARMUP_S
        end = t0 + cfg.seconds
        movers = [
            asyncio.get_running_loop().create_task(b.move(t0 - WARMUP_S, end, cfg.move_every)) for b in live
        ]
        # What needs an import or a connection is made in the warm-up: a stall of the bots'
        # loop in the window would show as late sends and long snapshot intervals.
        redis_stats = RedisCommands(cfg.redis_url) if cfg.redis_url else None
        if cfg.postgres_url:  # the database's backends serve the servers: theirs too, as they come
            sampler.more = functools.partial(postgres_backends, cfg.postgres_url)
            sampler.add(await asyncio.to_thread(sampler.more))
        await asyncio.sleep(max(0.0, t0 - time.monotonic()))
        lag_start = await _tick_lags(bots, matches, cfg)
        if redis_stats is not None:
            redis_stats.reset()
        window.start, window.open = time.monotonic(), True
        at_start = {b.index: b.counters.copy() for b in live}
        lag.samples.clear()
        sampler.start()
        own_cpu = _own_cpu()
        measure_task = progress.task("measuring", round(cfg.seconds))
        while time.monotonic() < end:
            await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
            progress.advance(measure_task)
        window.end, window.open = time.monotonic(), False
        sampler.stop()
        if redis_stats is not None:
            setup["redis_commands"] = redis_stats.since()
        setup["bots_cpu_pct"] = round(100 * (_own_cpu() - own_cpu) / (window.end - window.start), 1)
        at_end = {b.index: b.counters.copy() for b in live}
        loop_lag = sorted(lag.samples)
        await asyncio.gather(*movers, return_exceptions=True)
        await asyncio.sleep(0.3)  # acks of the last commands
        setup["tick_lag"] = ticklag.summary(_merge_lags(await _tick_lags(bots, matches, cfg), lag_start))

    # 6. teardown
    for b in bots:
        b.closing = True
    for b in live:
        if b.index < cfg.matches:
            await b.end_match()
    await asyncio.gather(*(b.close() for b in bots), return_exceptions=True)
    lag_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await lag_task
    return build_report(cfg, bots, live, at_start, at_end, window, sampler, loop_lag, setup)


def postgres_backends(url: str) -> list[int]:
    """The PIDs of the PostgreSQL backends connected to the database `url` names."""
    import psycopg

    db = url.rsplit("/", 1)[-1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db]).fetchall()
    return [r[0] for r in rows]


class RedisCommands:
    """Redis' command counts (INFO commandstats) from `reset`, read by `since`."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)
        self.client.ping()  # connected now, not in the window

    def reset(self) -> None:
        self.client.config_resetstat()

    def since(self) -> dict[str, int]:
        stats = self.client.info("commandstats")
        skip = ("cmdstat_info", "cmdstat_config")
        return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items() if k not in skip}


async def _tick_lags(bots: list, matches: list, cfg: LoadConfig) -> list[dict | None]:
    """Each match's tick-lag histogram as its arbiter last wrote it (about once a second)."""
    if cfg.baseline:
        return []
    out = []
    for m, match in enumerate(matches):
        try:
            out.append((await bots[m].account.match(match["id"]))["tick_lag"]["hist"])
        except Exception:  # an older server, or the match is gone: no figure, not a failure
            out.append(None)
    return out


def _merge_lags(end: list, start: list) -> dict[int, int]:
    merged: dict[int, int] = {}
    for later, earlier in zip(end, start):
        if later is not None:
            for ms, n in ticklag.since(later, earlier).items():
                merged[ms] = merged.get(ms, 0) + n
    return merged


def build_report(
    cfg: LoadConfig,
    bots: list[Bot],
    live: list[Bot],
    at_start: dict,
    at_end: dict,
    window: Window,
    sampler: ProcessSampler,
    loop_lag: list[float],
    setup: dict,
) -> dict:
    """Figures of one run: latencies, snapshot intervals, traffic, drops, the server's CPU."""
    seconds = window.end - window.start
    nominal = 1.0 / cfg.tick_rate
    measuring = [b for b in live if b.measuring]
    acks = [v for b in measuring for v in b.timings.ack]
    visible = [v for b in measuring for v in b.timings.visible]
    intervals = [v for b in measuring for v in b.timings.interval]
    received = {b.index: at_end[b.index].msgs_in - at_start[b.index].msgs_in for b in live}
    bytes_in = sum(at_end[i].bytes_in - at_start[i].bytes_in for i in at_end)
    frames_in = sum(received.values())
    commands = sum(at_end[i].cmds - at_start[i].cmds for i in at_end)
    rejected = sum(at_end[i].rejected - at_start[i].rejected for i in at_end)
    behind = [b.index for b in live if b.behind(seconds, nominal, received[b.index])]
    failed = [b for b in bots if b.error is not None and b not in live]
    dropped = [b for b in live if b.dropped]
    interval = summary_ms(intervals, (50, 99))
    server = sampler.report()
    handled = frames_in + commands
    server["us_per_msg"] = round(server["cpu_s"] * 1e6 / handled, 1) if handled and server["pids"] else None
    redis_commands = setup.pop("redis_commands", None)
    if redis_commands is not None:  # Redis' work per client-message, by command
        server["redis_per_msg"] = round(sum(redis_commands.values()) / handled, 3) if handled else None
        server["redis_commands"] = redis_commands
    lag99 = percentile(loop_lag, 99)
    n = max(1, len(live))
    report = {
        "label": cfg.label,
        "config": {k: v for k, v in asdict(cfg).items() if k not in ("progress", "extra")} | cfg.extra,
        "held": None,
        "bots": {
            "requested": cfg.bots,
            "connected": len(live),
            "measuring": len(measuring),
            "failed": len(failed),
            "dropped": len(failed) + len(dropped),
            "behind": len(behind),
            "behind_ids": behind[:20],
            "no_cubes": sum(1 for b in live if not b.cubes),
            "errors": sorted({b.error for b in bots if b.error})[:5],
            "close_codes": sorted({b.close_code for b in dropped if b.close_code is not None}),
        },
        "window_s": round(seconds, 3),
        "setup_s": setup,
        "latency_ms": {
            "ack": summary_ms(acks),
            "visible": summary_ms(visible, (50, 99)),
            "unacked": sum(b.timings.unacked for b in measuring),
        },
        "snap_interval_ms": interval,
        "nominal_ms": ms(nominal),
        "missed_ticks": sum(b.timings.missed for b in measuring),
        "traffic": {
            "bytes_per_bot_s": round(bytes_in / n / seconds, 1) if seconds else None,
            "msgs_per_bot_s": round(frames_in / n / seconds, 2) if seconds else None,
            "frames_in": frames_in,
            "bytes_in": bytes_in,
            "commands_out": commands,
            "rejected": rejected,
            "reject_codes": _merge_codes(b.timings.reject_codes for b in measuring),
        },
        "send": {
            "sends": sum(b.sends for b in live),
            "late": sum(b.late for b in live),
            "skipped": sum(b.skipped for b in live),
            "late_max_ms": ms(max((b.late_max for b in live), default=0)),
        },
        # From the arbiters: a tick's due time to its snapshot leaving (lobby/ticklag.py); the
        # readings are the last flush before the window's edges, so up to a second early.
        "tick_lag_ms": setup.pop("tick_lag", None),
        "bot_loop_lag_ms": {"p99": ms(lag99), "max": ms(loop_lag[-1]) if loop_lag else None},
        "bots_lagged": bool(lag99 is not None and lag99 > 0.5 * nominal),
        "server": server,
    }
    p99 = interval["p99"]
    report["held"] = bool(
        live and p99 is not None and p99 <= 1.5 * ms(nominal) and not behind and not failed and not dropped
    )
    return report
