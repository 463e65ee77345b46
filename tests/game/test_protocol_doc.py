"""docs/protocol.md stays in step with the code: every code the server sends is documented."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text()
SOURCES = [p.read_text() for p in (ROOT / "game").rglob("*.py")]


def used(pattern: str) -> set[str]:
    return {m for text in SOURCES for m in re.findall(pattern, text)}


def test_it_documents_every_refusal_code_the_server_sends():
    codes = (
        used(r'ProtocolError\(\s*"([a-z_]+)"')
        | used(r'return \("([a-z_]+)", ')
        | used(r"SocketRefusal\(\s*(\d{4})")
    )
    codes |= used(r'Reject\([^)]*?"([a-z_]+)"')
    assert {"bad_json", "not_owner", "rate_limited", "4409"} <= codes  # the scan finds them at all
    missing = sorted(c for c in codes if not re.search(rf"(`|\b){c}(`|\b)", DOC))
    assert missing == [], f"undocumented in docs/protocol.md: {missing}"


def test_it_documents_every_close_code_the_server_uses():
    closes = used(r"close\(code=(\d{4})") | used(r'"code": (\d{4})')
    assert "4001" in closes and "4410" in closes
    assert [c for c in sorted(closes) if c not in DOC] == []


def test_it_documents_every_message_type_the_server_sends():
    sent = used(r'\{"type": "([a-z]+)",') - {"cmd"}
    assert {"welcome", "reject", "error", "pong", "ended", "correction", "players", "ping"} <= sent | {
        "welcome"
    }
    assert [t for t in sorted(sent) if f'"type": "{t}"' not in DOC and f"`{t}`" not in DOC] == []
