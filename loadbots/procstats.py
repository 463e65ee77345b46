"""CPU and memory of the server's processes during a load run (psutil, one sample a second).

The per-process CPU time over the measuring window is what the benchmarks divide by the
messages the server handled; the one-second samples give CPU % and RSS.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import psutil


def listening_pids(port: int) -> set[int]:
    """Processes with a TCP socket listening on `port`."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return set()
    return {
        c.pid for c in conns if c.pid and c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    }


def runworker_pids() -> set[int]:
    """`manage.py runworker` processes of this machine (any project: pass --server-pids to be exact)."""
    found = set()
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if "runworker" in cmdline and any(part.endswith("manage.py") for part in cmdline):
            found.add(proc.info["pid"])
    return found


def discover(urls: list[str], workers: bool = True) -> list[int]:
    """The servers behind `urls` (by listening port) plus, if asked, the runworker processes."""
    pids: set[int] = set()
    for url in urls:
        parts = urlsplit(url)
        pids |= listening_pids(parts.port or (443 if parts.scheme == "https" else 80))
    if workers:
        pids |= runworker_pids()
    return sorted(pids)


class _Tracked:
    def __init__(self, proc: psutil.Process):
        self.proc = proc
        self.name = _label(proc)
        self.cpu_start = 0.0
        self.cpu_end = 0.0
        self.pct: list[float] = []
        self.rss: list[int] = []
        self.gone = False

    def cpu(self) -> float:
        times = self.proc.cpu_times()
        return times.user + times.system


def _label(proc: psutil.Process) -> str:
    try:
        cmdline = proc.cmdline()
    except (psutil.Error, OSError):
        return "?"
    if "runworker" in cmdline:
        return "runworker"
    if any("daphne" in part for part in cmdline):
        return "daphne"
    if any("baseline_server" in part for part in cmdline):
        return "baseline"
    return proc.name()


class ProcessSampler:
    """Samples the given PIDs every `period` seconds between `start()` and `stop()`."""

    def __init__(self, pids: list[int], period: float = 1.0, more=None):
        """`more`: a blocking function listing PIDs that belong to the servers too (a
        database's backends, which come and go); asked each period, off the loop."""
        self.tracked: list[_Tracked] = []
        self.period = period
        self.more = more
        self._wall_start = 0.0
        self._task: asyncio.Task | None = None
        self._started = 0.0
        self._elapsed = 0.0
        self.add(pids)

    def add(self, pids: list[int]) -> None:
        """Sample these too; a PID already sampled is not counted twice. Once started, a new
        one counts from its birth if it was born in the window, else from now (a second of
        its CPU at most is missed)."""
        known = {t.proc.pid for t in self.tracked}
        for pid in pids:
            if pid in known:
                continue
            try:
                t = _Tracked(psutil.Process(pid))
                if self._task is not None:
                    t.cpu_start = 0.0 if t.proc.create_time() >= self._wall_start else t.cpu()
                    t.cpu_end = t.cpu()
                    t.proc.cpu_percent(None)
            except psutil.Error:
                continue
            self.tracked.append(t)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for t in self.tracked:
            try:
                t.cpu_start = t.cpu_end = t.cpu()
                t.proc.cpu_percent(None)  # primes the next call
            except psutil.Error:
                t.gone = True
        self._started, self._wall_start = loop.time(), time.time()
        self._task = loop.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            if self.more is not None:
                self.add(await asyncio.to_thread(self.more))
            for t in self.tracked:
                if t.gone:
                    continue
                try:
                    t.pct.append(t.proc.cpu_percent(None))
                    t.rss.append(t.proc.memory_info().rss)
                    t.cpu_end = t.cpu()
                except psutil.Error:
                    t.gone = True

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._elapsed = asyncio.get_running_loop().time() - self._started
        for t in self.tracked:
            if not t.gone:
                try:
                    t.cpu_end = t.cpu()
                    t.rss.append(t.proc.memory_info().rss)
                except psutil.Error:
                    t.gone = True

    def report(self) -> dict:
        processes = []
        for t in self.tracked:
            cpu_s = t.cpu_end - t.cpu_start
            processes.append(
                {
                    "pid": t.proc.pid,
                    "name": t.name,
                    "cpu_s": round(cpu_s, 3),
                    "cpu_pct": round(100 * cpu_s / self._elapsed, 1) if self._elapsed else None,
                    "cpu_pct_max": round(max(t.pct), 1) if t.pct else None,
                    "rss_mb": round(max(t.rss) / 2**20, 1) if t.rss else None,
                    "exited": t.gone,
                }
            )
        cpu_s = sum(p["cpu_s"] for p in processes)
        return {
            "pids": [p["pid"] for p in processes],
            "processes": processes,
            "seconds": round(self._elapsed, 3),
            "cpu_s": round(cpu_s, 3),
            "cpu_pct": round(100 * cpu_s / self._elapsed, 1) if self._elapsed else None,
            "rss_mb": round(sum(p["rss_mb"] or 0 for p in processes), 1),
        }
