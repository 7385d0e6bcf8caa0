"""The show file: YAML scenes and cues, loaded safely and validated with errors that name file, line and key.

A show is a list of scenes (a model and its parameters) and timed cues that
switch between them with crossfades. Each component's settings are its own
config dataclass in its own module; this module only assembles them, resolves
model paths against the show file's folder, and turns validation failures
into `demo.yaml:12: scenes[0].cppn.period: ...` messages.
"""
from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from live.control.bus import ControlBus
from live.control.mappings import MappingConfig, MappingTargetError, check_target
from live.control.midi import MidiConfig
from live.control.midi_messages import device_label
from live.control.osc import OscConfig
from live.control.parameters import ControlError, Parameter, coerce
from live.core.config import LocatedError, Settings, read_user_file
from live.core.curves import Curve
from live.inference.engine import EngineConfig, EngineError
from live.inference.model_card import ModelCardError
from live.inputs.audio import AudioConfig
from live.inputs.presence import PresenceConfig
from live.output.operator_window import OperatorConfig
from live.output.render import RenderConfig
from live.output.send_targets import SendConfig
from live.scenes.kinds import SceneSpec, control_bus, latent_kinds, scene_type, spec_parameters
from live.show.attract import AttractConfig
from live.show.governor import GovernorConfig

SCENE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_SHOW_BYTES = 1 << 20  # a show of a hundred scenes is a few tens of kilobytes
MAX_SHOW_NODES = 100_000  # YAML values, aliases expanded


class ShowError(ValueError):
    """A show file that cannot be used; the message names the file, line and key."""


class OutputConfig(Settings):
    width: int = Field(1280, ge=16, le=7680, multiple_of=2)  # even: H.264 recordings need it
    height: int = Field(720, ge=16, le=4320, multiple_of=2)
    fps: float = Field(30.0, gt=0, le=240)
    # Models render at this fraction of the output size and the GPU scales up: smooth
    # CPPN patterns survive 0.5 well, and it quarters the inference cost on a laptop CPU.
    render_scale: float = Field(1.0, gt=0, le=1)
    send: list[SendConfig] = Field(default_factory=list, max_length=16)  # the picture to other programs

    @property
    def render_size(self) -> tuple[int, int]:
        return max(2, round(self.width * self.render_scale)), max(2, round(self.height * self.render_scale))


class Cue(Settings):
    """One cue fires in one of four ways: at a show time (`at`), on the operator's GO (`go: true`),
    `wait` seconds after the cue before it fired (auto-continue; `wait: 0` fires with it), or once the
    cue before it has finished its fade and ramp (`follow: true`, auto-follow)."""

    at: float | None = Field(None, ge=0)  # seconds from the start of the show
    go: bool = False  # fires when the operator presses GO (space, or /latentstage/go)
    wait: float | None = Field(None, ge=0)  # seconds after the previous cue fired
    follow: bool = False  # fires when the previous cue's fade and ramp are over
    quantise: Literal["beat", "bar"] | None = None  # fire on the next beat or bar once the trigger comes
    scene: str
    fade: float = Field(0.0, ge=0)  # seconds of crossfade from the scene before
    curve: Curve = "smooth"  # smooth eases in and out; linear is a straight ramp; exp and log lean
    set: dict[str, float | bool | str] = Field(default_factory=dict)  # the scene's parameters, as it fires
    ramp: float = Field(0.0, ge=0)  # seconds over which numbers in `set` glide there, along `curve`
    # A CPPN scene's named keyframe: its latent glides there from where it is over `fade`, along `curve`
    # (on the scene already on screen there is no crossfade, only this move), then walks on from it.
    keyframe: str | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> Cue:
        given = [name for name, value in (("at", self.at), ("go", self.go or None), ("wait", self.wait),
                                          ("follow", self.follow or None)) if value is not None]
        if len(given) != 1:
            raise ValueError(f"a cue fires at a show time (at: S), on GO (go: true), a wait after the cue "
                             f"before it (wait: S) or when that cue is done (follow: true): give one of them, "
                             f"not {' and '.join(given) or 'none'}")
        return self

    @property
    def lasts(self) -> float:
        """Seconds from firing until its fade (and a keyframe move), and its ramp, are over."""
        return max(self.fade, self.ramp)

    @property
    def trigger(self) -> str:
        """How the cue fires, as the cue sheet says it."""
        if self.go:
            when = "GO"
        elif self.follow:
            when = "follow"
        else:
            when = f"at {self.at:g} s" if self.at is not None else f"wait {self.wait:g} s"
        return f"{when}, {self.quantise}" if self.quantise else when


