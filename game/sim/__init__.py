"""The deterministic world of one match: plain Python, no Django, no clock.

The arbiter owns one World per match and calls it once per tick; the browser runs a
JavaScript port of `World.step` (static/js/sim/step.js) that the shared vectors keep
bit-for-bit equal (tests/vectors/*.json, written by tests/vectors/generate.py).
"""

from .quant import q
from .world import Entity, World

__all__ = ["Entity", "World", "q"]
