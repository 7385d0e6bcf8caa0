"""Every scene kind keeps the one contract: nothing in live/ outside a kind's own module asks whether a
scene (or a spec) is of that kind, and the renderer's package never reaches up into the scenes."""
from __future__ import annotations

import ast
from pathlib import Path

from live.scenes.kinds import SCENE_KINDS
from tests.conftest import REPO

LIVE = REPO / "live"


def concrete_kinds() -> dict[str, str]:
    """Class name -> the module that defines it, for every scene kind and its spec."""
    return {cls.__name__: cls.__module__ for kind in SCENE_KINDS for cls in (kind, kind.spec_type)}


def isinstance_on_kinds(source: str, module: str, kinds: dict[str, str]) -> list[str]:
    """`module:line: Name` for each isinstance/issubclass that names a kind defined in another module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("isinstance", "issubclass"):
            if len(node.args) < 2:
                continue
            second = node.args[1]
            names = second.elts if isinstance(second, ast.Tuple) else [second]
            for name in names:
                named = name.id if isinstance(name, ast.Name) else name.attr if isinstance(name, ast.Attribute) else None
                if named in kinds and kinds[named] != module:
                    found.append(f"{module}:{node.lineno}: {named}")
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def test_no_isinstance_on_a_concrete_scene_kind_outside_its_own_module():
    kinds = concrete_kinds()
    assert {"CppnScene", "PipelineScene", "CppnSceneSpec", "PipelineSceneSpec"} <= set(kinds)
    found = [hit for path in sorted(LIVE.rglob("*.py"))
             for hit in isinstance_on_kinds(path.read_text(encoding="utf-8"), module_name(path), kinds)]
    assert not found, found


def test_the_check_finds_what_it_looks_for():
    kinds = concrete_kinds()
    source = "def f(scene):\n    return isinstance(scene, (int, CppnScene)) or isinstance(scene, kinds.PipelineSceneSpec)\n"
    assert isinstance_on_kinds(source, "live.show.stage", kinds) == [
        "live.show.stage:2: CppnScene", "live.show.stage:2: PipelineSceneSpec"]
    assert isinstance_on_kinds(source.replace("PipelineSceneSpec", "int"), "live.scenes.cppn", kinds) == []


def test_the_renderer_s_package_imports_nothing_from_the_scenes():
    imports = [f"{module_name(path)}: {node.module}" for path in sorted((LIVE / "output").rglob("*.py"))
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("live.scenes", "live.show"))]
    assert not imports, imports