TempoSource = Literal["fixed", "audio", "osc", "link", "midi"]


class TempoConfig(Settings):
    """Where a show's beats come from, for cues that fire on the beat or the bar: a fixed tempo
    (`bpm`, with the first beat at `offset` seconds), the audio input's tempo tracker,
    `/latentstage/beat` messages from another tool (a DJ program, a drum machine's clock),
    Ableton Link's session, or MIDI clock from the device `midi_in`. When the source is lost
    (Link with no other peer, MIDI clock stopped or silent, no beat heard), the show follows the
    first of `fallback` that is alive, and returns when the source does.
    With the audio's tracker, `bpm` says "about this tempo": of the octaves the tracker hears
    (x0.5, x1, x2) it takes the one nearest, so a 135 house track never reads 67.5; the
    operator can move the pin live with /latentstage/tempo (0 unpins it). With Link, `bpm` is
    the tempo the session starts at when no one else is in it.
    `lead: [link, midi]` hands the leading tempo on: Link's session takes it (and a fixed grid's
    phase), and MIDI clock goes out to the device `midi_out`."""

    source: TempoSource = "fixed"
    fallback: list[TempoSource] = Field(default_factory=list)  # in order, when the source is lost
    bpm: float | None = Field(None, gt=0, le=400)  # fixed: the tempo; audio: about this tempo; link: to start at
    offset: float = Field(0.0, ge=0)  # seconds: where a fixed grid's first beat falls
    beats_per_bar: int = Field(4, ge=1, le=16)
    lead: list[Literal["link", "midi"]] = Field(default_factory=list)  # tools the show hands its tempo to
    midi_in: str | int | None = None  # the MIDI clock's device: part of its port's name, or its index
    midi_out: str | int | None = None  # where the show's MIDI clock goes, when it leads midi

    @model_validator(mode="after")
    def _fixed_needs_bpm(self) -> TempoConfig:
        sources = [self.source, *self.fallback]
        if self.source == "fixed" and self.bpm is None:
            raise ValueError("a fixed tempo needs bpm (or source: audio, osc, link or midi)")
        if "fixed" in self.fallback and self.bpm is None:
            raise LocatedError(("fallback",), "falling back to a fixed tempo needs its bpm: add bpm")
        if set(sources) == {"osc"} and self.bpm is not None:
            raise LocatedError(("bpm",), "the beats come from /latentstage/beat, so bpm means nothing here; "
                                         "remove it (it pins the tempo of source: audio)")
        for index, name in enumerate(self.fallback):
            if name in sources[:index + 1]:
                raise LocatedError(("fallback", index), f"{name} is already a source before it: each once")
        if "midi" in sources and self.midi_in is None:
            raise LocatedError(("midi_in",), "MIDI clock needs the device it comes from: midi_in: NAME (part of its "
                                             "port's name) or its index")
        if "midi" in self.lead and self.midi_out is None:
            raise LocatedError(("midi_out",), "leading with MIDI clock needs the device it goes to: midi_out: NAME")
        if "link" in self.lead and self.source == "link":
            raise LocatedError(("lead",), "the show follows Link, so it cannot lead it too: remove link from lead")
        return self


