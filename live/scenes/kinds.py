"""The scene kinds a show can name, and the control bus their declarations make.

A scene kind is a class that fills the contract in live.scenes.contract. The
kinds this package brings are listed in BUILT_IN; a kind from another package
(or a test) registers itself with one entry point in the group
`latentstage.scene_kinds` (`name = "package.module:SceneClass"` in its
pyproject's `[project.entry-points."latentstage.scene_kinds"]`), read once when
this module is first imported. The show schema's `kind:` choices, the
parameters on the bus (each scene's own under its name, plus the kind's alias
for whatever is on screen), OSC addresses and `osc list` all follow from them.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Union

from pydantic import Field

from live.control.bus import ControlBus
from live.control.parameters import Parameter, show_parameters
from live.scenes.contract import Scene, SceneContext, alias_name
from live.scenes.cppn import CppnScene
from live.scenes.gan import GanScene
from live.scenes.pipeline import PipelineScene

log = logging.getLogger("latentstage.scenes")

BUILT_IN: tuple[type, ...] = (CppnScene, PipelineScene, GanScene)
ENTRY_POINTS = "latentstage.scene_kinds"  # the group another package registers its scene kinds in


def _installed_kinds() -> tuple[type, ...]:
    """Scene kinds other installed packages register, in name order; one that cannot be loaded is
    logged and left out, so a broken plug-in never keeps the built-in kinds from running."""
    kinds = []
    for entry in sorted(entry_points(group=ENTRY_POINTS), key=lambda entry: entry.name):
        try:
            kind = entry.load()
        except Exception as error:  # noqa: BLE001 (any import failure of someone else's module)
            log.warning("scene kind %s (%s) cannot be loaded: %s", entry.name, entry.value, error)
            continue
        if any(kind.kind == known.kind for known in (*BUILT_IN, *kinds)):
            log.warning("scene kind %s (%s): kind %r is taken already; left out", entry.name, entry.value, kind.kind)
            continue
        kinds.append(kind)
    return tuple(kinds)


SCENE_KINDS: tuple[type, ...] = BUILT_IN + _installed_kinds()

SceneSpec = Annotated[Union[tuple(kind.spec_type for kind in SCENE_KINDS)], Field(discriminator="kind")]


def scene_type(kind: str) -> type:
    for scene_class in SCENE_KINDS:
        if scene_class.kind == kind:
            return scene_class
    raise ValueError(f"unknown scene kind {kind!r}; kinds are {', '.join(k.kind for k in SCENE_KINDS)}")


def latent_kinds() -> list[str]:
    """The kinds whose scenes have a latent a cue can move to a named keyframe."""
    return [kind.kind for kind in SCENE_KINDS if kind.spec_type.has_latent]


def build_scene(spec, context: SceneContext) -> Scene:
    return scene_type(spec.kind).build(spec, context)


def bundled_idle_scene(seed: int) -> Scene:
    """The scene shown while another cannot be, in a show with no standalone scene of its own."""
    return CppnScene.bundled_idle(seed)


def control_bus(scenes: Sequence[tuple[str, type, tuple[Parameter, ...]]]) -> ControlBus:
    """A bus for a show whose scenes are (name, scene class, its parameters): the show's own
    parameters, `<scene>.<parameter>` for each scene, and each kind's aliases for what is on screen."""
    bus = ControlBus(show_parameters([name for name, _, _ in scenes]))
    aliases: dict[str, tuple[Parameter, dict[str, str]]] = {}
    for scene_name, scene_class, parameters in scenes:
        for parameter in parameters:
            full = dataclasses.replace(parameter, name=f"{scene_name}.{parameter.name}")
            bus.declare(full)
            alias = alias_name(scene_class, parameter)
            declaration = _kind_declaration(scene_class, parameter, alias)
            aliases.setdefault(alias, (declaration, {}))[1][scene_name] = full.name
    for declaration, targets in aliases.values():
        bus.declare_alias(declaration, targets)
    return bus


def _kind_declaration(scene_class: type, parameter: Parameter, alias: str) -> Parameter:
    """The kind's own declaration of a parameter, under its alias name (what listings show); a parameter
    the scene's model declares (not the kind) as the first scene with it declares it."""
    declared = next((p for p in scene_class.PARAMETERS if p.name == parameter.name), parameter)
    return dataclasses.replace(declared, name=alias)


def spec_parameters(spec, show_folder: Path) -> tuple[Parameter, ...]:
    """The parameters a scene built from `spec` will have, with its own defaults, before it is built
    (no session opened: a model's card is read from its file's metadata). Raises EngineError or
    ModelCardError for a model whose card cannot be read."""
    return spec.parameters(scene_type(spec.kind).PARAMETERS, show_folder)
