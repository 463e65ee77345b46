"""game/transport/resp.py, the log appends' lean Redis connection: its reply parser, and how it
fails against servers that misbehave (here small asyncio servers; tests/scaleout/test_resp_redis.py
has the real Redis)."""

from __future__ import annotations

import asyncio

import pytest

from game.transport import resp
from tests.own_loop import in_own_loop


def parse_all(data: bytes, step: int) -> list:
    """Feed `data` `step` bytes at a time; every reply the parser completes, in order."""
    parser, replies = resp.Parser(), []
    for i in range(0, len(data), step):
        parser.feed(data[i : i + step])
        while (reply := parser.next()) is not resp._MORE:
            replies.append(reply)
    return replies


@pytest.mark.parametrize("step", [1, 2, 7, 1000])
def test_the_parser_reads_every_reply_kind_however_the_bytes_arrive(step):
    data = (
        b":42\r\n"
        b"$5\r\nhe\r\nl\r\n"  # a bulk string holding CR LF
        b"$-1\r\n"
        b"+OK\r\n"
        b"-NOSCRIPT No matching script\r\n"
        b"*3\r\n:1\r\n*2\r\n:-1\r\n$3\r\nabc\r\n$0\r\n\r\n"
        b"*0\r\n"
    )
    replies = parse_all(data, step)
    assert replies[:4] == [42, b"he\r\nl", None, b"OK"]
    assert isinstance(replies[4], resp.ReplyError) and str(replies[4]).startswith("NOSCRIPT")
    assert replies[5:] == [[1, [-1, b"abc"], b""], []]


def test_a_command_is_an_array_of_bulk_strings():
    expected = b"*4\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$1\r\n7\r\n$3\r\n1.5\r\n"
    assert resp.encode(("SET", b"k\r\n", 7, 1.5)) == expected


def bounded(aw):
    """A test that fails does not hang: every wait here ends within 5 s."""
    return asyncio.wait_for(aw, 5)


async def serve(handle) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"


@in_own_loop
async def test_requests_not_answered_in_time_fail_and_the_next_one_connects_again():
    connections = []

    async def handle(reader, writer):
        connections.append(writer)
        if len(connections) == 1:
            await reader.read(1000)  # the first connection hears the requests, never answers
            await asyncio.sleep(30)
        while line := await reader.readline():  # then: +OK to every command (its first line)
            if line.startswith(b"*"):
                writer.write(b"+OK\r\n")

    server, url = await serve(handle)
    conn = resp.RespConnection(url, timeout=0.3)
    try:
        started = asyncio.get_running_loop().time()
        both = await bounded(asyncio.gather(conn.call("PING"), conn.call("PING"), return_exceptions=True))
        assert all(isinstance(e, TimeoutError) for e in both), both
        assert asyncio.get_running_loop().time() - started < 2
        assert await bounded(conn.call("PING")) == b"OK"
        assert len(connections) == 2
    finally:
        conn.close()
        server.close()


@in_own_loop
async def test_a_connection_closed_mid_request_fails_it_and_the_next_one_connects_again():
    connections = []

    async def handle(reader, writer):
        connections.append(writer)
        await reader.readline()
        if len(connections) == 1:
            writer.write(b":1")  # half a reply, then gone
            writer.close()
            return
        writer.write(b":7\r\n")

    server, url = await serve(handle)
    conn = resp.RespConnection(url)
    try:
        with pytest.raises(ConnectionError):
            await bounded(conn.call("INCR", "k"))
        assert await bounded(conn.call("INCR", "k")) == 7
    finally:
        conn.close()
        server.close()


@in_own_loop
async def test_an_answer_that_is_not_resp_fails_the_connection_not_the_caller_forever():
    async def handle(reader, writer):
        await reader.readline()
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    server, url = await serve(handle)
    conn = resp.RespConnection(url)
    try:
        with pytest.raises(ConnectionError, match="not a Redis reply"):
            await bounded(conn.call("PING"))
    finally:
        conn.close()
        server.close()


@in_own_loop
async def test_an_error_reply_is_raised_and_the_connection_goes_on():
    async def handle(reader, writer):
        answers = iter([b"-ERR unknown command 'NOPE'\r\n", b"+PONG\r\n"])
        while line := await reader.readline():
            if line.startswith(b"*"):
                writer.write(next(answers))

    server, url = await serve(handle)
    conn = resp.RespConnection(url)
    try:
        with pytest.raises(resp.ReplyError, match="unknown command"):
            await bounded(conn.call("NOPE"))
        assert await bounded(conn.call("PING")) == b"PONG"
    finally:
        conn.close()
        server.close()


@in_own_loop
async def test_nothing_listening_is_a_connection_error():
    conn = resp.RespConnection("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(ConnectionError):
        await conn.call("PING")
    with pytest.raises(ValueError, match="not a Redis URL"):
        await resp.RespConnection("http://127.0.0.1:6379").call("PING")
