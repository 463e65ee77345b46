"""tests/vectors/frames.json is what game.wire sends today (the browser's decoding test reads it)."""

import base64
import json

import msgspec

from tests.vectors.generate import FRAMES_FILE, build_frames, dumps


def test_the_committed_frames_are_what_the_wire_encodes_now():
    assert FRAMES_FILE.read_text() == dumps(build_frames()), "run: python -m tests.vectors.generate"


def test_each_binary_frame_carries_the_json_frames_message():
    for frame in json.loads(FRAMES_FILE.read_text())["frames"]:
        as_json = msgspec.json.decode(frame["json"])
        as_bin = msgspec.msgpack.decode(base64.b64decode(frame["msgpack"]))
        snaps = [(as_json, as_bin)] if as_json["type"] == "snap" else []
        if as_json["type"] == "welcome":
            snaps = [(as_json["snap"], as_bin["snap"])]
        for js, bn in snaps:
            rows = [
                [r["id"], r["owner"], *(round(r[k] * 100) for k in ("x", "z", "tx", "tz"))]
                for r in js["ents"]
            ]
            assert rows == [r[:6] for r in bn["ents"]]
            js["ents"] = bn["ents"] = None
        assert as_json == as_bin, frame["name"]
