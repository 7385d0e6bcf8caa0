"""The model-file contract: what an .onnx file says about itself in metadata_props.

A show names a model file and nothing else, so each file carries its kind, what
it expects and gives (value ranges, channel order, layout, size rules), for a
CPPN its latent size, colour channels and default scale, and how it was made.
The exporter writes a ModelCard; the engine reads one back and refuses files
that lack it. Keys are flat strings under the `latentstage.` prefix so tools such
as Netron show them as they are.

The kinds of model are not a closed list here: each kind registers itself
(`register_card_kind`) with what its input may hold, the card fields a file of
it must give and how its own fields read in a log line; the image models
(pix2pix, style) in live.inference.model_io, the CPPN in
live.inference.cppn_weights, the GAN in live.inference.gan_generator.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

PREFIX = "latentstage."
CONTRACT_VERSION = 1

InputKind = Literal["latent", "edges", "gray", "rgb"]
Layout = Literal["NCHW", "HWC"]


class ModelCardError(ValueError):
    """A model file whose metadata is missing or does not follow the contract."""


@dataclass(frozen=True)
class ModelCard:
    kind: str  # a registered CardKind's name
    input: InputKind  # what the image input holds; "latent" for a CPPN
    output_layout: Layout  # NCHW for image-to-image networks, HWC for a CPPN
    input_range: tuple[float, float] = (0.0, 1.0)
    output_range: tuple[float, float] = (0.0, 1.0)
    channel_order: Literal["RGB", "BGR"] = "RGB"
    size_multiple: int = 1  # height and width must be multiples of this
    native_size: tuple[int, int] | None = None  # (width, height) when the network is not size-free
    # fields of the latent kinds (a CPPN's and a GAN's, registered as required where each is run)
    z_dim: int | None = None
    c_dim: int | None = None
    scale: float | None = None  # a CPPN's default coordinate scale; an sr model's upscaling factor
    arch: str | None = None
    latent: tuple[float, ...] | None = None  # the latent it was made or fitted at: its "home" picture
    w_dim: int | None = None  # a GAN's intermediate latent (its mapping network's output) size
    resolution: int | None = None  # a GAN's square picture side, pixels
    # Provenance: how the file was made
    command: str = ""
    data: str = ""
    steps: int = 0
    seed: int | None = None
    date: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, str]:
        props = {PREFIX + "contract": str(CONTRACT_VERSION)}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                props.update({PREFIX + "extra." + k: str(v) for k, v in value.items()})
            elif value is None:
                continue
            elif isinstance(value, tuple):
                props[PREFIX + f.name] = ",".join(_number(v) for v in value)
            else:
                props[PREFIX + f.name] = str(value)
        return props

    @classmethod
    def from_metadata(cls, props: dict[str, str], source: str = "model") -> ModelCard:
        if PREFIX + "contract" not in props:
            raise ModelCardError(
                f"{source}: no latentstage metadata, so it does not say its kind, inputs and ranges; "
                "export CPPNs with `latentstage cppn export` and image models with exporters.onnx.export"
            )
        values: dict[str, object] = {}
        extra = {}
        for key, text in props.items():
            if not key.startswith(PREFIX) or key == PREFIX + "contract":
                continue
            name = key[len(PREFIX):]
            if name.startswith("extra."):
                extra[name[len("extra."):]] = text
                continue
            values[name] = text
        values["extra"] = extra
        return _coerce(values, source)

    def describe(self) -> str:
        """One line for logs and the HUD."""
        parts = [self.kind, f"in={self.input}", f"out={self.output_layout}"]
        kind = card_kind(self.kind)
        if kind is not None and kind.describe is not None:
            parts.append(kind.describe(self))
        return " ".join(parts)


@dataclass(frozen=True)
class CardKind:
    """A kind of model file, as the code that runs it registers it."""

    name: str  # what a card's `kind` says
    inputs: tuple[str, ...]  # what its `input` may say: ("latent",), or the pictures an image model takes
    required: tuple[str, ...] = ()  # ModelCard fields a file of this kind must give
    describe: Callable[[ModelCard], str] | None = None  # its own fields, in a log line
    # files written before its fields were card fields: the card made current before it is checked
    upgrade: Callable[[ModelCard], ModelCard] | None = None


_KINDS: dict[str, CardKind] = {}
# Where the kinds this package brings register themselves; imported at the first look-up, so a card
# reads the same whichever part of the program came to it first.
_BUILT_IN = ("live.inference.model_io", "live.inference.cppn_weights", "live.inference.gan_generator",
             "live.inference.upscaler")


def register_card_kind(kind: CardKind) -> CardKind:
    """Make model files of `kind` readable; registering the same kind twice keeps the first."""
    _KINDS.setdefault(kind.name, kind)
    return kind


def card_kind(name: str) -> CardKind | None:
    if name not in _KINDS:
        for module in _BUILT_IN:  # once each: Python keeps the modules it has imported
            importlib.import_module(module)
    return _KINDS.get(name)


def card_kinds() -> tuple[str, ...]:
    card_kind("")  # the built-in kinds registered
    return tuple(_KINDS)


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _coerce(values: dict[str, object], source: str) -> ModelCard:
    fields = {f.name: f for f in dataclasses.fields(ModelCard)}
    kwargs: dict[str, object] = {}
    for name, text in values.items():
        if name not in fields:
            continue  # newer writers may add keys; old readers ignore them
        try:
            kwargs[name] = _parse(name, text)
        except ValueError as error:
            raise ModelCardError(f"{source}: metadata key {PREFIX}{name}={text!r}: {error}") from None
    for required in ("kind", "input", "output_layout"):
        if required not in kwargs:
            raise ModelCardError(f"{source}: metadata lacks {PREFIX}{required}")
    card = ModelCard(**kwargs)
    kind = card_kind(card.kind)
    if kind is not None and kind.upgrade is not None:
        card = kind.upgrade(card)
    _check_choices(card, source)
    return card


def _parse(name: str, text: object) -> object:
    """A metadata string as the field's declared type says: a number, or a comma-separated tuple."""
    if name == "extra":
        return text
    assert isinstance(text, str)
    declared = _field_types()[name]
    if declared.startswith("tuple["):
        items = declared[len("tuple["):declared.index("]")].split(", ")  # ["float", "float"] or ["float", "..."]
        values = text.split(",")
        if "..." not in items and len(values) != len(items):
            raise ValueError(f"{len(values)} values, not {len(items)}")
        return tuple((int if items[0] == "int" else float)(v) for v in values)
    if declared.startswith("int"):
        return int(text)
    if declared.startswith("float"):
        return float(text)
    return text


@functools.cache
def _field_types() -> dict[str, str]:
    """Each ModelCard field's declared type, as written (`int | None`, `tuple[float, float]`)."""
    return {f.name: str(f.type) for f in dataclasses.fields(ModelCard)}


def _check_choices(card: ModelCard, source: str) -> None:
    kind = card_kind(card.kind)
    if kind is None:
        raise ModelCardError(f"{source}: {PREFIX}kind is {card.kind!r}, expected one of {card_kinds()}")
    choices = {
        "input": kind.inputs,
        "output_layout": ("NCHW", "HWC"),
        "channel_order": ("RGB", "BGR"),
    }
    for name, allowed in choices.items():
        if getattr(card, name) not in allowed:
            raise ModelCardError(f"{source}: {PREFIX}{name} is {getattr(card, name)!r}, expected one of {allowed}")
    missing = [name for name in kind.required if getattr(card, name) is None]
    if missing:
        raise ModelCardError(f"{source}: a {kind.name} model must give {_listed(kind.required)}")


def _listed(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
