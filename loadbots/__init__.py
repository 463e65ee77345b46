"""Load bots: headless players that drive a running CubeArena server over HTTP and WebSocket.

A client of the server like any other: it speaks docs/protocol.md and imports nothing from
`game`; `manage.py loadbots` runs it, and benchmarks/ builds on it. Nothing in `game` or
`lobby` imports it (tests/test_layout.py checks).
"""
