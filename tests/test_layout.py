"""The package layout holds the boundaries docs/design.md states, exactly those:

- no import cycles;
- `store/` and `bot/dialer/` import nothing of Slack (`slack_bolt`, `slack_sdk`, `handlers`);
- a views module of `handlers/` does no SQL or HTTP (`store`, `sqlite3`, `sqlite_utils`,
  `httpx`, `aiohttp`);
- `bot/` imports `handlers/` only in the composition root, `bot/app.py`;
- the runtime (`bot/`, `handlers/`, `store/`) never imports `simulator/`, except `bot/cli.py`,
  and that only lazily, inside a function.

Each rule is a function over the modules, run on the real tree and, by its checker test, on
a small synthetic tree holding a violation.

How imports become edges between modules (read with `ast`, so nothing is imported):

- Every import counts, wherever it is: at module level, inside functions (the lazy imports
  that merely postpone a cycle are still a cycle) and under `if TYPE_CHECKING:`.
- `import a.b` and `from a.b import c` are edges to the module they name: `a.b.c` when that
  is a module of ours, else `a.b`. Relative imports are resolved against the importing
  module's package first.
- An edge never goes to the *parent* packages of the module named. Python does run
  `a/__init__.py` before `a/b.py`, but a submodule does not use what its parent's
  `__init__` re-exports, so a facade like `bot/numbers/__init__.py` importing its own
  submodules is not a cycle. It is one only when a submodule imports the facade itself
  (`from bot.numbers import X` inside bot/numbers/): an edge to the `__init__` module,
  which then imports the submodule back, as Python would see it half-initialised.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "store", "simulator")
SLACK = ("slack_bolt", "slack_sdk", "handlers")
SQL_OR_HTTP = ("store", "sqlite3", "sqlite_utils", "httpx", "aiohttp")
COMPOSITION_ROOT = "bot.app"
SIMULATOR_LOADER = "bot.cli"  # `dialer-bot demo` and `dialer-bot simulator`

Graph = Mapping[str, set[str]]


# ---------------------------------------------------------------------------- reading imports


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules(root: Path = ROOT) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def _inside_functions(tree: ast.AST) -> set[int]:
    """The ids of the import statements that run only when a function is called."""
    lazy: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lazy.update(
                id(inner)
                for inner in ast.walk(node)
                if isinstance(inner, ast.Import | ast.ImportFrom)
            )
    return lazy


def imported_names(
    source: str, module: str, is_package: bool, eager_only: bool = False
) -> list[tuple[str, str]]:
    """Every import in `source` as (what it may name, the module it surely names):
    `import a.b` gives ("a.b", "a.b"); `from a import b` gives ("a.b", "a"), since b may be
    a submodule of a or a name defined in a. Relative imports are resolved. `eager_only`:
    only the imports that run when the module is imported (not inside a function)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, str]] = []
    tree = ast.parse(source)
    lazy = _inside_functions(tree) if eager_only else set()
    for node in ast.walk(tree):
        if id(node) in lazy:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(p for p in [*parts, base] if p)
            for alias in node.names:
                found.append((f"{base}.{alias.name}" if alias.name != "*" else base, base))
    return found


def resolve(name: str, modules: Iterable[str]) -> str | None:
    """The module of ours that `name` lies in: itself, else its longest known prefix."""
    known = set(modules)
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """module → the modules of ours it imports (see the module docstring for the rule)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        source = path.read_text(encoding="utf-8")
        for maybe, surely in imported_names(source, name, path.name == "__init__.py"):
            target = maybe if maybe in modules else resolve(surely, modules)
            if target is not None and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """Each strongly connected group of two or more modules, as one cycle through it
    (a → b → … → a). Tarjan's algorithm, iterative, sorted so the report is stable."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                if len(group) > 1:
                    groups.append(_cycle_through(set(group), graph))
    return sorted(groups)


def _cycle_through(group: set[str], graph: Graph) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in group:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start]
                if child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    return sorted(group)