class Show(Settings):
    name: str = "untitled"
    seed: int = 0
    length: float | None = Field(None, gt=0)  # seconds; the cue list repeats after it
    output: OutputConfig = Field(default_factory=OutputConfig)
    window: RenderConfig = Field(default_factory=RenderConfig)
    operator: OperatorConfig | None = None  # an operator window beside the program (preview, HUD, cue list)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    scenes: list[SceneSpec] = Field(min_length=1)
    cues: list[Cue] = Field(default_factory=list)
    tempo: TempoConfig | None = None  # the beats that quantised cues fire on
    audio: AudioConfig = Field(default_factory=AudioConfig)  # none by default: a show needs no sound card
    osc: OscConfig = Field(default_factory=OscConfig)  # 127.0.0.1:9000 unless the show opens it
    midi: MidiConfig = Field(default_factory=MidiConfig)  # MIDI devices to read, and one to echo values to
    mappings: list[MappingConfig] = Field(default_factory=list)  # sources (audio, OSC, MIDI, keys, LFOs) to parameters
    # When a scene fails (a camera unplugged, a model erroring), its last good frame holds
    # for `hold` seconds, then the idle scene shows until it recovers. None: the first CPPN
    # scene, or the bundled CPPN if the show has none.
    idle: str | None = None
    hold: float = Field(2.0, ge=0)  # seconds
    # Who is in front of the camera: read from a scene's input frames when something uses it (a `camera:
    # presence` mapping, attract) or the show asks for it here (the HUD shows it)
    presence: PresenceConfig | None = None
    attract: AttractConfig | None = None  # an empty room glides to this scene; an approach wakes it
    governor: GovernorConfig = Field(default_factory=GovernorConfig)  # how scenes' ladders are stepped live
    source: Path = Path("<memory>")  # the file it came from; set by load_show
    _tree: Any = PrivateAttr(None)  # the file's YAML nodes, for the lines of problems found later

    @model_validator(mode="after")
    def _names_resolve(self) -> Show:
        names = [scene.name for scene in self.scenes]
        for index, name in enumerate(names):
            if not SCENE_NAME.match(name):
                raise LocatedError(("scenes", index, "name"), f"{name!r}: use lower-case letters, digits and _ "
                                                              f"(it becomes an OSC address, /latentstage/{name}/...)")
            if name in names[:index]:
                raise LocatedError(("scenes", index, "name"), f"{name!r} is the name of an earlier scene too; "
                                                              "scene names must be unique")
        known = f"scenes are: {', '.join(names)}"
        if not self.window.visible and self.operator is None:
            raise LocatedError(("window", "visible"), "with no program window the show needs an operator window: "
                                                      "add `operator: {}` (or run it with --operator)")
        if self.length and self.is_cue_list:
            raise LocatedError(("length",), "a show with GO or wait cues plays its cue list once, in file order; "
                                            "repeating it would loop its waits with no end: remove length")
        for index, cue in enumerate(self.cues):
            if cue.quantise and self.tempo is None:
                raise LocatedError(("cues", index, "quantise"), f"fires on the {cue.quantise}, but the show has no "
                                   "tempo: add `tempo: {bpm: 120}`, or `{source: audio}`, `osc`, `link` or `midi`")
        if self.tempo is not None and "audio" in (self.tempo.source, *self.tempo.fallback) and self.audio.kind == "none":
            key = "source" if self.tempo.source == "audio" else "fallback"
            raise LocatedError(("tempo", key), "the tempo comes from the audio input, but the show has "
                                                    "none: add `audio: {kind: input}` (or a file)")
        for index, cue in enumerate(self.cues):
            if cue.scene not in names:
                raise LocatedError(("cues", index, "scene"), f"{cue.scene!r} is not a scene; {known}")
            if cue.keyframe is not None:
                _check_keyframe(self.scenes[names.index(cue.scene)], cue.keyframe, ("cues", index, "keyframe"))
        if self.idle is not None and self.idle not in names:
            raise LocatedError(("idle",), f"{self.idle!r} is not a scene; {known}")
        self._check_presence(names, known)
        for index, scene in enumerate(self.scenes):
            _check_ladder(scene, index, self.output)
        bus = self.control_bus(cards_must_read=False)
        for index, cue in enumerate(self.cues):
            for name, value in cue.set.items():
                _check_cue_setting(bus, cue.scene, name, value, ("cues", index, "set", name))
        devices = [device_label(entry) for entry in self.midi.inputs]
        for index, mapping in enumerate(self.mappings):
            if mapping.midi is not None and not devices:
                raise LocatedError(("mappings", index, "midi"), "the show reads no MIDI device: add "
                                   "`midi: {inputs: [NAME]}` (part of a port's name from `latentstage midi list`)")
            if mapping.midi is not None and mapping.midi.device is not None \
                    and device_label(mapping.midi.device) not in devices:
                raise LocatedError(("mappings", index, "midi", "device"), f"{mapping.midi.device!r} is not one of "
                                   f"the show's MIDI inputs ({', '.join(devices)}); write it as midi.inputs does")
            try:
                check_target(mapping, bus)
            except MappingTargetError as error:
                raise LocatedError(("mappings", index, error.key), str(error)) from None
        return self

    def _check_presence(self, names: list[str], known: str) -> None:
        """The presence scene reads frames; attract names another scene; whatever uses presence has a room to watch."""
        watched = self.presence.scene if self.presence is not None else None
        if watched is not None:
            if watched not in names:
                raise LocatedError(("presence", "scene"), f"{watched!r} is not a scene; {known}")
            if not self.scenes[names.index(watched)].reads_frames:
                raise LocatedError(("presence", "scene"), f"scene {watched!r} reads no frames; presence is read "
                                                          "from a camera's (a pipeline scene's source)")
        users = ([("attract",)] if self.attract is not None else []) + \
            [("mappings", index, "camera") for index, mapping in enumerate(self.mappings) if mapping.camera]
        if users and self.watched_scene is None:
            raise LocatedError(users[0], "presence is read from a camera's frames, but no scene of the show reads "
                                         "frames: add a pipeline scene with the camera as its source")
        if self.attract is not None:
            if self.attract.scene not in names:
                raise LocatedError(("attract", "scene"), f"{self.attract.scene!r} is not a scene; {known}")
            if self.attract.scene == self.watched_scene:
                raise LocatedError(("attract", "scene"), f"{self.attract.scene!r} is the scene that watches the "
                                                         "room; the attract scene is what an empty room sees instead")

    @property
    def watched_scene(self) -> str | None:
        """The scene whose input frames presence is read from: the presence block's, else the first that
        reads frames (None when there is none)."""
        if self.presence is not None and self.presence.scene is not None:
            return self.presence.scene
        return next((scene.name for scene in self.scenes if scene.reads_frames), None)

    @property
    def watches_the_room(self) -> bool:
        """Whether presence is read while the show runs: something uses it, or the show asks for it."""
        uses = self.presence is not None or self.attract is not None or any(m.camera for m in self.mappings)
        return uses and self.watched_scene is not None
    def control_bus(self, cards_must_read: bool = True) -> ControlBus:
        """The control bus the show's scenes will have, each parameter at its scene's own default, made
        from the scenes' blocks and their models' cards alone (no model loaded: `osc list`). A card
        that cannot be read raises EngineError or ModelCardError, unless `cards_must_read` is False
        (the show's own checks: preflight refuses the file, by name): its scene's kind's declarations
        stand in."""
        return control_bus([(scene.name, scene_type(scene.kind), self._scene_parameters(scene, cards_must_read))
                            for scene in self.scenes])

    def _scene_parameters(self, scene: SceneSpec, cards_must_read: bool) -> tuple[Parameter, ...]:
        try:
            return spec_parameters(scene, self.source.parent)
        except (EngineError, ModelCardError):
            if cards_must_read:
                raise
            return scene_type(scene.kind).PARAMETERS

    @property
    def is_cue_list(self) -> bool:
        """True when some cue waits for GO, for the cue before it or for a beat: the cues then fire in
        file order, as a theatre's cue list does, not on a clock alone."""
        return any(cue.at is None or cue.quantise for cue in self.cues)

    @property
    def timeline(self) -> list[Cue]:
        """The cues in firing order: file order for a cue list, else time order (any order in the file)."""
        return list(self.cues) if self.is_cue_list else sorted(self.cues, key=lambda cue: cue.at)

    def scene_index(self, name: str) -> int:
        return [scene.name for scene in self.scenes].index(name)

    def where(self, location: tuple) -> str:
        """`show.yaml:12: scenes[2].model` for a problem found after loading (a model that will not
        load); without the file's lines (a show changed since) just the file and the key."""
        line = f":{_line_of(self._tree, location)}" if self._tree is not None else ""
        return f"{self.source}{line}: {_key_text(location)}"


