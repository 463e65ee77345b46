"""The same bot workload against CubeArena and a bare baseline, N stepped up until the tick is lost.

Systems: CubeArena embedded (one Daphne, in-memory layer, in-process arbiter, SQLite);
CubeArena scaled out (2 Daphne + 2 `runworker arbiter` on channels-redis, PostgreSQL);
the bare `websockets` baseline with predictive deltas and with full state.
Workloads: W1 one match of N players; W2 10 matches of N/10. 20 Hz, 5 cubes per player,
one move per player per 100 ms, 100 x 100 arena. For every system and workload N goes
25, 50, 100, ... until the client-seen snapshot interval p99 exceeds 1.5x nominal or a bot
falls behind. Servers are pinned to one core and the bots to the other.

    .venv/bin/python benchmarks/run.py --smoke    # well under a minute: N=4, embedded + baseline
    .venv/bin/python benchmarks/run.py --quick    # a few minutes
    .venv/bin/python benchmarks/run.py            # the full ladder (long)

Writes benchmarks/results/<mode>.json and <mode>.png (or under --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import plot, systems  # noqa: E402

ALL_SYSTEMS = ["embedded", "scaled", "scaled-affinity", "scaled-across", "baseline-delta", "baseline-full"]
WORKLOADS = {"W1": "one match of N players", "W2": "10 matches of N/10 players"}
MIN_N = 4  # below the first step, N is halved down to this to find what does hold
MODES = {
    # mode: (systems, workloads, steps, seconds per step)
    "smoke": (["embedded", "baseline-delta"], ["W1"], [4], 3.0),
    "quick": (ALL_SYSTEMS, ["W1", "W2"], [25, 50, 100, 200, 400], 5.0),
    "full": (ALL_SYSTEMS, ["W1", "W2"], [25, 50, 100, 200, 400, 800, 1600, 3200], 15.0),
}


def matches_for(workload: str, n: int) -> int:
    return 1 if workload == "W1" else max(1, min(10, n // 2))


def run_step(system: systems.System, workload: str, n: int, args, out_dir: Path) -> dict:
    """One loadbots run in its own process, pinned to the bots' core; its JSON report."""
    label = f"{system.name}-{workload}-{n}"
    json_path = out_dir / f"{label}.json"
    cmd = [
        sys.executable,
        "manage.py",
        "loadbots",
        "--bots",
        str(n),
        "--matches",
        str(matches_for(workload, n)),
        "--seconds",
        str(args.seconds),
        "--measure",
        str(args.measure),
        "--enc",
        args.enc,
        "--tick-rate",
        str(args.tick_rate),
        "--server-pids",
        ",".join(map(str, system.pids)),
        "--label",
        label,
        "--seed",
        str(zlib.crc32(f"{label}-{time.time()}".encode())),
        "--json",
        str(json_path),
        "--quiet",
    ]
    for url in system.urls:
        cmd += ["--url", url]
    for name, url in getattr(system, "routes", {}).items():
        cmd += ["--route", f"{name}={url}"]
    if system.baseline:
        cmd.append("--baseline")
    bot_cpus = args.bot_cpus

    def pin_bots():
        if bot_cpus:
            os.sched_setaffinity(0, bot_cpus)

    timeout = 240 + n * 0.5 + args.seconds
    redis = getattr(system, "redis", None)  # a Redis of the system's own: count its commands
    if redis is not None:
        cmd += ["--redis-url", redis.url]
    if getattr(system, "database", None):  # PostgreSQL's backends serve the servers: their CPU counts
        cmd += ["--postgres", system.database]
    proc = subprocess.run(cmd, cwd=ROOT, preexec_fn=pin_bots, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not json_path.exists():
        raise RuntimeError(f"loadbots failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(json_path.read_text())


def cpus(pin: bool = True) -> tuple[set[int] | None, set[int] | None]:
    """(the servers' cores, the bots' cores): every server process on core 1 and the bots on
    core 0 when there are two cores to pin to; None, None (not pinned) otherwise."""
    return ({1}, {0}) if pin and (os.cpu_count() or 1) >= 2 else (None, None)


def verdict(report: dict) -> str:
    if report["held"]:
        return "held"
    if report["bots_lagged"]:
        return "bots-lag"
    return "lost"


def row(system: str, n: int, r: dict) -> str:
    lat, snap, srv, tr = r["latency_ms"], r["snap_interval_ms"], r["server"], r["traffic"]
    kb = tr["bytes_per_bot_s"] / 1000 if tr["bytes_per_bot_s"] else None
    bots = r["bots"]
    lag = r.get("tick_lag_ms")  # the arbiter's (none for the baseline)
    return (
        f"{system:<15} {n:>5} {verdict(r):>10} {_f(lat['ack']['p50']):>8} {_f(lat['ack']['p99']):>8} "
        f"{_f(lat['visible']['p99']):>8} {_f(snap['p99']):>8} {_f(lag['p99_ms'] if lag else None):>8} "
        f"{bots['behind']:>6} {bots['dropped']:>5} "
        f"{_f(srv['cpu_pct']):>7} {_f(srv['us_per_msg']):>7} {_f(kb):>8} "
        f"{_f(r['setup_s'].get('bots_cpu_pct')):>6} {_f(srv.get('redis_per_msg')):>7}"
    )


HEADER = (
    f"{'system':<15} {'N':>5} {'tick':>10} {'ack p50':>8} {'ack p99':>8} {'vis p99':>8} {'snap p99':>8} {'lag p99':>8} "
    f"{'behind':>6} {'drop':>5} {'srv CPU%':>7} {'us/msg':>7} {'kB/pl/s':>8} {'bot%':>6} {'rds/msg':>7}"
)


def _f(v) -> str:
    return "-" if v is None else f"{v:,.1f}"


def _report(runs: list[dict], system: str, workload: str, n: int) -> dict | None:
    return next(
        (r["report"] for r in runs if (r["system"], r["workload"], r["n"]) == (system, workload, n)), None
    )


def _compare_n(runs: list[dict], a: str, b: str, workload: str) -> int | None:
    """The N to compare two systems at: the largest both held, else the smallest both ran."""
    both = sorted(
        {r["n"] for r in runs if r["workload"] == workload and r["system"] == a}
        & {r["n"] for r in runs if r["workload"] == workload and r["system"] == b}
    )
    held = [
        n for n in both if _report(runs, a, workload, n)["held"] and _report(runs, b, workload, n)["held"]
    ]
    return held[-1] if held else (both[0] if both else None)


def summarise(runs: list[dict], system_names: list[str], workloads: list[str]) -> dict:
    """Largest N held per system and workload; CPU per client-message and bytes per player,
    each CubeArena system against each baseline at the largest N both held."""
    out: dict = {"largest_held": {}, "comparisons": {}}
    for w in workloads:
        held = {}
        for s in system_names:
            ns = [r["n"] for r in runs if r["system"] == s and r["workload"] == w and r["report"]["held"]]
            held[s] = max(ns) if ns else 0
        out["largest_held"][w] = held
        comparisons = []
        for s in system_names:
            if s.startswith("baseline"):
                continue
            for b in ("baseline-delta", "baseline-full"):
                if b not in system_names:
                    continue
                n = _compare_n(runs, s, b, w)
                if n is None:
                    continue
                ra, rb = _report(runs, s, w, n), _report(runs, b, w, n)
                ua, ub = ra["server"]["us_per_msg"], rb["server"]["us_per_msg"]
                comparisons.append(
                    {
                        "system": s,
                        "baseline": b,
                        "n": n,
                        "held_n": [held[s], held[b]],
                        "held_ratio": round(held[s] / held[b], 3) if held[b] else None,
                        "us_per_msg": [ua, ub],
                        "us_ratio": round(ua / ub, 2) if ua and ub else None,
                        "bytes_per_player_s": [
                            ra["traffic"]["bytes_per_bot_s"],
                            rb["traffic"]["bytes_per_bot_s"],
                        ],
                        "ack_p99_ms": [ra["latency_ms"]["ack"]["p99"], rb["latency_ms"]["ack"]["p99"]],
                    }
                )
        out["comparisons"][w] = comparisons
    return out


def print_summary(summary: dict) -> None:
    print("\nlargest N holding the tick (0: not even the smallest step)")
    for w, held in summary["largest_held"].items():
        print(f"  {w}: " + ", ".join(f"{s} {n}" for s, n in held.items()))
    for w, comparisons in summary["comparisons"].items():
        if not comparisons:
            continue
        print(
            f"\n{w}: CubeArena / baseline "
            "(CPU per client-message = server CPU s / (frames out + commands in))"
        )
        print(
            f"  {'pair':<32} {'held N':>11} {'ratio':>6} {'at N':>5} {'us/msg':>17} {'ratio':>6} "
            f"{'B/player/s':>19} {'ack p99 ms':>17}"
        )
        for c in comparisons:
            pair = f"{c['system']}/{c['baseline']}"
            print(
                f"  {pair:<32} {c['held_n'][0]:>5}/{c['held_n'][1]:<5} {_f(c['held_ratio']):>6} {c['n']:>5} "
                f"{_f(c['us_per_msg'][0]):>8}/{_f(c['us_per_msg'][1]):<8} {_f(c['us_ratio']):>6} "
                f"{_f(c['bytes_per_player_s'][0]):>9}/{_f(c['bytes_per_player_s'][1]):<9} "
                f"{_f(c['ack_p99_ms'][0]):>8}/{_f(c['ack_p99_ms'][1]):<8}"
            )


def print_tables(result: dict) -> None:
    """A saved run's per-step rows and summary, as the run printed them."""
    for name in result["config"]["systems"]:
        for w in result["config"]["workloads"]:
            rows = [r for r in result["runs"] if (r["system"], r["workload"]) == (name, w)]
            if rows:
                print(f"\n{name}, {w} ({WORKLOADS[w]})\n{HEADER}")
                for r in rows:
                    print(row(name, r["n"], r["report"]))
    print_summary(result["summary"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--smoke", action="store_true", help="N=4, 3 s, embedded + baseline-delta, W1")
    group.add_argument("--quick", action="store_true", help="N up to 400, 5 s a step")
    parser.add_argument("--systems", help=f"comma-separated, from {','.join(ALL_SYSTEMS)}")
    parser.add_argument("--workloads", help="comma-separated: W1,W2")
    parser.add_argument("--steps", help="comma-separated N values")
    parser.add_argument("--seconds", type=float, help="measuring window per step")
    parser.add_argument("--measure", type=int, default=20, help="measuring bots per step (default 20)")
    parser.add_argument("--enc", choices=["json", "msgpack"], default="json")
    parser.add_argument("--tick-rate", type=int, default=20)
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers to CPU 1 and bots to CPU 0")
    parser.add_argument(
        "--retries", type=int, default=None, help="run a lost step again this many times (default 1; smoke 0)"
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="run every step even after the tick is lost"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--table", type=Path, help="print the tables of a saved run (its JSON) and stop")
    args = parser.parse_args()
    if args.table:
        print_tables(json.loads(args.table.read_text()))
        return 0
    # A terminated run still stops the servers it started (the `with` blocks below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    sys_names, workloads, steps, seconds = MODES[mode]
    sys_names = args.systems.split(",") if args.systems else sys_names
    workloads = args.workloads.split(",") if args.workloads else workloads
    steps = [int(s) for s in args.steps.split(",")] if args.steps else steps
    args.seconds = args.seconds or seconds
    if args.retries is None:
        args.retries = 0 if mode == "smoke" else 1
    server_cpus, args.bot_cpus = cpus(pin=not args.no_pin)
    pinned = server_cpus is not None
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.time()
    runs: list[dict] = []
    print(
        f"mode {mode}: {', '.join(sys_names)}; {', '.join(workloads)}; N in {steps}; "
        f"{args.seconds:g} s a step; "
        f"{args.tick_rate} Hz, {args.enc}; {'servers on CPU 1, bots on CPU 0' if pinned else 'unpinned'}; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="cubearena-run-") as tmp:
        for name in sys_names:
            with systems.make(name, server_cpus, args.tick_rate) as system:
                for w in workloads:
                    print(f"\n{name}, {w} ({WORKLOADS[w]})\n{HEADER}", flush=True)
                    ladder = list(steps)
                    while ladder:
                        n = ladder.pop(0)
                        attempts = []
                        try:
                            for attempt in range(1 + args.retries):
                                if attempt:
                                    time.sleep(3)
                                report = run_step(system, w, n, args, Path(tmp))
                                report["load_average"] = os.getloadavg()[0]
                                attempts.append(report)
                                print(row(name, n, report), flush=True)
                                if report["held"]:
                                    break
                        except (RuntimeError, subprocess.TimeoutExpired) as exc:
                            print(f"{name:<15} {n:>5}  failed: {str(exc)[:300]}", flush=True)
                            break
                        # A lost step is tried again (a shared machine has bursts of other load);
                        # the step counts as held if any attempt held.
                        report = next((r for r in attempts if r["held"]), attempts[-1])
                        runs.append(
                            {
                                "system": name,
                                "workload": w,
                                "n": n,
                                "report": report,
                                "attempts": len(attempts),
                            }
                        )
                        time.sleep(1)  # let ended matches be disposed before the next step
                        if report["held"] or args.keep_going:
                            continue
                        if n <= steps[0] and n // 2 >= MIN_N and not args.smoke:
                            ladder = [n // 2]  # lost at the first step: halve N to find what holds
                        else:
                            break

    summary = summarise(runs, sys_names, workloads)
    print_summary(summary)
    result = {
        "mode": mode,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "seconds_total": round(time.time() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
            "pinned": pinned,
        },
        "config": {
            "systems": sys_names,
            "workloads": workloads,
            "steps": steps,
            "seconds": args.seconds,
            "measure": args.measure,
            "enc": args.enc,
            "tick_rate": args.tick_rate,
        },
        "summary": summary,
        "runs": runs,
    }
    json_path = args.out / f"{mode}.json"
    json_path.write_text(json.dumps(result, indent=2))
    png = plot.write(result, args.out / f"{mode}.png")
    print(f"\nwrote {json_path}" + (f" and {png}" if png else "") + f" ({result['seconds_total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
