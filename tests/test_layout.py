"""The layout's rules, read from the source (ast; nothing is imported, no database).

Dependencies run one way: game -> lobby, never back; loadbots is a client like any other
that the server never imports; game/sim is plain Python; there are no import cycles; and
the environment is read in cubearena/settings.py only, which README.md's table documents.
Every import counts, wherever it stands: module level, inside a function, under
`if TYPE_CHECKING:`, in migrations.

The checks are functions over a {module: Module} map, so the tests at the bottom can feed
them made-up modules and see each one fail.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cubearena", "game", "lobby", "loadbots")

# game/sim may use these project modules, and none of these outside ones.
SIM_MAY_IMPORT = ("game.sim", "game.limits")
SIM_MUST_NOT_IMPORT = ("django", "channels", "channels_redis", "daphne", "asgiref", "asyncio")

# The environment is read here only (README.md "Settings (environment)" lists what it reads).
ENV_READERS = ("cubearena/settings.py", "cubearena/env.py")
ENV_HELPERS = ("env_str", "env_bool", "env_int", "env_list")


@dataclass(frozen=True)
class Import:
    """One import of one module: what it names, resolved to a module where it is a project one."""

    target: str  # the module imported (a project module when `project` is true)
    line: int
    text: str  # the statement as written, for messages
    where: str  # "", "inside a function", "under TYPE_CHECKING"
    project: bool  # target is one of the modules scanned
    unresolved: bool = False  # names a project package's module that does not exist

    @property
    def top(self) -> str:
        return self.target.split(".")[0]

    def describe(self, path: str) -> str:
        return f"{path}:{self.line}: {self.text}" + (f" ({self.where})" if self.where else "")


@dataclass
class Module:
    name: str
    path: str  # relative to ROOT, for messages
    tree: ast.Module
    is_package: bool = False
    imports: list[Import] = field(default_factory=list)


def module_name(rel: Path) -> tuple[str, bool]:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def parse(name: str, path: str, source: str, is_package: bool = False) -> Module:
    return Module(name, path, ast.parse(source, filename=path), is_package)


def load_project(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for package in packages:
        for file in sorted((root / package).rglob("*.py")):
            rel = file.relative_to(root)
            name, is_package = module_name(rel)
            modules[name] = parse(name, str(rel), file.read_text(), is_package)
    resolve_imports(modules, packages)
    return modules


def _context(parents: list[ast.AST]) -> str:
    for node in reversed(parents):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return "inside a function"
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return "under TYPE_CHECKING"
    return ""


def _walk_imports(tree: ast.AST):
    """(import node, where) for every import anywhere in the tree."""
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(tree, [])]
    while stack:
        node, parents = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, _context(parents)
        for child in ast.iter_child_nodes(node):
            stack.append((child, parents + [node]))


def resolve_imports(modules: dict[str, Module], packages: tuple[str, ...] = PACKAGES) -> None:
    """Fill each module's `imports`: relative imports made absolute, `from pkg import mod` -> pkg.mod."""
    for mod in modules.values():
        found: list[Import] = []
        for node, where in _walk_imports(mod.tree):
            text = ast.unparse(node)
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    package = mod.name if mod.is_package else mod.name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = ".".join(p for p in (package, node.module) if p)
                else:
                    base = node.module or ""
                if base == "__future__":
                    continue
                targets = []
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in dict.fromkeys(targets):  # `from x import a, b` of one module: one import
                project = target.split(".")[0] in packages
                exists = target in modules
                found.append(
                    Import(target, node.lineno, text, where, project and exists, project and not exists)
                )
        mod.imports = sorted(found, key=lambda i: i.line)


# ---- the checks: each returns a list of messages, empty when the rule holds ----


def forbidden_imports(
    modules: dict[str, Module], under: str, forbidden: tuple[str, ...], why: str
) -> list[str]:
    """Modules in package `under` that import anything in `forbidden` (top-level names)."""
    bad = []
    for mod in modules.values():
        if mod.name == under or mod.name.startswith(under + "."):
            for imp in mod.imports:
                if imp.top in forbidden:
                    bad.append(f"{imp.describe(mod.path)} -- {why}")
    return bad