def load_show(path: str | Path) -> Show:
    return parse_show(show_text(Path(path)), Path(path))


def show_text(path: Path) -> str:
    """The show file's text, or a ShowError saying in one line why it cannot be read."""
    try:
        return read_user_file(path, "show file", MAX_SHOW_BYTES)
    except ValueError as error:
        raise ShowError(str(error)) from None


def parse_show(text: str, path: Path) -> Show:
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        _check_expanded_size(tree, path)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ShowError(_describe_yaml_error(error, text, path)) from None
    if not isinstance(data, dict):
        line = tree.start_mark.line + 1 if tree is not None else 1
        what = "holds nothing" if data is None else f"holds {_yaml_kind(data)}"
        raise ShowError(f"{path}:{line}: scenes: the file {what}; a show file is a mapping of keys "
                        "with at least a 'scenes' list")
    try:
        show = Show.model_validate({**data, "source": path})
    except ValidationError as error:
        raise ShowError(_describe(error, tree, path)) from None
    _resolve_models(show, tree, path)
    show._tree = tree
    return show


def _yaml_kind(data: Any) -> str:
    return {list: "a list", str: "a single string"}.get(type(data), f"a single value ({data!r:.40})")


YAML_KEY = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.-]*)\s*:")  # the key a line of YAML opens, if any


