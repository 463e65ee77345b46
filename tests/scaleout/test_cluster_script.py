"""`scripts/cluster`, the README's one command for a local cluster, run as an operator runs it:
nginx in front of two Daphne servers with their arbiters, and the auditor; Ctrl-C stops it all."""

import asyncio
import os
import signal
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

from channels.db import database_sync_to_async

from lobby.models import Match

from .cluster import Socket, create_match, guest

ROOT = Path(__file__).resolve().parents[2]


def three_free_ports() -> int:
    """A port p with p+1 and p+2 free too (nginx, then the servers)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 2 > 65535:
            continue
        try:
            for p in (port, port + 1, port + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise AssertionError("no three free ports in a row")


def left_in(pgid: int) -> str:
    ps = ["ps", "-o", "pid,stat,etime,cmd", "-g", str(pgid)]
    return subprocess.run(ps, capture_output=True, text=True).stdout


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


async def test_one_command_runs_a_cluster_that_plays_through_nginx_and_ctrl_c_stops_it(
    cluster_db, redis_server
):
    port = three_free_ports()
    logs = tempfile.TemporaryDirectory(prefix="cubearena-cluster-script-")
    env = {
        **os.environ,
        "PORT": str(port),
        "CLUSTER_DB": cluster_db,
        "CLUSTER_DIR": logs.name,
        "REDIS_URL": redis_server.url,
        "CHANNEL_PREFIX": f"cubearena-script-{uuid.uuid4().hex[:8]}",
    }
    env.pop("DATABASE_URL", None)  # the script builds it from CLUSTER_DB
    out = open(Path(logs.name) / "script.out", "w+")
    proc = subprocess.Popen(
        ["scripts/cluster"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    loop = asyncio.get_running_loop()

    def printed() -> str:
        return (Path(logs.name) / "script.out").read_text()

    try:
        deadline = loop.time() + 120  # nginx may be installed first
        while "CubeArena cluster: open" not in printed():
            assert proc.poll() is None, f"scripts/cluster exited:\n{printed()}"
            assert loop.time() < deadline, f"scripts/cluster never said it was up:\n{printed()}"
            await asyncio.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        alice, bob = await guest(url, "alice"), await guest(url, "bob")
        match = await create_match(alice, name="cluster", tick_rate=20)
        assert match["ws"].split("/")[1:3] in (["s", "s1"], ["s", "s2"]), match["ws"]
        a = await Socket.open(alice, match)  # through nginx's /s/<name>/ route
        b = await Socket.open(bob, match, enc="msgpack")
        await a.until_acked(await a.cmd("spawn", at=[2, 3], cid="a1"))
        await b.wait_for(lambda s: alice.player in {e["owner"] for e in s.ents.values()}, what="bob sees it")
        owner = match["ws"].split("/")[2]
        await a.close()
        await b.close()
        for account in (alice, bob):
            await account.close()

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the operator's terminal
        deadline = loop.time() + 20
        while proc.poll() is None or group_alive(proc.pid):
            assert loop.time() < deadline, f"left after Ctrl-C:\n{left_in(proc.pid)}\n{printed()}"
            await asyncio.sleep(0.2)
        record = await database_sync_to_async(Match.objects.get)(pk=match["id"])
        assert record.arbiter_channel == "", "the stopping server did not hand its match over"
        assert "handed over at tick" in (Path(logs.name) / f"{owner}.log").read_text()
    finally:
        if group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        out.close()
        logs.cleanup()
