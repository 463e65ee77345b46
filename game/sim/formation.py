"""Formation slots for a group `move`: where each cube of the order is sent.

A slot depends only on the command (its target, form, facing and the ids in the order sent)
and the arena, never on where the cubes are, so every client can compute the server's
targets before the server has seen the order. Only + - * / sqrt and the protocol's
quantiser are used, operation for operation as static/js/sim/formation.js (sin, cos and
atan2 differ between CPython and V8; these do not): tests/vectors/step.json holds both to it.

The slots form rows of `cols` cubes `SPACING` apart, centred on the target, the first row in
front (furthest along the facing), a short last row centred too. `box` makes the grid as
square as it can be (cols = the smallest c with c * c >= n), `line` one row of up to
`LINE_MAX` cubes per row. If a slot falls outside the arena, the whole formation shifts
inward (its shape kept); one larger than the arena is clamped slot by slot.
"""

from __future__ import annotations

import math

from .quant import clamp, q

FORMS = ("box", "line")
SPACING = 2.0  # centre to centre: one cube's width (1 unit) of ground between neighbours
LINE_MAX = 16  # a line longer than this goes on in a second row
# facing k: the formation's front faces along DIRECTIONS[k] (x, z), 0 = +x, then a turn of
# 45 degrees from +x toward +z each step.
DIRECTIONS = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))


def columns(form: str, n: int) -> int:
    """How many cubes a full row holds."""
    if form == "line":
        return n if n < LINE_MAX else LINE_MAX
    c = 1
    while c * c < n:
        c += 1
    return c


def slots(
    form: str, facing: int, to: tuple[float, float], n: int, width: float, depth: float
) -> list[tuple[float, float]]:
    """The n slots (quantised, inside the arena) for a move to `to`, in the order of the ids."""
    half_w, half_d = width / 2, depth / 2
    tx = q(clamp(to[0], -half_w, half_w))
    tz = q(clamp(to[1], -half_d, half_d))
    dx, dz = DIRECTIONS[facing]
    norm = math.sqrt(dx * dx + dz * dz)
    fx, fz = dx / norm, dz / norm  # the front
    rx, rz = -fz, fx  # along a row
    cols = columns(form, n)
    rows = (n + cols - 1) // cols
    xs: list[float] = []
    zs: list[float] = []
    for i in range(n):
        row = i // cols
        col = i - row * cols
        in_row = cols if row < rows - 1 else n - row * cols
        u = (col - (in_row - 1) / 2) * SPACING
        v = ((rows - 1) / 2 - row) * SPACING
        xs.append(q(tx + v * fx + u * rx))
        zs.append(q(tz + v * fz + u * rz))
    sx = _shift(min(xs), max(xs), half_w)
    sz = _shift(min(zs), max(zs), half_d)
    return [
        (q(clamp(x + sx, -half_w, half_w)), q(clamp(z + sz, -half_d, half_d)))
        for x, z in zip(xs, zs, strict=True)
    ]


def _shift(lo: float, hi: float, half: float) -> float:
    """How far to move slots spanning lo..hi so they lie within -half..half (0 if they do)."""
    if lo < -half:
        return -half - lo
    if hi > half:
        return half - hi
    return 0.0
