"""Drive N headless bot players over real WebSockets against a running server and measure it.

1. Mint N guests and create M matches through the HTTP API (--baseline: no HTTP at all).
2. Open every socket, spawn 5 cubes per bot, then send one move per bot every 100 ms.
3. For --seconds, K measuring bots time acks, visibility and snapshot arrivals; every bot
   counts bytes and messages; the server's processes are sampled every second.
4. Print a table (stdout) and, with --json, write the full report.

    manage.py loadbots --url http://127.0.0.1:8000 --bots 100 --matches 1 --seconds 20
"""

import asyncio
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from loadbots.load import LoadConfig, run_load
from loadbots.report import format_table


def run(config: LoadConfig) -> dict:
    """Run on uvloop when it is installed (the bots' loop is the hot path), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run_load(config))
    return uvloop.run(run_load(config))


class Command(BaseCommand):
    help = __doc__.splitlines()[0]
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            action="append",
            required=True,
            help="server base URL; repeat (or comma-separate) to split the bots across servers",
        )
        parser.add_argument("--bots", type=int, default=10, help="players (default 10)")
        parser.add_argument(
            "--matches", type=int, default=1, help="matches; bot i joins match i %% M (default 1)"
        )
        parser.add_argument("--seconds", type=float, default=10, help="measuring window (default 10)")
        parser.add_argument(
            "--measure", type=int, default=20, help="bots that decode and time every frame (default 20)"
        )
        parser.add_argument("--enc", choices=["json", "msgpack"], default="json")
        parser.add_argument("--tick-rate", type=int, default=20)
        parser.add_argument("--cubes", type=int, default=5, help="cubes per bot (default 5)")
        parser.add_argument(
            "--baseline",
            action="store_true",
            help="the target is benchmarks/baseline_server.py: no HTTP API, ?player=N",
        )
        parser.add_argument(
            "--server-pids",
            default=None,
            help="comma-separated PIDs to sample (default: listeners on the URLs' ports + runworkers)",
        )
        parser.add_argument("--no-workers", action="store_true", help="do not look for runworker processes")
        parser.add_argument(
            "--no-spread",
            action="store_true",
            help="mint every guest from 127.0.0.1 (the lobby allows 20 guests per address an hour)",
        )
        parser.add_argument(
            "--route",
            action="append",
            default=[],
            metavar="NAME=URL",
            help="open socket paths under /s/NAME/ on URL (what the reverse proxy does; affinity)",
        )
        parser.add_argument(
            "--redis-url", default=None, help="count this Redis' commands in the window, per client-message"
        )
        parser.add_argument(
            "--postgres",
            default=None,
            metavar="URL",
            help="count the CPU of every PostgreSQL backend of this database in the window "
            "(those opened after the start too)",
        )
        parser.add_argument("--label", default="", help="a name for this run in the report")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--json", dest="json_path", default=None, help="write the report here")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, **opts):
        urls = [u.strip().rstrip("/") for arg in opts["url"] for u in arg.split(",") if u.strip()]
        if opts["bots"] < 1 or opts["matches"] < 1 or opts["matches"] > opts["bots"]:
            raise CommandError("need 1 <= --matches <= --bots")
        pids = None
        if opts["server_pids"] is not None:
            try:
                pids = [int(p) for p in opts["server_pids"].split(",") if p.strip()]
            except ValueError:
                raise CommandError("--server-pids takes comma-separated integers") from None
        routes = {}
        for route in opts["route"]:
            name, sep, url = route.partition("=")
            if not sep or not name or not url.startswith("http"):
                raise CommandError(f"--route takes NAME=URL, not {route!r}")
            routes[name] = url.rstrip("/")
        config = LoadConfig(
            urls=urls,
            routes=routes,
            redis_url=opts["redis_url"],
            postgres_url=opts["postgres"],
            bots=opts["bots"],
            matches=opts["matches"],
            seconds=opts["seconds"],
            measure=opts["measure"],
            enc=opts["enc"],
            tick_rate=opts["tick_rate"],
            cubes=opts["cubes"],
            baseline=opts["baseline"],
            server_pids=pids,
            workers=not opts["no_workers"],
            spread_sources=not opts["no_spread"],
            label=opts["label"],
            seed=opts["seed"],
            progress=not opts["quiet"],
        )
        report = run(config)
        self.stdout.write(format_table(report))
        if opts["json_path"]:
            Path(opts["json_path"]).write_text(json.dumps(report, indent=2))
