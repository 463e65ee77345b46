"""Start a real CubeArena server (Daphne) in a subprocess on a free loopback port.

Browser tests and benchmarks use it; it migrates its own SQLite file unless the caller's
environment names another database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stop_process(proc: subprocess.Popen | None, grace: float = 10) -> None:
    """Terminate a child process, killing it if it does not exit within `grace` seconds."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()


def daphne_argv(port: int) -> list[str]:
    """The command that serves the project with Daphne on a loopback port."""
    return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "cubearena.asgi:application"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`with LiveServer() as server:` ... `server.url` ... (stopped on exit)."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        port: int | None = None,
        log_path: Path | None = None,
        collectstatic: bool = False,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="cubearena-live-")
        inherited = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # embedded unless asked
        self.env = {
            **inherited,
            "DATABASE_URL": f"sqlite:///{self._tmp.name}/db.sqlite3",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "cubearena.settings",
            **(env or {}),
        }
        self.collectstatic = collectstatic
        if collectstatic:
            self.env["STATIC_ROOT"] = f"{self._tmp.name}/static"
        self.log_path = log_path or Path(self._tmp.name) / "server.log"
        self.proc: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> LiveServer:
        self.manage("migrate", "--noinput")
        if self.collectstatic:
            self.manage("collectstatic", "--noinput", "-v", "0")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            daphne_argv(self.port),
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log_path}")
            try:
                urllib.request.urlopen(self.url + "/api/csrf", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not answer within 30 s; see {self.log_path}")

    def stop(self) -> None:
        stop_process(self.proc)
        if getattr(self, "_log", None):
            self._log.close()
        self._tmp.cleanup()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
