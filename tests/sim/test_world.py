"""The step, bounds and quantisation: the world alone, no Django."""

import json
import math
import subprocess
import sys

from game.sim import World, q
from tests.vectors.generate import VECTOR_FILE, build, dumps


def test_it_moves_a_cube_toward_its_target_at_the_speed():
    world = World(100, 100, speed=5, tick_rate=10)
    cube = world.spawn(1, 0, 0)
    world.retarget(cube, 10, 0)
    world.step()
    assert (cube.x, cube.z) == (0.5, 0.0)
    for _ in range(19):
        world.step()
    assert (cube.x, cube.z) == (10.0, 0.0)
    assert not cube.moving


def test_it_snaps_onto_the_target_when_within_one_step():
    world = World(100, 100, speed=5, tick_rate=10)
    cube = world.spawn(1, 0, 0)
    world.retarget(cube, 0.3, 0.4)  # 0.5 away: exactly one step
    world.step()
    assert (cube.x, cube.z) == (0.3, 0.4)


def test_it_keeps_every_coordinate_on_the_hundredths_grid():
    world = World(100, 100, speed=5, tick_rate=7)
    cube = world.spawn(1, 1.234, -2.345)
    world.retarget(cube, 33.333, -17.777)
    for _ in range(40):
        world.step()
        for v in (cube.x, cube.z, cube.tx, cube.tz):
            assert q(v) == v


def test_it_clamps_spawns_and_targets_to_the_arena():
    world = World(100, 60, speed=5, tick_rate=10)
    cube = world.spawn(1, 500, -500)
    assert (cube.x, cube.z) == (50.0, -30.0)
    world.retarget(cube, -1e5, 1e5)
    assert (cube.tx, cube.tz) == (-50.0, 30.0)


def test_it_moves_on_the_diagonal_by_the_step_length():
    world = World(100, 100, speed=5, tick_rate=10)
    cube = world.spawn(1, 0, 0)
    world.retarget(cube, 30, 40)
    world.step()
    assert math.isclose(math.hypot(cube.x, cube.z), 0.5, abs_tol=0.01)
    assert (cube.x, cube.z) == (0.3, 0.4)


def test_it_records_what_a_delta_must_carry():
    world = World(100, 100, speed=5, tick_rate=10)
    a = world.spawn(1, 0, 0, cid="c1")
    b = world.spawn(2, 5, 5)
    first = world.take_changes()
    assert first.touched == {a.id, b.id} and first.cids == {a.id: "c1"}
    world.retarget(b, 9, 9)
    world.step()  # a is at rest, b glides: only b's retarget is news
    world.remove(a.id)
    changes = world.take_changes()
    assert changes.touched == {b.id}
    assert changes.gone == [a.id]
    world.step()
    assert world.take_changes().touched == set()  # predicted gliding costs nothing


def test_it_is_deterministic():
    def run():
        world = World(100, 100, speed=5, tick_rate=20)
        for i in range(30):
            cube = world.spawn(1, i - 15, 15 - i)
            world.retarget(cube, (i * 7) % 50 - 25, (i * 13) % 50 - 25)
        for _ in range(100):
            world.step()
        return [(e.x, e.z) for e in world.entities.values()]

    assert run() == run()


def test_it_has_committed_vectors_that_match_the_python_step():
    assert VECTOR_FILE.read_text() == dumps(build()), "run: python -m tests.vectors.generate"
    cases = json.loads(VECTOR_FILE.read_text())["cases"]
    assert len(cases) >= 5 and all(len(c["states"]) > 0 for c in cases)


def test_it_imports_the_simulation_without_django():
    code = (
        "import sys, game.sim, game.sim.match\n"
        "assert not any(m.startswith(('django', 'channels')) for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=VECTOR_FILE.parents[2])
