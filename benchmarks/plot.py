"""A PNG of a benchmarks/run.py result: latency p99 and server CPU against N, per workload."""

from __future__ import annotations

from pathlib import Path


def write(result: dict, path: Path) -> Path | None:
    """Two panels per workload (ack p99, server CPU %), one line per system; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return None
    runs = result["runs"]
    workloads = result["config"]["workloads"]
    systems = result["config"]["systems"]
    fig, axes = plt.subplots(len(workloads), 2, figsize=(11, 4 * len(workloads)), squeeze=False)
    for row, w in enumerate(workloads):
        lat_ax, cpu_ax = axes[row]
        for s in systems:
            pts = sorted((r["n"], r["report"]) for r in runs if r["system"] == s and r["workload"] == w)
            if not pts:
                continue
            ns = [n for n, _ in pts]
            lat = [_num(rep["latency_ms"]["ack"]["p99"]) for _, rep in pts]
            cpu = [_num(rep["server"]["cpu_pct"]) for _, rep in pts]
            lat_ax.plot(ns, lat, marker="o", label=s)
            cpu_ax.plot(ns, cpu, marker="o", label=s)
            for n, rep in pts:
                if not rep["held"] and rep["latency_ms"]["ack"]["p99"] is not None:
                    lat_ax.plot(
                        [n], [rep["latency_ms"]["ack"]["p99"]], marker="x", color="red", markersize=10
                    )
        nominal = 1000 / result["config"]["tick_rate"]
        lat_ax.axhline(nominal, color="grey", linestyle=":", linewidth=1)
        for ax, title, unit in (
            (lat_ax, "command -> ack p99", "ms"),
            (cpu_ax, "server CPU", "% of one core"),
        ):
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.set_xlabel("players (N)")
            ax.set_ylabel(unit)
            ax.set_title(f"{w}: {title}")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        if any(
            line.get_ydata().size and (line.get_ydata().astype(float) > 0).any()
            for line in lat_ax.get_lines()
        ):
            lat_ax.set_yscale("log")
    fig.suptitle(
        f"CubeArena vs bare baseline ({result['mode']}, {result['config']['tick_rate']} Hz, "
        f"{result['config']['enc']}); x: tick lost"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _num(v) -> float:
    return float("nan") if v is None else float(v)
