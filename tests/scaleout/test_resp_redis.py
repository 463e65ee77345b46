"""game/transport/resp.py against a real redis-server of the test's own: the URL's password and
database, and a Redis that restarts between two calls."""

from __future__ import annotations

import pytest
import redis

from game.transport import resp


async def test_the_urls_password_and_database_are_used(redis_server):
    with redis_server.client() as client:
        client.config_set("requirepass", "s3cret")
    conn = resp.RespConnection(f"redis://:s3cret@127.0.0.1:{redis_server.port}/3")
    try:
        assert await conn.call("SET", "k", b"in db 3") == b"OK"
    finally:
        conn.close()
    with redis.Redis(port=redis_server.port, password="s3cret", db=3) as client:
        assert client.get("k") == b"in db 3"
    wrong = resp.RespConnection(f"redis://:wrong@127.0.0.1:{redis_server.port}/0")
    with pytest.raises(resp.ReplyError):
        await wrong.call("PING")
    assert wrong.current() is None  # a connection that failed its set-up is not kept


async def test_a_restarted_redis_is_reached_again(redis_server):
    conn = resp.RespConnection(redis_server.url)
    try:
        assert await conn.call("PING") == b"PONG"
        redis_server.restart_empty()
        with pytest.raises(ConnectionError):  # the old connection is gone with the old process
            await conn.call("PING")
        assert await conn.call("PING") == b"PONG"
    finally:
        conn.close()


async def test_a_script_redis_lost_is_sent_again_with_its_text(redis_server):
    script = resp.Script("return {KEYS[1], ARGV[1]}")
    conn = resp.RespConnection(redis_server.url)
    try:
        assert await conn.script(script, ["k"], [7]) == [b"k", b"7"]  # not loaded yet: EVAL
        with redis_server.client() as client:
            assert client.script_exists(script.sha) == [True]  # Redis knows it by our SHA1 now
        assert await conn.script(script, ["k"], [8]) == [b"k", b"8"]  # now EVALSHA
        with redis_server.client() as client:
            client.script_flush()
        assert await conn.script(script, ["k"], [9]) == [b"k", b"9"]
        with pytest.raises(resp.ReplyError, match="boom"):  # the script's own error is raised
            await conn.script(resp.Script("return redis.error_reply('boom')"), [], [])
    finally:
        conn.close()