def forbidden_imports(
    modules: Mapping[str, Path],
    applies: Iterable[str],
    banned: Iterable[str],
    eager_only: bool = False,
) -> list[str]:
    """ "module imports name" for each import in the `applies` modules of a banned name
    (or a submodule of one); with `eager_only`, only imports outside functions count."""
    banned = tuple(banned)
    found = []
    for name in applies:
        path = modules[name]
        source = path.read_text(encoding="utf-8")
        imports = imported_names(source, name, False, eager_only=eager_only)
        for item in sorted({surely for _, surely in imports}):
            if any(item == b or item.startswith(b + ".") for b in banned):
                found.append(f"{name} imports {item}")
    return sorted(set(found))


def is_views(path: Path) -> bool:
    return path.name == "views.py" or path.name.endswith("_views.py")


def _in(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


# ---------------------------------------------------------------------------- the rules
# Each gives the modules it applies to and the violations it finds.


def slack_scope(modules: Mapping[str, Path]) -> list[str]:
    return sorted(n for n in modules if _in(n, "store", "bot.dialer"))


def slack_violations(modules: Mapping[str, Path]) -> list[str]:
    """`store/` and `bot/dialer/` import nothing of Slack, wherever the import is."""
    return forbidden_imports(modules, slack_scope(modules), SLACK)


def views_scope(modules: Mapping[str, Path]) -> list[str]:
    return sorted(n for n, p in modules.items() if _in(n, "handlers") and is_views(p))


def views_violations(modules: Mapping[str, Path]) -> list[str]:
    """A views module builds Block Kit only: no SQL, no HTTP."""
    return forbidden_imports(modules, views_scope(modules), SQL_OR_HTTP)


def composition_scope(modules: Mapping[str, Path]) -> list[str]:
    return sorted(n for n in modules if _in(n, "bot") and n != COMPOSITION_ROOT)


def composition_violations(modules: Mapping[str, Path]) -> list[str]:
    """`bot/` reaches `handlers/` only through the composition root, lazily or not."""
    return forbidden_imports(modules, composition_scope(modules), ("handlers",))


def simulator_scope(modules: Mapping[str, Path]) -> list[str]:
    return sorted(n for n in modules if _in(n, "bot", "handlers", "store"))


def simulator_violations(modules: Mapping[str, Path]) -> list[str]:
    """The runtime never imports the simulator; the CLI may, inside the function that
    runs `dialer-bot demo` or `dialer-bot simulator`, never at module level."""
    scope = simulator_scope(modules)
    found = forbidden_imports(modules, [n for n in scope if n != SIMULATOR_LOADER], ("simulator",))
    if SIMULATOR_LOADER in scope:
        eager = forbidden_imports(modules, [SIMULATOR_LOADER], ("simulator",), eager_only=True)
        found += [f"{v} at module level" for v in eager]
    return sorted(found)


# ---------------------------------------------------------------------------- the checks


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return our_modules()


def test_no_import_cycles(modules: dict[str, Path]) -> None:
    cycles = find_cycles(import_graph(modules))
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_store_and_dialer_know_no_slack(modules: dict[str, Path]) -> None:
    assert {"bot.dialer.client", "store.db", "store"} <= set(slack_scope(modules))
    assert slack_violations(modules) == []


def test_views_do_no_http_or_sql(modules: dict[str, Path]) -> None:
    applies = views_scope(modules)
    assert {"handlers.campaign_form.views", "handlers.call_lists.views"} <= set(applies)
    assert views_violations(modules) == []


def test_bot_reaches_handlers_only_through_the_composition_root(
    modules: dict[str, Path],
) -> None:
    assert {"bot.cli", "bot.services", "bot.dialer.client"} <= set(composition_scope(modules))
    assert COMPOSITION_ROOT in modules and COMPOSITION_ROOT not in composition_scope(modules)
    assert composition_violations(modules) == []


def test_runtime_never_imports_the_simulator(modules: dict[str, Path]) -> None:
    """The demo and the simulators stay out of a production process; only the CLI loads them,
    lazily, for `dialer-bot demo` and `dialer-bot simulator`."""
    assert {"bot.app", "handlers.commands", "store.db", SIMULATOR_LOADER} <= set(
        simulator_scope(modules)
    )
    assert simulator_violations(modules) == []


# ---------------------------------------------------------------------------- the checkers


def test_cycle_finder_reports_a_cycle_and_passes_a_tree() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    two = find_cycles({"x": {"y"}, "y": {"x"}, "p": {"q"}, "q": {"p", "x"}})
    assert two == [["p", "q", "p"], ["x", "y", "x"]]


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {module_name(tmp_path / rel, tmp_path): tmp_path / rel for rel in files}


def test_graph_follows_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    mods = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.a import A\n",
            "pkg/a.py": "from . import b\nA = 1\n",
            "pkg/b.py": "def f():\n    from .sub import c\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import A\n"
            ),
        },
    )
    graph = import_graph(mods)
    assert graph["pkg"] == {"pkg.a"}
    assert graph["pkg.a"] == {"pkg.b"}  # "from . import b" is the module b, not pkg itself
    assert graph["pkg.b"] == {"pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]


def test_facade_is_a_cycle_only_when_a_submodule_imports_it(tmp_path: Path) -> None:
    fine = _tree(tmp_path / "one", {"p/__init__.py": "from p.m import X\n", "p/m.py": "X = 1\n"})
    assert find_cycles(import_graph(fine)) == []
    bad = _tree(
        tmp_path / "two",
        {"p/__init__.py": "from p.m import X\n", "p/m.py": "from p import Y\nX = 1\n"},
    )
    assert find_cycles(import_graph(bad)) == [["p", "p.m", "p"]]


def test_slack_rule_catches_slack_in_store_and_dialer(tmp_path: Path) -> None:
    mods = _tree(
        tmp_path,
        {
            "store/x.py": "def f():\n    from slack_sdk.errors import SlackApiError\n",
            "store/y.py": "import handlers.blocks\n",
            "store/z.py": "import slack_sdkish\nimport json\n",
            "bot/dialer/c.py": "from slack_bolt import App\n",
            "bot/notify.py": "import slack_sdk\n",  # outside the rule's reach
        },
    )
    assert slack_violations(mods) == [
        "bot.dialer.c imports slack_bolt",
        "store.x imports slack_sdk.errors",
        "store.y imports handlers.blocks",
    ]


def test_views_rule_catches_sql_and_http(tmp_path: Path) -> None:
    mods = _tree(
        tmp_path,
        {
            "handlers/a/views.py": "from store import Store\nimport sqlite3\n",
            "handlers/a/list_views.py": "from aiohttp import ClientSession\n",
            "handlers/b/views.py": "def f():\n    import httpx\n    import sqlite_utils\n",
            "handlers/a/listeners.py": "import httpx\nfrom store import Store\n",  # not a view
            "handlers/a/viewsy.py": "import httpx\n",  # not a views module either
        },
    )
    assert views_violations(mods) == [
        "handlers.a.list_views imports aiohttp",
        "handlers.a.views imports sqlite3",
        "handlers.a.views imports store",
        "handlers.b.views imports httpx",
        "handlers.b.views imports sqlite_utils",
    ]


def test_composition_rule_catches_bot_importing_handlers(tmp_path: Path) -> None:
    mods = _tree(
        tmp_path,
        {
            "bot/app.py": "from handlers import register\n",  # the composition root may
            "bot/x.py": "def f():\n    from handlers.blocks import esc\n",  # lazy still counts
            "bot/dialer/y.py": "import handlers\n",
            "handlers/z.py": "import bot.app\n",  # the other direction is fine
        },
    )
    assert composition_violations(mods) == [
        "bot.dialer.y imports handlers",
        "bot.x imports handlers.blocks",
    ]


def test_simulator_rule_allows_only_a_lazy_import_in_the_cli(tmp_path: Path) -> None:
    lazy = "def main():\n    from simulator.server import main\n"
    fine = _tree(tmp_path / "fine", {"bot/cli.py": lazy, "simulator/server.py": ""})
    assert simulator_violations(fine) == []
    bad = _tree(
        tmp_path / "bad",
        {
            "bot/cli.py": "import simulator.server\n" + lazy,
            "bot/app.py": "def f():\n    import simulator\n",  # lazy, but not the CLI
            "handlers/x.py": "from simulator.demo import cli\n",
            "store/y.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from simulator import state\n",
            "simulator/server.py": "import store\n",
        },
    )
    assert simulator_violations(bad) == [
        "bot.app imports simulator",
        "bot.cli imports simulator.server at module level",
        "handlers.x imports simulator.demo",
        "store.y imports simulator",
    ]