def unresolved_imports(modules: dict[str, Module]) -> list[str]:
    return [
        f"{imp.describe(mod.path)} -- no module {imp.target} in the project"
        for mod in modules.values()
        for imp in mod.imports
        if imp.unresolved
    ]


def import_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    return {
        name: {imp.target for imp in mod.imports if imp.project and imp.target != name}
        for name, mod in modules.items()
    }


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module (each one holds a cycle), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    for start in sorted(graph):
        if start in index:
            continue
        # Iterative DFS: (node, iterator over its successors).
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One cycle through a component's first module, as a path that returns to it."""
    members = set(component)
    start = component[0]
    # Breadth-first from start's successors back to start, within the component: a shortest cycle.
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ in sorted(graph[node] & members):
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if succ not in previous:
                    previous[succ] = node
                    following.append(succ)
        frontier = following
    raise AssertionError(f"no cycle in component {component}")


def describe_cycle(cycle: list[str], modules: dict[str, Module]) -> str:
    lines = [" -> ".join(cycle)]
    for here, there in zip(cycle, cycle[1:]):
        mod = modules[here]
        imp = next(i for i in mod.imports if i.project and i.target == there)
        lines.append(f"    {imp.describe(mod.path)}")
    return "\n".join(lines)


def import_cycles(modules: dict[str, Module]) -> list[tuple[frozenset[str], str]]:
    """(the component's modules, a message naming one cycle in it and its import lines)."""
    graph = import_graph(modules)
    found = []
    for component in strongly_connected(graph):
        cycle = describe_cycle(cycle_in(component, graph), modules)
        found.append((frozenset(component), f"import cycle among {', '.join(component)}:\n  {cycle}"))
    return found


def sim_impurities(modules: dict[str, Module], sim: str = "game.sim") -> list[str]:
    """game/sim and the project modules it reaches: only SIM_MAY_IMPORT, nothing in SIM_MUST_NOT_IMPORT."""
    bad = []
    seen: set[str] = set()
    todo = [name for name in modules if name == sim or name.startswith(sim + ".")]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        mod = modules[name]
        for imp in mod.imports:
            if imp.top in SIM_MUST_NOT_IMPORT:
                bad.append(f"{imp.describe(mod.path)} -- game/sim is plain Python: no {imp.top}")
            elif imp.project or imp.unresolved:
                if any(imp.target == ok or imp.target.startswith(ok + ".") for ok in SIM_MAY_IMPORT):
                    if imp.project:
                        todo.append(imp.target)
                else:
                    bad.append(
                        f"{imp.describe(mod.path)} -- game/sim may import only {', '.join(SIM_MAY_IMPORT)}"
                    )
    return bad


def environment_reads(modules: dict[str, Module], allowed: tuple[str, ...] = ENV_READERS) -> list[str]:
    """Reads of a named environment variable (os.environ.get/[...], os.getenv) outside settings."""
    bad = []
    for mod in modules.values():
        if mod.path in allowed:
            continue
        for node in ast.walk(mod.tree):
            read = None
            if isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                if func in ("os.getenv", "getenv", "os.environ.get", "environ.get", "os.environ.pop"):
                    read = func
                elif isinstance(node.func, ast.Name) and node.func.id in ENV_HELPERS:
                    read = node.func.id
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                if ast.unparse(node.value) in ("os.environ", "environ"):
                    read = ast.unparse(node.value) + "[...]"
            if read:
                bad.append(
                    f"{mod.path}:{node.lineno}: {ast.unparse(node)} -- the environment is read in "
                    "cubearena/settings.py only; read django.conf.settings here"
                )
    return sorted(bad, key=lambda message: (message.split(":")[0], int(message.split(":")[1])))


