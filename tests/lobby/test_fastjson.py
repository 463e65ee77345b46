"""The checkpoint's JSON (lobby/fastjson.py): msgspec behind Django's JSONField, read back exactly."""

import json
import math

from lobby.fastjson import FastJSONEncoder
from lobby.models import Match

from .lobby_helpers import make_match

FLOATS = [0.1, -0.0, 1e-07, 123456.789, 2.0**53, -1.5e300, 5e-324, 1 / 3]


def test_a_checkpoint_reads_back_exactly_through_the_database(alice):
    checkpoint = {
        "v": 2,
        "ents": [[1, alice.pk, *FLOATS]],
        "seats": {str(alice.pk): ['nïck ☃ "q" \\', "#e5533d", True, None, [5.0, 0.25]]},
        "history": [[3, [[1, [0.07, -49.99]]]]],
    }
    match = make_match(alice)
    Match.objects.filter(pk=match.pk).update(checkpoint=checkpoint)
    back = Match.objects.get(pk=match.pk).checkpoint
    assert back == checkpoint
    assert [x.hex() for x in back["ents"][0][2:]] == [x.hex() for x in FLOATS]  # bit for bit
    assert math.copysign(1, back["ents"][0][3]) == -1  # -0.0 stays negative
    match.checkpoint = None
    match.save(update_fields=["checkpoint"])
    assert Match.objects.filter(pk=match.pk, checkpoint__isnull=True).exists()  # None is SQL NULL


def test_the_big_json_fields_use_it():
    from game.models import MatchLogChunk

    fields = [Match._meta.get_field("checkpoint")]
    fields += [MatchLogChunk._meta.get_field(name) for name in ("keyframe", "resumed")]
    assert all(f.encoder is FastJSONEncoder for f in fields)


def test_the_encoder_writes_what_json_reads_as_json_dumps_would():
    value = {"a": FLOATS, "b": [1, "x", None, True], "c": {"d": []}}
    assert json.loads(json.dumps(value, cls=FastJSONEncoder)) == json.loads(json.dumps(value))
