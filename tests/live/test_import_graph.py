"""The house's one direction: every import in live/ (module level and inside functions, read from the source)
runs core -> inputs/inference/output -> control -> scenes -> show -> cli, and no two packages import each other
round a cycle. The checker itself is tested on small fake trees, so it is seen to fail."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

# Each package's floor; a module may import its own package and those on lower floors. inputs, inference and
# output share a floor: they may use each other, as long as no cycle closes between them.
FLOORS = {"core": 0, "inputs": 1, "inference": 1, "output": 1, "control": 2, "scenes": 3, "show": 4, "cli": 5}
TOP = {"cli", "doctor", "__main__", "__init__"}  # live/*.py: the commands, at the top


def package_of(module: str) -> str | None:
    """`live.show.stage` -> "show"; the modules at the top of live/ -> "cli"; None outside live."""
    parts = module.split(".")
    if parts[0] != "live":
        return None
    if len(parts) == 1 or parts[1] in TOP:
        return "cli"
    return parts[1]


def imports(root: Path) -> list[tuple[str, int, str]]:
    """(file relative to root, line, imported module) for every import under root/live, at any depth."""
    found = []
    for path in sorted((root / "live").rglob("*.py")):
        relative = path.relative_to(root)
        package = list(relative.parts[:-1])  # what a relative import starts from, for __init__.py too
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [(str(relative), node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the file's own package, up level - 1
                    base = package[:len(package) - node.level + 1]
                    module = ".".join([*base, *filter(None, [node.module])])
                else:
                    module = node.module
                found.append((str(relative), node.lineno, module))
                # `from live import show` names a package too
                found += [(str(relative), node.lineno, f"{module}.{alias.name}") for alias in node.names
                          if module == "live" and alias.name != "*"]
    return found


def import_problems(root: Path) -> list[str]:
    """Each upward import as `file:line: package imports package (upward)`, then each package cycle."""
    problems = []
    edges: dict[str, set[str]] = {}
    for file, line, module in imports(root):
        source = package_of(".".join(Path(file).with_suffix("").parts))
        target = package_of(module)
        if target is None or target == source or module == "live":  # `live` alone is its docstring
            continue
        if FLOORS[target] > FLOORS[source]:
            problems.append(f"{file}:{line}: {source} imports {module} ({target}, upward)")
        edges.setdefault(source, set()).add(target)
    problems += [f"package cycle: {' -> '.join(cycle)}" for cycle in cycles(edges)]
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each package that can reach itself, as the walk that closes it."""
    found, seen = [], set()
    for start in sorted(edges):
        path = _path_back(start, edges)
        if path is not None and frozenset(path) not in seen:
            seen.add(frozenset(path))
            found.append([*path, start])
    return found


def _path_back(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    """The packages on a shortest walk from start back to itself, or None."""
    frontier, came_from = [start], {start: None}
    while frontier:
        following = []
        for package in frontier:
            for target in sorted(edges.get(package, ())):
                if target == start:
                    walk = [package]
                    while came_from[walk[-1]] is not None:
                        walk.append(came_from[walk[-1]])
                    return walk[::-1]
                if target not in came_from:
                    came_from[target] = package
                    following.append(target)
        frontier = following
    return None


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "live" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# --- the real house -----------------------------------------------------------------------------------------------

def test_live_imports_run_one_way_with_no_package_cycle():
    assert import_problems(REPO) == []


def test_the_checker_reads_the_real_tree():
    """It sees the imports that are there, function-level ones included (cli imports show inside functions)."""
    found = imports(REPO)
    assert ("live/show/conductor.py", "live.control.controller") in {(file, module) for file, _, module in found}
    assert any(file == "live/cli.py" and module == "live.show.rehearsal" for file, _, module in found)
    assert {package_of(module) for _, _, module in found} >= set(FLOORS)


# --- the checker on fake trees --------------------------------------------------------------------------------------

def test_an_upward_import_inside_a_function_is_named_with_file_and_line(tmp_path):
    root = write_tree(tmp_path, {
        "core/clock.py": "import math\n\n\ndef now():\n    from live.show.stage import Stage\n    return Stage\n",
        "show/stage.py": "from live.core.clock import now\n",
    })
    assert import_problems(root) == [
        "live/core/clock.py:5: core imports live.show.stage (show, upward)",
        "package cycle: core -> show -> core",
    ]


def test_relative_and_package_imports_count_too(tmp_path):
    root = write_tree(tmp_path, {
        "control/osc.py": "from ..scenes import kinds\n",
        "inputs/audio.py": "from live import control\n",
        "scenes/kinds.py": "from .contract import Scene\n",
    })
    assert import_problems(root) == [
        "live/control/osc.py:1: control imports live.scenes (scenes, upward)",
        "live/inputs/audio.py:1: inputs imports live.control (control, upward)",
    ]


def test_siblings_may_import_each_other_but_not_round_a_cycle(tmp_path):
    root = write_tree(tmp_path, {
        "output/shader.py": "from live.inference.weights import read\n",
        "inference/weights.py": "import numpy\n",
    })
    assert import_problems(root) == []
    write_tree(root, {"inference/weights.py": "from live.output.shader import draw\n"})
    assert import_problems(root) == ["package cycle: inference -> output -> inference"]


def test_the_commands_sit_on_top(tmp_path):
    root = write_tree(tmp_path, {
        "cli.py": "def main():\n    from live.show.rehearsal import rehearse\n",
        "__main__.py": "from live.cli import main\n",
        "show/rehearsal.py": "from live.doctor import report\n",
        "doctor.py": "import live.core.clock\n",
    })
    assert import_problems(root) == ["live/show/rehearsal.py:1: show imports live.doctor (cli, upward)",
                                     "package cycle: cli -> show -> cli"]
