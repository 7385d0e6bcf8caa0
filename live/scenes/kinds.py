"""The scene kinds a show can name, and the control bus their declarations make.

Adding a scene kind is one entry in SCENE_KINDS: a class that fills the
contract in live.scenes.contract. The show schema's `kind:` choices, the
parameters on the bus (each scene's own under its name, plus the kind's alias
for whatever is on screen), OSC addresses and `osc list` all follow from it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Union

from pydantic import Field

from live.control.bus import ControlBus
from live.control.parameters import Parameter, show_parameters
from live.inference.engine import EngineError, read_card
from live.inference.model_card import ModelCardError
from live.scenes.contract import Scene, SceneContext, alias_name
from live.scenes.cppn import CppnScene
from live.scenes.pipeline import PipelineScene, model_parameters

SCENE_KINDS: tuple[type, ...] = (CppnScene, PipelineScene)

SceneSpec = Annotated[Union[tuple(kind.spec_type for kind in SCENE_KINDS)], Field(discriminator="kind")]


def scene_type(kind: str) -> type:
    for scene_class in SCENE_KINDS:
        if scene_class.kind == kind:
            return scene_class
    raise ValueError(f"unknown scene kind {kind!r}; kinds are {', '.join(k.kind for k in SCENE_KINDS)}")


def build_scene(spec, context: SceneContext) -> Scene:
    return scene_type(spec.kind).build(spec, context)


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
    """The parameters a scene built from `spec` will have, before it is built: its kind's, and for a
    pipeline those its model's card declares (none while the model is missing or unreadable: loading
    the show says so)."""
    scene_class = scene_type(spec.kind)
    model = getattr(spec, "model", None)
    if scene_class is not PipelineScene or model is None:
        return scene_class.PARAMETERS
    try:
        card = read_card(show_folder / model)
    except (EngineError, ModelCardError):
        return scene_class.PARAMETERS
    return scene_class.PARAMETERS + model_parameters(card, str(model))
