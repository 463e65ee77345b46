"""Operations: /healthz, static files with DEBUG off, production settings."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from cubearena.liveserver import LiveServer

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "test-only-" + "k" * 60,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE": "0",  # plain http on loopback for this test; production keeps the default (on)
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("arbiter")
async def test_it_reports_health_of_database_layer_and_arbiter(async_client):
    response = await async_client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] and body["checks"] == {"database": "ok", "channel_layer": "ok", "arbiter": "ok"}


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def test_it_serves_hashed_static_files_and_pages_with_debug_off():
    with LiveServer(env=PRODUCTION_ENV, collectstatic=True) as server:
        manifest = json.loads((Path(server.env["STATIC_ROOT"]) / "staticfiles.json").read_text())["paths"]
        hashed = manifest["vendor/three.module.js"]
        assert hashed != "vendor/three.module.js"
        status, kind, body = get(f"{server.url}/static/{hashed}")
        assert status == 200 and "javascript" in kind and b"REVISION" in body
        status, kind, body = get(f"{server.url}/")
        assert status == 200 and "text/html" in kind
        status, _, body = get(f"{server.url}/healthz")
        assert json.loads(body)["ok"]


def test_it_passes_the_deploy_check_with_the_production_environment():
    env = {**os.environ, **PRODUCTION_ENV, "SECURE": "1"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
