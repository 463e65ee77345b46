"""Quantisation to hundredths, the grid every coordinate on the wire lives on."""

import math


def q(v: float) -> float:
    """Round to the nearest 1/100 (halves up), exactly as PROTOCOL.md "The step" says."""
    return math.floor(v * 100 + 0.5) / 100


def clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


def hundredths(v: float) -> int:
    """The integer count of hundredths of an already quantised coordinate (msgpack form)."""
    return math.floor(v * 100 + 0.5)
