"""Preflight: the checks of a show that read more than its file, made once before the first frame.

The show file's own checks (keys, types, names, cues, that files exist) are
the schema's. What only the files and the network can answer is asked here:
that each model file has a card of a kind its scene runs, that each source
that plays a file delivers its first frame (a video decodes, an image folder
holds pictures), that a sound file decodes, that the OSC feedback host
resolves, that a keyframe written as a latent (capture to show) fits the
model's latent. `check`, `run`, `rehearse` and the show reloader all call
`preflight` before they build a scene, so a show `check` passes is one `run`
and `rehearse` start, and each refusal is one line with the show's file, line
and the key of the value at fault.
"""
from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel

from live.control.osc import resolve_feedback
from live.inference.engine import EngineError, read_card
from live.inference.model_card import ModelCard
from live.inference.model_watch import contract_difference
from live.inputs.audio import check_audio_file
from live.inputs.sources import SOURCE_CONFIGS, SourceConfig, check_first_frame
from live.show.schema import Show, ShowError


def preflight(show: Show) -> None:
    """Raise ShowError (`show.yaml:12: scenes[1].source.folder: ...`) for the first model or input of
    the show that cannot deliver what it promises. Models are judged by their cards, before any is
    loaded, so a refusal is the only line the command writes."""
    for index, spec in enumerate(show.scenes):
        for key, (path, kinds) in spec.models().items():
            card = _check_model(show, ("scenes", index, *key), spec, path, kinds)
            refusal = spec.card_refusal(card) if key == ("model",) else None  # settings its own model must suit
            if refusal is not None:
                raise ShowError(f"{show.where(('scenes', index, *refusal[0]))}: {refusal[1]}")
        for key, (path, kinds) in spec.ladder_models().items():
            card = _check_model(show, ("scenes", index, *key), spec, path, kinds)
            if key[-1] == "model":  # a slimmer model stands in for the scene's own: the same contract
                _check_stands_in(show, ("scenes", index, *key), spec, path, card)
    for index, spec in enumerate(show.scenes):
        for field, source in _sources(spec):
            try:
                check_first_frame(source)
            except ValueError as error:
                key = ("scenes", index, field, *_media_key(source))
                raise ShowError(f"{show.where(key)}: scene {spec.name!r} cannot show its input: {error}") from None
    if show.audio.kind == "file" and show.audio.path is not None:
        try:
            check_audio_file(show.audio.path)
        except ValueError as error:
            raise ShowError(f"{show.where(('audio', 'path'))}: {error}") from None
    if show.osc.feedback is not None:
        try:
            resolve_feedback(show.osc.feedback)
        except ValueError as error:
            raise ShowError(f"{show.where(('osc', 'feedback'))}: {error}") from None


def _check_model(show: Show, key: tuple, spec, path: Path, kinds: tuple[str, ...]) -> ModelCard:
    """A model file with a card, of a kind the scene runs there (a CPPN makes pictures from nothing; a
    pipeline's model takes one; a GAN scene's upscaler is a super-resolution model)."""
    where = show.where(key)
    try:
        card = read_card(path)
    except EngineError as error:
        raise ShowError(f"{where}: {error}") from None
    if kinds and card.kind not in kinds:
        takes = " or ".join(kinds)
        role = "" if key[-1] == "model" else f" as its {key[-1]}"  # a second model: the key says what for
        raise ShowError(f"{where}: {path.name} is a {card.kind} model, but scene {spec.name!r} is a {spec.kind} "
                        f"scene, which runs {takes} models{role}")
    if key[-1] == "model" and spec.keyframes_at and card.z_dim:
        named = functools.reduce(getattr, spec.keyframes_at, spec)
        for name, latent in named.items():
            if isinstance(latent, list) and len(latent) != card.z_dim:
                raise ShowError(f"{show.where((*key[:-1], *spec.keyframes_at, name))}: a latent of {len(latent)} "
                                f"numbers, but {path.name}'s latent has {card.z_dim}; capture it again from this model")
    return card


def _check_stands_in(show: Show, key: tuple, spec, path: Path, card: ModelCard) -> None:
    """A rung's model eats and gives what the scene's own model does (the card contract a reloaded
    model must keep too), so the scene can run either from one frame to the next."""
    difference = contract_difference(read_card(spec.model_file), card)
    if difference is not None:
        raise ShowError(f"{show.where(key)}: {path.name} cannot stand in for {spec.model_file.name} on the "
                        f"ladder: {difference}")


def _sources(spec: BaseModel) -> list[tuple[str, SourceConfig]]:
    """(key, config) of each frame source a scene's block names: whatever its kind, the fields that
    hold a source config (a pipeline's `source`; a kind with two inputs would have two)."""
    return [(name, value) for name in type(spec).model_fields
            if isinstance(value := getattr(spec, name), SOURCE_CONFIGS)]


def _media_key(source: BaseModel) -> tuple[str, ...]:
    """The key under a source's block that names the file it plays (`path`, `folder`), if any."""
    return next(((name,) for name in type(source).model_fields if isinstance(getattr(source, name), Path)), ())
