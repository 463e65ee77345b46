"""A load run's report as a plain two-column table for people (the JSON has everything)."""

from __future__ import annotations


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def rows(report: dict) -> list[tuple[str, str]]:
    cfg, bots, lat = report["config"], report["bots"], report["latency_ms"]
    snap, traffic, server, send = (
        report["snap_interval_ms"],
        report["traffic"],
        report["server"],
        report["send"],
    )
    out = [
        ("target", f"{'baseline ' if cfg['baseline'] else ''}{', '.join(cfg['urls'])}"),
        (
            "workload",
            f"{cfg['bots']} bots in {cfg['matches']} match(es), {cfg['enc']}, {cfg['tick_rate']} Hz, "
            f"{cfg['cubes']} cubes, a move each {cfg['move_every'] * 1000:.0f} ms",
        ),
        ("window", f"{report['window_s']:.1f} s (setup: {report['setup_s']})"),
        ("tick held", "yes" if report["held"] else "NO"),
        (
            "bots",
            f"{bots['connected']} connected, {bots['measuring']} measuring, {bots['dropped']} dropped, "
            f"{bots['behind']} behind, {bots['no_cubes']} without cubes",
        ),
        (
            "cmd -> ack ms",
            f"p50 {_fmt(lat['ack']['p50'])}  p95 {_fmt(lat['ack']['p95'])}  "
            f"p99 {_fmt(lat['ack']['p99'])}  (n {lat['ack']['n']:,}, unacked {lat['unacked']})",
        ),
        (
            "cmd -> visible ms",
            f"p50 {_fmt(lat['visible']['p50'])}  p99 {_fmt(lat['visible']['p99'])}  "
            f"(n {lat['visible']['n']:,})",
        ),
        (
            "snap interval ms",
            f"p50 {_fmt(snap['p50'])}  p99 {_fmt(snap['p99'])}  max {_fmt(snap['max'])}  "
            f"(nominal {_fmt(report['nominal_ms'])}, missed ticks {report['missed_ticks']})",
        ),
        (
            "arbiter tick lag ms",
            "n/a (no arbiter)"
            if not report.get("tick_lag_ms")
            else f"p50 {report['tick_lag_ms']['p50_ms']}  p99 {report['tick_lag_ms']['p99_ms']}  "
            f"max {report['tick_lag_ms']['max_ms']}  "
            f"(ticks {report['tick_lag_ms']['ticks']:,}; due -> snapshot sent)",
        ),
        ("per bot in", f"{_fmt(traffic['bytes_per_bot_s'])} B/s, {_fmt(traffic['msgs_per_bot_s'])} msgs/s"),
        (
            "totals",
            f"{traffic['frames_in']:,} frames in, {traffic['commands_out']:,} commands out, "
            f"{traffic['rejected']:,} rejected {traffic.get('reject_codes') or ''}",
        ),
        (
            "send cadence",
            f"{send['late']} late of {send['sends']:,}, {send['skipped']} skipped, "
            f"max late {_fmt(send['late_max_ms'])} ms",
        ),
        (
            "bot loop lag ms",
            f"p99 {_fmt(report['bot_loop_lag_ms']['p99'])}  max {_fmt(report['bot_loop_lag_ms']['max'])}"
            + ("  (bot loop lagged: the bots may be the limit)" if report["bots_lagged"] else ""),
        ),
    ]
    for proc in server["processes"]:
        out.append(
            (
                f"server {proc['name']} {proc['pid']}",
                f"CPU {_fmt(proc['cpu_pct'])} % (max {_fmt(proc['cpu_pct_max'])} %), "
                f"RSS {_fmt(proc['rss_mb'])} MB",
            )
        )
    out.append(
        (
            "server total",
            f"CPU {_fmt(server['cpu_pct'])} %, {_fmt(server['cpu_s'])} s, "
            f"{_fmt(server['us_per_msg'])} us per client-message",
        )
    )
    if bots["errors"]:
        out.append(("errors", "; ".join(bots["errors"])))
    return out


def format_table(report: dict) -> str:
    table = rows(report)
    width = max(len(k) for k, _ in table)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in table)
