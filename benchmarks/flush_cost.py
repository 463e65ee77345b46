"""What a match's once-a-second flush (game/records/flush.py) costs the database and the
arbiter's thread: CPU of the PostgreSQL backend and of the writing thread per flush, round
trips, bytes of WAL, for a match of N players, through the arbiter's own PendingRecords.

No server, no sockets: a scripted match (each player spawns 5 cubes, then moves one every
100 ms, as the load bots do) ticked at 20 Hz; every 20 ticks its flush is written as an
arbiter's lane would write it. The backend's CPU is read from /proc (so PostgreSQL runs on
this machine); the thread's with `time.thread_time`. The database is a throwaway one made for
the run (dropped after) on the PostgreSQL of `--postgres`.

    .venv/bin/python benchmarks/flush_cost.py                    # 2, 5, 20 and 200 players
    .venv/bin/python benchmarks/flush_cost.py --players 20 --flushes 200
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "cubearena_flush_cost"


def _psql(base: str, sql: str) -> None:
    subprocess.run(["psql", f"{base}/postgres", "-qc", sql], check=True, capture_output=True)


def measure(players: int, flushes: int, warm: int = 5) -> dict:
    """Play and flush a match of `players`; the mean cost per flush after `warm` flushes."""
    from django.db import connection

    from game.arbiter.pending import PendingRecords
    from game.records import lane
    from game.records.flush import flush
    from game.sim import inputlog
    from game.sim.commands import Command
    from game.sim.match import MatchState
    from game.sim.world import World
    from lobby import limits as match_limits
    from lobby.models import Match, Participation, Player

    people = [Player.objects.create(nickname=f"p{i}") for i in range(players)]
    match = Match.objects.create(name="flush", creator=people[0], tick_rate=20, status="running", epoch=1)
    Participation.objects.bulk_create(Participation(match=match, player=p, color="#000000") for p in people)
    world = World(match.arena_width, match.arena_depth, match_limits.DEFAULT_SPEED, match.tick_rate)
    state = MatchState(world, creator=people[0].pk)
    for p in people:
        state.seat(p.pk, p.nickname, "#000000", 0.0)
    records, rng = PendingRecords(str(match.pk), 1), random.Random(1)
    seq = dict.fromkeys((p.pk for p in people), 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    tail, now, totals, n = [], 0.0, dict.fromkeys(("pg", "thread", "trips", "wal"), 0.0), 0
    for t in range(1, 20 * (flushes + warm) + 1):
        now += 0.05
        for p in people:
            own = [e.id for e in state.world.owned_by(p.pk)]
            if len(own) < 5 or rng.random() < 0.5:
                seq[p.pk] += 1
                point = (rng.uniform(-40, 40), rng.uniform(-40, 40))
                op, ids = ("spawn", ()) if len(own) < 5 else ("move", (rng.choice(own),))
                state.submit(Command(p.pk, seq[p.pk], state.world.tick, op, ids, point), now)
        state.tick(now)
        entry = state.take_entry()
        tail.append((entry.tick, inputlog.encode(entry)))
        if t % 20:
            continue
        batch = records.batch(state, None, now, log=tail)
        lane._local.deadline = time.monotonic() + 30
        wal0, pg0, th0, trips0 = _wal(), _cpu(backend), time.thread_time(), _trips
        flush(batch)
        pg1, th1, trips1 = _cpu(backend), time.thread_time(), _trips
        wal1 = _wal()
        records.settle(state, records.in_flight.number, ok=True)
        if batch.checkpoint is not None:
            tail = [(tick, d) for tick, d in tail if tick > batch.tick]
        if t > 20 * warm:
            n += 1
            totals["pg"] += pg1 - pg0
            totals["thread"] += th1 - th0
            totals["trips"] += trips1 - trips0
            totals["wal"] += wal1 - wal0
    return {
        "players": players,
        "flushes": n,
        "pg_ms": round(1000 * totals["pg"] / n, 2),
        "thread_ms": round(1000 * totals["thread"] / n, 2),
        "round_trips": round(totals["trips"] / n, 1),
        "wal_kb": round(totals["wal"] / n / 1024, 1),
        "checkpoint_kb": round(len(str(state.checkpoint(now))) / 1024, 1),
    }


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_wal_conn = None


def _wal() -> int:
    """The cluster's WAL position, read on a connection of its own (not the backend measured)."""
    import psycopg

    global _wal_conn
    if _wal_conn is None:
        _wal_conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return int(_wal_conn.execute("SELECT pg_current_wal_lsn() - '0/0'").fetchone()[0])


_trips = 0  # statements and transaction commands answered one at a time, plus pipeline syncs


def _count_round_trips() -> None:
    """Count what the server answers before the client goes on: every statement or command
    sent outside a pipeline, and every sync of one (statements in a pipeline share its sync)."""
    from psycopg import _connection_base, _cursor_base, _pipeline_base, client_cursor

    def counted(fn, queued):
        def send(self, *args, **kwargs):
            global _trips
            _trips += not queued(self)
            return fn(self, *args, **kwargs)

        return send

    conn_base, cursor_base = _connection_base.BaseConnection, _cursor_base.BaseCursor
    conn_base._exec_command = counted(conn_base._exec_command, lambda conn: conn._pipeline)
    for cls in (cursor_base, client_cursor.ClientCursorMixin):
        cls._execute_send = counted(cls._execute_send, lambda cur: cur._conn._pipeline)
    sync = _pipeline_base.BasePipeline
    sync._enqueue_sync = counted(sync._enqueue_sync, lambda pipeline: False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--players", default="2,5,20,200", help="comma-separated match sizes")
    parser.add_argument("--flushes", type=int, default=100, help="flushes measured per size")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    _psql(args.postgres, f'DROP DATABASE IF EXISTS "{DB}"')
    _psql(args.postgres, f'CREATE DATABASE "{DB}"')
    os.environ["DATABASE_URL"] = f"{args.postgres}/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cubearena.settings")
    os.environ["DEBUG"] = "0"  # as a deployment runs: no query log in the thread
    os.environ.setdefault("SECRET_KEY", "flush-cost")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("SECURE", "0")
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        _count_round_trips()
        print(
            f"{'players':>7} {'flushes':>7} {'PG ms':>7} {'thread ms':>9} {'trips':>6} {'WAL kB':>7} {'ckpt kB':>8}"
        )
        for players in (int(p) for p in args.players.split(",")):
            r = measure(players, max(10, args.flushes if players <= 20 else args.flushes // 4))
            print(
                f"{r['players']:>7} {r['flushes']:>7} {r['pg_ms']:>7} {r['thread_ms']:>9} "
                f"{r['round_trips']:>6} {r['wal_kb']:>7} {r['checkpoint_kb']:>8}"
            )
        print("per flush (one a match-second); PG: the backend's CPU; thread: the writing thread's CPU")
    finally:
        from django.db import connections

        connections.close_all()
        if _wal_conn is not None:
            _wal_conn.close()
        _psql(args.postgres, f'DROP DATABASE IF EXISTS "{DB}"')


if __name__ == "__main__":
    main()