def settings_variables(settings_source: str) -> set[str]:
    """Names of the environment variables settings.py reads through the env_* helpers."""
    names = set()
    for node in ast.walk(ast.parse(settings_source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ENV_HELPERS:
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def readme_settings_table(readme: str) -> set[str]:
    section = readme.split("## Settings (environment)", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, flags=re.M))


# ---- the project ----


@pytest.fixture(scope="module")
def project() -> dict[str, Module]:
    return load_project()


def test_it_reads_every_package(project):
    for package in PACKAGES:
        assert package in project, f"{package}/__init__.py not found"
    assert "lobby.migrations.0001_initial" in project
    assert "loadbots.management.commands.loadbots" in project


def test_every_project_import_names_a_module_that_exists(project):
    bad = unresolved_imports(project)
    assert not bad, "\n".join(bad)


def test_lobby_imports_neither_game_nor_loadbots(project):
    bad = forbidden_imports(
        project,
        "lobby",
        ("game", "loadbots"),
        "lobby reaches game only through URL names, settings or the channel layer",
    )
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", ["game", "lobby", "cubearena"])
def test_the_server_does_not_import_the_load_bots(project, package):
    bad = forbidden_imports(
        project, package, ("loadbots",), "loadbots is a client; the server never imports it"
    )
    assert not bad, "\n".join(bad)


def test_there_is_no_import_cycle(project):
    cycles = [message for _, message in import_cycles(project)]
    assert not cycles, "\n".join(cycles)


def test_the_simulation_is_plain_python(project):
    bad = sim_impurities(project)
    assert not bad, "\n".join(bad)


def test_the_environment_is_read_in_settings_only(project):
    bad = environment_reads(project)
    assert not bad, "\n".join(bad)


def test_the_readme_lists_every_variable_settings_reads():
    read = settings_variables((ROOT / "cubearena" / "settings.py").read_text())
    listed = readme_settings_table((ROOT / "README.md").read_text())
    assert {"SECRET_KEY", "DATABASE_URL", "CUBEARENA_GUESTS_PER_ADDRESS"} <= read
    missing = sorted(read - listed)
    assert not missing, f"README.md 'Settings (environment)' lacks a row for: {', '.join(missing)}"


# ---- each check can fail: made-up modules ----


def fake(sources: dict[str, str], packages: tuple[str, ...] = ("app", "game", "lobby", "loadbots")):
    """{module name: source} -> resolved modules; top-level names and names ending .__init__ are packages."""
    modules = {}
    for name, source in sources.items():
        clean = name.removesuffix(".__init__")
        is_package = clean != name or "." not in name
        path = clean.replace(".", "/") + ("/__init__.py" if is_package else ".py")
        modules[clean] = parse(clean, path, source, is_package)
    resolve_imports(modules, packages)
    return modules


def test_it_resolves_relative_and_from_package_imports():
    mods = fake(
        {
            "app": "",
            "app.pkg": "",
            "app.pkg.a": "from . import b\nfrom .b import thing\nfrom .. import top\nfrom ..pkg.b import x\n",
            "app.pkg.b": "def f():\n    import app.top\n",
            "app.top": "from app.pkg import a, missing_name\nimport os\n",
        }
    )
    assert [i.target for i in mods["app.pkg.a"].imports] == ["app.pkg.b", "app.pkg.b", "app.top", "app.pkg.b"]
    inner = mods["app.pkg.b"].imports[0]
    assert (inner.target, inner.where, inner.project) == ("app.top", "inside a function", True)
    assert [(i.target, i.project) for i in mods["app.top"].imports] == [
        ("app.pkg.a", True),
        ("app.pkg", True),
        ("os", False),
    ]
    assert import_graph(mods)["app.top"] == {"app.pkg.a", "app.pkg"}


def test_it_reports_an_import_of_a_module_that_is_gone():
    mods = fake({"game": "", "game.a": "from game.bots.load import run\n"})
    (message,) = unresolved_imports(mods)
    assert "game/a.py:1: from game.bots.load import run" in message


def test_it_finds_lobby_importing_game_even_inside_a_function_or_a_migration():
    mods = fake(
        {
            "lobby": "",
            "lobby.views": "def view():\n    from game.health import healthz\n",
            "lobby.migrations.0002_x": "import loadbots.load\n",
            "game": "",
            "game.health": "",
            "loadbots": "",
            "loadbots.load": "",
        }
    )
    bad = forbidden_imports(mods, "lobby", ("game", "loadbots"), "why")
    assert bad == [
        "lobby/views.py:2: from game.health import healthz (inside a function) -- why",
        "lobby/migrations/0002_x.py:1: import loadbots.load -- why",
    ]


def test_the_cycle_finder_finds_cycles_and_only_cycles():
    acyclic = {"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"a"}}
    assert strongly_connected(acyclic) == []
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["d", "e"]]
    assert cycle_in(["a", "b", "c"], graph) == ["a", "b", "c", "a"]
    assert cycle_in(["d", "e"], graph) == ["d", "e", "d"]


def test_the_cycle_finder_handles_a_long_chain_without_recursion():
    chain = {f"m{i}": {f"m{i + 1}"} for i in range(5000)}
    chain["m5000"] = {"m0"}
    (component,) = strongly_connected(chain)
    assert len(component) == 5001


def test_a_cycle_names_its_modules_and_import_lines():
    mods = fake(
        {
            "game": "",
            "game.edge": "from game.arbiter import inprocess\n",
            "game.arbiter": "",
            "game.arbiter.inprocess": "def start():\n    from game import edge\n",
            "game.ok": "from game import edge\n",
        }
    )
    ((members, message),) = import_cycles(mods)
    assert members == {"game.edge", "game.arbiter.inprocess"}
    assert "game.arbiter.inprocess -> game.edge -> game.arbiter.inprocess" in message
    assert "game/arbiter/inprocess.py:2: from game import edge (inside a function)" in message
    assert "game/edge.py:1: from game.arbiter import inprocess" in message


def test_it_finds_django_asyncio_and_project_imports_in_the_simulation():
    mods = fake(
        {
            "game": "",
            "game.limits": "import asyncio\n",
            "game.sim.__init__": "from . import world\n",
            "game.sim.world": "import math\nfrom game import limits\nfrom msgspec import Struct\n",
            "game.sim.rules": "from django.conf import settings\nfrom game.wire import protocol\n",
            "game.sim.clock": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lobby import models\n"
            ),
            "game.wire": "",
            "game.wire.protocol": "",
            "lobby": "",
            "lobby.models": "",
        }
    )
    bad = sim_impurities(mods)
    assert sorted(b.split(" -- ")[0] for b in bad) == [
        "game/limits.py:1: import asyncio",  # reached through game.limits
        "game/sim/clock.py:3: from lobby import models (under TYPE_CHECKING)",
        "game/sim/rules.py:1: from django.conf import settings",
        "game/sim/rules.py:2: from game.wire import protocol",
    ]


def test_it_finds_environment_reads_outside_settings():
    mods = fake(
        {
            "lobby": "",
            "lobby.limits": "import os\nfrom cubearena.env import env_int\nA = env_int('X', 1)\n"
            "B = os.environ.get('Y')\nC = os.getenv('Z')\nD = os.environ['W']\n"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 's')\nE = dict(os.environ)\n",
        }
    )
    bad = environment_reads(mods)
    assert [b.split(" -- ")[0] for b in bad] == [
        "lobby/limits.py:3: env_int('X', 1)",
        "lobby/limits.py:4: os.environ.get('Y')",
        "lobby/limits.py:5: os.getenv('Z')",
        "lobby/limits.py:6: os.environ['W']",
    ]


def test_it_finds_a_setting_the_readme_does_not_list():
    read = settings_variables("A = env_str('ONE')\nB = env_int('TWO', 1, lo=0)\nC = os.environ.get('X')\n")
    assert read == {"ONE", "TWO"}
    listed = readme_settings_table("## Settings (environment)\n\n| `ONE` | x | y |\n\n## Next\n| `TWO` | |\n")
    assert read - listed == {"TWO"}
