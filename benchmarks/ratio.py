"""Two systems' server CPU per client-message, measured in turns, step by step.

`run.py` measures each system's steps one after the other, minutes apart. On this shared
machine the same step of the same code moves by 15-30 % from run to run, so a ratio taken from
one pass of each can land anywhere in that band. Here both systems run side by side (each
pinned to the server core, as in run.py), and every step is measured `--rounds` times in
ABBA order (A B, then B A, ...), so a drift of the machine falls on both alike. Printed per
step: each round's us/msg, the medians, their ratio, and the spread of the rounds' ratios.

    .venv/bin/python benchmarks/ratio.py                                   # embedded vs affinity
    .venv/bin/python benchmarks/ratio.py --workloads W1 --steps 25,50 --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
import systems  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--systems", default="embedded,scaled-affinity", help="A,B: B's cost over A's")
    parser.add_argument("--workloads", default="W1,W2")
    parser.add_argument("--steps", default="25,50,100,200")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--measure", type=int, default=20)
    parser.add_argument("--enc", default="msgpack", choices=["json", "msgpack"])
    parser.add_argument("--tick-rate", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/ratio")
    args = parser.parse_args()
    names = args.systems.split(",")
    if len(names) != 2:
        parser.error("--systems takes two systems")
    server_cpus, args.bot_cpus = run.cpus()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, started = [], time.monotonic()
    with contextlib.ExitStack() as stack:
        up = {name: stack.enter_context(systems.make(name, server_cpus, args.tick_rate)) for name in names}
        for workload in args.workloads.split(","):
            print(f"\n{workload} ({run.WORKLOADS[workload]}): us per client-message, {names[1]} / {names[0]}")
            print(
                f"{'N':>5}  {names[0] + ' rounds':<28} {names[1] + ' rounds':<28} {'medians':>17} {'ratio':>6} {'rounds':>11}"
            )
            for n in (int(s) for s in args.steps.split(",")):
                us: dict[str, list[float]] = {name: [] for name in names}
                for k in range(args.rounds):
                    for name in names if k % 2 == 0 else names[::-1]:
                        report = run.run_step(up[name], workload, n, args, out)
                        us[name].append(report["server"]["us_per_msg"])
                a, b = (statistics.median(us[name]) for name in names)
                each = sorted(y / x for x, y in zip(us[names[0]], us[names[1]], strict=True))
                rows.append({"workload": workload, "n": n, "us_per_msg": us, "ratio": round(b / a, 3)})
                print(
                    f"{n:>5}  {' '.join(f'{v:.1f}' for v in us[names[0]]):<28} "
                    f"{' '.join(f'{v:.1f}' for v in us[names[1]]):<28} {a:>8.1f}/{b:<8.1f} {b / a:>6.2f} "
                    f"{each[0]:>5.2f}-{each[-1]:<5.2f}",
                    flush=True,
                )
    result = {"systems": names, "rounds": args.rounds, "seconds": args.seconds, "rows": rows}
    (out / "ratio.json").write_text(json.dumps(result, indent=1))
    print(f"\nwrote {out / 'ratio.json'} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