def _describe_yaml_error(error: yaml.YAMLError, text: str, path: Path) -> str:
    """`show.yaml:4: kind: not valid YAML: ...`, naming the key on the line where YAML gave up and the
    line where what it was reading began."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return f"{path}: not valid YAML: {error}"
    problem = getattr(error, "problem", None) or str(error)
    if "'\\t'" in problem:  # PyYAML's words for a tab: "found character '\\t' that cannot start any token"
        problem += " (YAML indents with spaces, not tabs)"
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark is not None and context_mark.line != mark.line:
        problem += f" ({context} that starts on line {context_mark.line + 1})"
    lines = text.splitlines()
    key = YAML_KEY.match(lines[mark.line]) if mark.line < len(lines) else None
    return f"{path}:{mark.line + 1}: {key.group(1) + ': ' if key else ''}not valid YAML: {problem}"


def _check_expanded_size(tree: yaml.Node | None, path: Path) -> None:
    """Refuse YAML whose aliases expand past MAX_SHOW_NODES (a few lines of nested anchors can
    stand for billions of values, and validating them would never end)."""
    budget = MAX_SHOW_NODES
    pending = [tree] if tree is not None else []
    while pending:
        node = pending.pop()
        budget -= 1
        if budget < 0:
            raise ShowError(f"{path}: more than {MAX_SHOW_NODES} values once its aliases are expanded; "
                            "no show needs that many")
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(value for pair in node.value for value in pair)


def _resolve_models(show: Show, tree: yaml.Node, path: Path) -> None:
    """Model and media paths (each scene's spec says which files it reads) are relative to the show
    file; each must exist."""
    if show.audio.path is not None:
        show.audio.path = _existing(path, tree, show.audio.path, ("audio", "path"), "the audio")
    for index, scene in enumerate(show.scenes):
        owner = f"scene {scene.name!r}"
        resolved = {key: _existing(path, tree, named, ("scenes", index, *key), owner)
                    for key, named in {**scene.files(), **scene.ladder_files()}.items()}
        if resolved:
            show.scenes[index] = scene.with_files(resolved)


def _existing(show_path: Path, tree: yaml.Node, named: Path, location: tuple, owner: str) -> Path:
    resolved = (show_path.parent / named).resolve()
    if not resolved.exists():
        raise ShowError(f"{show_path}:{_line_of(tree, location)}: {_key_text(location)}: {owner} names {named}, "
                        f"which does not exist (looked for {resolved})")
    return resolved


def _check_ladder(scene: SceneSpec, index: int, output: OutputConfig) -> None:
    """A scene's target is one the show's rate allows, and each render_scale rung draws smaller than the
    show and the rungs above it do (what a kind cannot take its spec refuses itself)."""
    if scene.target_fps is not None and scene.target_fps > output.fps:
        raise LocatedError(("scenes", index, "target_fps"), f"{scene.target_fps:g} is above the show's fps "
                           f"{output.fps:g}: the show composes at most {output.fps:g} pictures a second")
    above, where = output.render_scale, "output.render_scale"
    for number, rung in enumerate(scene.ladder):
        if rung.render_scale is None:
            continue
        if rung.render_scale >= above:
            raise LocatedError(("scenes", index, "ladder", number, "render_scale"),
                               f"{rung.render_scale:g} is not below {above:g} ({where}): a rung down must be cheaper")
        above, where = rung.render_scale, f"rung {number + 1}'s"


def _check_cue_setting(bus, scene: str, name: str, value: Any, location: tuple) -> None:
    """A cue's `set: {name: value}` names a parameter of its scene and a value that parameter takes."""
    own = [parameter.name.removeprefix(f"{scene}.") for parameter in bus.parameters()
           if parameter.name.startswith(f"{scene}.")]
    if name not in own:
        close = difflib.get_close_matches(name, own, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise LocatedError(location, f"scene {scene!r} has no parameter {name!r}; {hint}it has: {', '.join(own)}")
    try:
        coerce(bus.declaration(f"{scene}.{name}"), value)
    except ControlError as error:
        raise LocatedError(location, str(error)) from None


def _check_keyframe(scene: SceneSpec, name: str, location: tuple) -> None:
    """A cue's `keyframe: NAME` names one of the keyframes its scene's latent offers."""
    if not scene.has_latent:
        kinds = " or ".join(latent_kinds())
        raise LocatedError(location, f"scene {scene.name!r} is a {scene.kind} scene; only a {kinds} scene has a "
                                     "latent that moves to a keyframe")
    named = list(scene.keyframe_names())
    if name not in named:
        close = difflib.get_close_matches(name, named, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = (f"it has: {', '.join(named)}" if named else
                 f"it names none: give it {scene.naming_keyframes}")
        raise LocatedError(location, f"scene {scene.name!r} has no keyframe named {name!r}; {hint}{known}")


def cue_sheet(show: Show) -> list[str]:
    """The cue list as a designer reads it: number, trigger, scene, and how it comes in."""
    if not show.cues:
        return ["  no cues: the first scene shows throughout"]
    width = max(len(cue.scene) for cue in show.cues)
    lines = [f"  {'cue':>3}  {'trigger':<12}  {'scene':<{width}}  how"]
    before = show.scenes[0].name  # the scene on screen as each cue fires, if nobody changes it by hand
    for number, cue in enumerate(show.timeline, start=1):
        how = f"fade {cue.fade:g} s, {cue.curve}" if cue.fade else "cut"
        if cue.keyframe is not None and cue.scene == before:  # no crossfade: only the latent moves
            how = f"latent to keyframe {cue.keyframe}" + (f" over {cue.fade:g} s, {cue.curve}" if cue.fade else "")
        elif cue.keyframe is not None:
            how += f"; latent to keyframe {cue.keyframe}"
        before = cue.scene
        if cue.set:
            sets = ", ".join(f"{name} {value}" for name, value in cue.set.items())
            how += f"; sets {sets}" + (f" over {cue.ramp:g} s" if cue.ramp else "")
        lines.append(f"  {number:>3}  {cue.trigger:<12}  {cue.scene:<{width}}  {how}")
    if show.length:
        lines.append(f"  the cue list repeats every {show.length:g} s")
    if show.attract is not None:
        attract = show.attract
        rate = f"{attract.fps:g}" if attract.fps else f"{show.output.fps / 3:g}"
        lines.append(f"  attract: {attract.scene!r} after {attract.after:g} s of presence under {attract.below:g} "
                     f"(read from scene {show.watched_scene!r}), at {rate} fps; presence {attract.wake:g} wakes it")
    return lines


@functools.cache
def _known_keys() -> tuple[str, ...]:
    """Every key a show file can hold anywhere, from the schema itself."""
    keys: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(Show.model_json_schema())
    return tuple(sorted(keys))


def _suggestion(key: str, nearby: list[str]) -> str | None:
    """The key a misspelt one was meant to be: one the block is missing, else any key a show has."""
    close = (difflib.get_close_matches(key, nearby, n=1, cutoff=0.6)
             or difflib.get_close_matches(key, _known_keys(), n=1, cutoff=0.75))
    return close[0] if close else None


def _key_text(location: tuple) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".")


def _describe(error: ValidationError, tree: yaml.Node, path: Path) -> str:
    """One `file:line: key: message` line per problem. A misspelt key makes two problems in pydantic's
    eyes (an unknown key, a required one missing): they are one line here, with a "did you mean"."""
    problems = []
    for problem in error.errors():
        cause = problem.get("ctx", {}).get("error")
        if isinstance(cause, LocatedError):  # a check of a block names its own key below the block
            problem = {**problem, "loc": (*problem["loc"], *cause.location), "msg": str(cause)}
        problems.append({**problem, "loc": _in_file_terms(tree, problem["loc"])})
    missing = [problem["loc"] for problem in problems if problem["type"] == "missing"]
    explained = set()
    lines = []
    for problem in problems:
        location, message = problem["loc"], problem["msg"].removeprefix("Value error, ")
        if problem["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            nearby = [str(other[-1]) for other in missing if other[:-1] == location[:-1]]
            meant = _suggestion(str(location[-1]), nearby) if location else None
            if meant in nearby:  # the missing key it was meant to be needs no line of its own
                explained.add((*location[:-1], meant))
            message = "unknown key" + (f"; did you mean {meant!r}?" if meant else "")
        elif problem["type"] == "missing":
            message = "required key is missing"
        elif problem["type"] == "union_tag_invalid":  # `kind: gan`: the kind is the key at fault
            context = problem["ctx"]
            location = (*location, context["discriminator"].strip("'"))
            kinds = [kind.strip(" '") for kind in context["expected_tags"].split(",")]
            close = difflib.get_close_matches(str(context["tag"]), kinds, n=1)
            message = (f"there is no kind {context['tag']!r} here; " + (f"did you mean {close[0]!r}? " if close else "")
                       + f"kinds are: {', '.join(kinds)}")
        lines.append((location, f"{path}:{_line_of(tree, location)}: {_key_text(location) or 'show'}: {message}"))
    return "\n".join(line for location, line in lines if location not in explained)


def _in_file_terms(tree: yaml.Node | None, location: tuple[Any, ...]) -> tuple[Any, ...]:
    """pydantic's error location without the parts it adds that are not keys in the file:
    a discriminated union's tag (the `kind:` value) and validator names."""
    kept, node, tag_skipped = [], tree, None
    for part in location:
        if part == "function-after":
            continue
        if isinstance(node, yaml.MappingNode) and node is not tag_skipped and _kind_of(node) == part:
            tag_skipped = node  # once: `kind: cppn` also has a `cppn:` key below the tag
            continue
        kept.append(part)
        node = _child(node, part) if node is not None else None
    return tuple(kept)


def _kind_of(node: yaml.MappingNode) -> str | None:
    for key_node, value_node in node.value:
        if key_node.value == "kind" and isinstance(value_node, yaml.ScalarNode):
            return value_node.value
    return None


def _line_of(tree: yaml.Node | None, location: tuple[Any, ...]) -> int:
    """1-based line of the deepest YAML node along `location` that exists in the file."""
    node, line = tree, 1
    for part in location:
        if node is None:
            break
        line = node.start_mark.line + 1
        node = _child(node, part)
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == part:
                # an unknown key's own line is more useful than its value's
                return value_node if not isinstance(value_node, yaml.ScalarNode) else key_node
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
