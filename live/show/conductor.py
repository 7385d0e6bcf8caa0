"""The conductor: a show's control bus, mappings, audio input and controllers, and the one frame step.

Controllers (live/control: OSC, keys, a rehearsal's OSC script) and the sound
card work on their own threads and only leave plain values behind (the bus,
the audio ring buffer). `step(stage, t)` is the frame at show time t, the same
in the live loop and in a rehearsal: `update` polls the controllers, analyses
the audio that has come in, runs the show's mappings, turns the performer's
scene commands into director changes and writes the scene on screen back to
the bus (so queries and feedback tell the truth); then the stage composes
each scene at one consistent snapshot of its parameters (`moment`). A press
of `capture` snapshots the scene on screen between the controls and the frame,
for a thread of its own to write into the show file (live.show.capture): a
live run's file only. In
rehearsal the same conductor reads a sound file and a timed list of OSC
messages instead, on the virtual clock, so a rehearsed show reacts exactly as
it will live.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from live.control.bus import SHOW, ControlBus
from live.control.mappings import Mapper
from live.control.controller import Controller
from live.control.midi import MidiController
from live.control.osc import OscServer
from live.control.osc_script import OscCue, OscScript
from live.core.clock import Clock
from live.core.curves import Curve, apply_curve
from live.inputs.audio import SILENCE, AudioFeatures, AudioSource, NoAudio, open_audio
from live.inputs.presence import PresenceConfig
from live.scenes.contract import KeyframeMove, Moment, Scene, defaults
from live.scenes.kinds import control_bus
from live.show.attract import Attract
from live.show.capture import capture_into, snapshot
from live.show.controllers import show_controllers
from live.show.director import Director
from live.show.room import Room
from live.show.schema import Cue, Show, TempoConfig
from live.show.show_file_writer import SHOW_FILE_WRITER
from live.show.stage import Layers, Stage
from live.show.tempo import Beat, Tempo

log = logging.getLogger("latentstage.conductor")


SCENE_STEPS = {"scene.next": 1, "scene.previous": -1}  # trigger -> scenes to move
NOTICE_SECONDS = 8.0  # how long the HUD says what an edit of the show file (a capture, MIDI learn) did
TempoFor = Callable[[TempoConfig], Tempo]  # a show's tempo section -> what gives its beats (Tempo, or alike)


class Conductor:
    """Once per frame, the show's one step: read the controls, direct the scenes, compose the frame."""

    def __init__(self, show: Show, bus: ControlBus, mapper: Mapper, audio, controllers: list[Controller],
                 parameter_names: dict[str, list[str]], clock: Clock = time.perf_counter, rehearsal: bool = False,
                 tempo_for: TempoFor | None = None):
        """`parameter_names`: each of the show's scenes -> the names of its parameters; `clock` and
        `rehearsal`: for the show's tempo sources (Link and MIDI clock stamp with it; a rehearsal has none);
        `tempo_for`: the beats' source for a show's `tempo:` (a replay's are the night's), else its own."""
        self.show = show
        self._clock, self._rehearsal = clock, rehearsal
        self._tempo_for = tempo_for or (lambda config: Tempo(config, clock, rehearsal))
        self.tempo = self._tempo_for(show.tempo) if show.tempo is not None else None
        self.beats: list[Beat] = []  # the leading tempo source's beats this frame, each at its own time
        self._t = 0.0  # show time of the last update
        self.bus = bus
        self.mapper = mapper
        self.audio = audio
        self.controllers: list[Controller] = []  # those running (one that could not start is dropped)
        self.features: AudioFeatures = SILENCE  # the latest analysis, for the HUD and the scenes
        self.problems: dict[str, str] = {}  # controller -> why it is off, for the HUD
        self._seen_scene_version = 0  # the bus's `scene` version already acted on
        self._seen_presses = dict.fromkeys((*SCENE_STEPS, "go", "beat", "capture"), 0)  # trigger -> presses acted on
        self._captures: list[str] = []  # this frame's capture presses, each with the name it asked for
        self.show_writes = SHOW_FILE_WRITER  # captures (and MIDI learn's mappings), off this thread
        self._notice = (self.show_writes.done, -math.inf)  # (edits seen, show time the HUD stops saying the last)
        self.standby = ""  # the next cue of a cue list, as the HUD shows it
        self._cue_settings = CueSettings(bus)
        self._directed_until = -math.inf  # show time up to which fired cues have set their parameters
        self._cues_fired: int | None = 0  # a cue list's cues fired so far (None: as many as a reload carried)
        self._parameter_names = parameter_names
        self._values: dict[str, dict] = {}  # scene -> its parameters' values this frame, from `update`
        self._mirror = bool(bus.get("mirror"))  # this frame's mirror switch, from `update`
        self.outside_writes = 0  # controllers' writes to the bus the last update saw
        self.fired: list[tuple[float, Cue]] = []  # (when, cue) for each cue the last update fired
        self.rendered: dict[str, Moment] = {}  # scene -> the moment the last step rendered it at
        self.journal: Callable[[ControlBus], None] | None = None  # starts an event log's journal on a bus
        self.room: Room | None = None  # presence, when the show watches the room
        self.attract: Attract | None = None  # the attract mode, when the show has one
        self._watch_the_room(show)
        for controller in controllers:
            self.add(controller)

    @classmethod
    def build(cls, show: Show, scenes: list[Scene], rehearsal: bool = False, clock: Clock = time.perf_counter,
              audio: AudioSource | None = None, osc_script: list[OscCue] | None = None,
              tempo_for: TempoFor | None = None) -> Conductor:
        """A conductor for a show whose scenes are built; `clock` is the one the show's frames ask for
        features at (live: seconds since the show started), so the audio input stamps with it too.
        `audio`: a source opened already (a rehearsal checks its file first); else the show's own.
        Its controllers: the show's (live.show.controllers), and in rehearsal `osc_script` if given."""
        bus = control_bus([(scene.name, type(scene), scene.parameters) for scene in scenes])
        # the window's starting state, so OSC queries and feedback tell the truth from the start
        bus.set("hud", show.window.hud, source="show")
        bus.set("mirror", show.window.mirror, source="show")
        if show.tempo is not None and show.tempo.source == "audio" and show.tempo.bpm:
            bus.set("tempo", show.tempo.bpm, source="show")  # "about 135": the tracker's octave pinned near it
        audio = audio if audio is not None else show_audio(show, rehearsal, clock=clock)
        controllers = show_controllers(show, rehearsal)
        if osc_script:
            controllers.append(OscScript(osc_script, show.osc.prefix))
        return cls(show, bus, Mapper(show.mappings, bus), audio, controllers, parameter_names(scenes), clock, rehearsal,
                   tempo_for)

    def _watch_the_room(self, show: Show) -> None:
        """Presence and the attract mode for `show` (a reloaded show keeps the room's estimate when it
        watches the same scene, and the attract mode's state when it attracts to the same scene)."""
        room, attract = self.room, self.attract
        self.room = None
        if show.watches_the_room:
            same = room is not None and room.scene == show.watched_scene
            self.room = room if same else Room(show.watched_scene, show.presence or PresenceConfig())
        self.attract = None
        if show.attract is not None:
            names = [scene.name for scene in show.scenes]
            self.attract = Attract(show.attract, names.index(show.attract.scene), names)
            if attract is not None and attract.names[attract.scene] == show.attract.scene:
                self.attract = replace(attract, config=show.attract, scene=self.attract.scene, names=names)

    def add(self, controller: Controller) -> None:
        """One more controller on the show's bus (before `start`)."""
        controller.use_bus(self.bus)
        controller.use_mappings(self.show.mappings)
        self.controllers.append(controller)

    def start(self) -> None:
        self.audio.start()
        if self.tempo is not None:
            self.tempo.start()
        for controller in list(self.controllers):
            try:
                controller.start()
            except OSError as error:  # a busy port must not stop the show: it runs without it, and says so
                self.problems[controller.name] = str(error)
                log.error("%s; the show goes on without %s", error, controller.name)
                self.controllers.remove(controller)

    @property
    def osc(self) -> OscServer | None:
        """The OSC server while it listens, for its address and counters."""
        return next((controller for controller in self.controllers if isinstance(controller, OscServer)), None)

    @property
    def midi(self) -> MidiController | None:
        """The MIDI devices' controller while it runs, for its counters."""
        return next((controller for controller in self.controllers if isinstance(controller, MidiController)), None)

    def stop(self) -> None:
        self.show_writes.stop()
        self.audio.stop()
        if self.tempo is not None:
            self.tempo.stop()
        for controller in self.controllers:
            controller.stop()

    def use_show(self, show: Show, bus: ControlBus, scenes: list[Scene]) -> None:
        """From this frame on, control `show` (its file edited while it runs) through `bus`, made for its
        `scenes` with the performer's values already on it. The audio input and the controllers keep
        running; presses not yet acted on and cue ramps under way carry over. The event log, if one is
        kept, journals the new bus before any controller can reach it."""
        pending = {trigger: self.bus.count(trigger) - seen for trigger, seen in self._seen_presses.items()}
        if show.tempo != self.show.tempo:  # a new tempo section: its sources from this frame on
            if self.tempo is not None:
                self.tempo.stop()
            self.tempo = self._tempo_for(show.tempo) if show.tempo is not None else None
            if self.tempo is not None:
                self.tempo.start()
        self.show, self.bus = show, bus
        self._watch_the_room(show)
        self.mapper = Mapper(show.mappings, bus)
        self._cue_settings = self._cue_settings.carried_over(bus, scenes)
        self._seen_presses = {trigger: bus.count(trigger) - count for trigger, count in pending.items()}
        self._seen_scene_version = bus.version("scene")
        self._cues_fired = None  # the new director carries the cues fired so far over: they are set already
        self._parameter_names = parameter_names(scenes)
        if self.journal is not None:
            self.journal(bus)
        for controller in self.controllers:
            controller.use_bus(bus)
            controller.use_mappings(show.mappings)

    def step(self, stage: Stage, t: float, copy: bool = False) -> Layers:
        """The frame at t (seconds of show time), the one step the live loop and a rehearsal share:
        read the controls, direct the stage's scenes, and compose each scene at this frame's moment
        (`rendered` keeps those moments). copy=True hands the layers to another thread."""
        shown = stage.director.composition_at(self._t).scene  # on screen now: the last frame's scene
        self.update(t, stage.director, stage.scenes)
        for name in self._captures:
            self._capture(stage.scenes[shown], stage.director, t, name)
        self.rendered = {}
        return stage.frame_at(t, copy=copy, moment_for=self._rendered_moment)

    @property
    def mirror(self) -> bool:
        """Whether this frame's picture is flipped left-right (the `mirror` switch on the bus, read in the
        frame's tick with everything else: a switch that arrives while the frame is drawn is the next one's)."""
        return self._mirror

    def update(self, t: float, director: Director, scenes: Sequence[Scene] = ()) -> None:
        """Read every control for the frame at t (seconds of show time), direct the scenes and take
        each scene's parameters for this frame. Controllers' writes wait while it reads (a tick), so
        the frame sees each of them whole, and `outside_writes` says how many it has seen. `scenes`:
        the stage's, for the room's presence (read from one of them)."""
        self._t = t
        with self.bus.tick() as self.outside_writes:
            for controller in self.controllers:
                controller.poll(t)
            if self.room is not None:
                self.room.update(t, scenes, self.bus)
            self.audio.pin_tempo(float(self.bus.get("tempo")) or None)  # the show's or /latentstage/tempo's pin
            self.features = self.audio.features(t)  # a file's features at t in rehearsal, the newest sound live
            if self.tempo is not None:
                osc_beats = self.bus.count("beat") - self._seen_presses["beat"]
                self._seen_presses["beat"] = self.bus.count("beat")
                self.beats = self.tempo.update(t, self.features, osc_beats)
            self.mapper.update(t, self.features)
            self._take_captures()
            self._direct(t, director)
            if self.attract is not None and self.room is not None:
                self.attract.update(t, self.room.presence, self.room.activity, director)
                self._show_on_the_bus(director, t)
            self._values = {scene: {name: self.mapper.value(f"{scene}.{name}") for name in names}
                            for scene, names in self._parameter_names.items()}
            self._mirror = bool(self.bus.get("mirror"))

    def _take_captures(self) -> None:
        """The capture presses since the last frame, the first with the name asked for (then cleared)."""
        presses = self.bus.count("capture") - self._seen_presses["capture"]
        self._seen_presses["capture"] += presses
        name = str(self.bus.get("capture.name"))
        self._captures = [name, *[""] * (presses - 1)] if presses > 0 else []
        if name and presses > 0:
            self.bus.set("capture.name", "", source=SHOW)

    def _capture(self, scene: Scene, director: Director, t: float, name: str) -> None:
        """`scene` (on screen: its latent is the last frame's) as the performer has it, for the show's file
        (not in a rehearsal, which never edits the show); the writer says what happened in the log and, for
        a while, on the HUD."""
        if self._rehearsal:
            log.info("rehearsal: capture at %.2f s not written (a rehearsal never edits the show)", t)
            return
        fired = (director.last_fired(t) or 0) if director.is_cue_list else None
        path, taken = Path(self.show.source), snapshot(scene, self.bus, fired, name)
        self.show_writes.submit("capture", lambda: capture_into(path, taken).message)

    def moment(self, scene: Scene, t: float) -> Moment:
        """The scene's parameters for this frame, modulation applied, as the last update took them
        (a scene outside the show, the bundled idle one, renders with its defaults)."""
        values = self._values.get(scene.name)
        if values is None:
            return Moment(t, defaults(scene.parameters), self.features.onset)
        return Moment(t, dict(values), self.features.onset, self._cue_settings.keyframes.get(scene.name))

    def _rendered_moment(self, scene: Scene, t: float) -> Moment:
        moment = self.rendered[scene.name] = self.moment(scene, t)
        return moment

    def hud_lines(self, scene: Scene | None) -> list[str]:
        """HUD lines: audio health and level, the controllers' traffic and problems, a cue list's standby
        cue, and the on-screen scene's parameters as it renders them, a `*` on those a performer holds."""
        lines = [self._status_line()]
        if self.room is not None:
            lines.append(self._room_line())
        if self.tempo is not None:
            lines.append(self.tempo.hud_line(self._t))
        if self.standby:
            lines.append(self.standby)
        writes = self.show_writes
        if writes.done != self._notice[0]:  # a new edit of the show file: said on the HUD for a while
            self._notice = (writes.done, self._t + NOTICE_SECONDS)
        if self._t < self._notice[1]:
            lines.append(writes.notice)
        if scene is not None and scene.parameters:  # None: no parameters to show this frame
            values = self.moment(scene, 0.0).values
            ours = scene.name in self._parameter_names  # the bundled idle scene has no bus parameters
            lines.append(f"{scene.name}: " + "  ".join(
                f"{name} {_short(value)}{'*' if ours and self.bus.held(f'{scene.name}.{name}') else ''}"
                for name, value in values.items()))
        return lines

    def _room_line(self) -> str:
        """'presence 0.42', or the attract mode's line ('attract since 21:14, presence 0.02')."""
        presence = self.room.presence
        return self.attract.hud_line(presence, self._t) if self.attract is not None else f"presence {presence:.2f}"

    def _status_line(self) -> str:
        audio = self.audio.status()
        if isinstance(self.audio, NoAudio):
            parts = ["audio off"]
        elif not audio.healthy:
            parts = [f"audio {audio.message}"]
        else:
            tempo = f" {self.features.tempo_bpm:.0f} bpm" if self.features.tempo_bpm else ""
            pin = float(self.bus.get("tempo"))
            tempo += f" (pinned near {pin:g})" if pin and tempo else ""
            parts = [f"audio ok   level {self.features.level:.2f} bass {self.features.bass:.2f}{tempo}"]
        parts += [f"{name} off: {problem}" for name, problem in self.problems.items()]
        parts += [controller.status() for controller in self.controllers]
        return "   ".join(filter(None, parts))

    def _direct(self, t: float, director: Director) -> None:
        """Scene commands from the bus (OSC, keys) become director changes, each acted on once; then
        the bus's `scene` is set to what is on screen, whoever changed it (a cue, scene.next)."""
        if self._cues_fired is None:
            self._cues_fired = director.fired_count
        fade = float(self.bus.get("fade"))
        names = [scene.name for scene in self.show.scenes]
        version = self.bus.version("scene")
        if version != self._seen_scene_version:
            director.select(names.index(self.bus.get("scene")), t, fade)
        for beat in self.beats:  # the leading tempo source's, at their own times
            director.beat(beat.at, beat.downbeat)
        presses = self.bus.count("go")
        for _ in range(presses - self._seen_presses["go"]):  # two GOs within a frame fire two cues
            director.go(t)
        self._seen_presses["go"] = presses
        for trigger, step in SCENE_STEPS.items():
            presses = self.bus.count(trigger)
            if presses != self._seen_presses[trigger]:
                moves = (presses - self._seen_presses[trigger]) * step  # two presses within a frame: two scenes
                self._seen_presses[trigger] = presses
                director.select(director.composition_at(t).scene + moves, t, fade)
        director.composition_at(t)  # fires the cues due by t
        if director.is_cue_list:  # by count: a cue on a late beat fired before the last frame's time
            self.fired = director.fired_from(self._cues_fired)
            self._cues_fired = director.fired_count
        else:
            self.fired = director.fired_between(self._directed_until, t)
        for at, cue in self.fired:
            self._cue_settings.fire(cue, at)
        self._directed_until = t
        self._cue_settings.glide(t)
        self.standby = _standby_line(director)
        self._show_on_the_bus(director, t)

    def _show_on_the_bus(self, director: Director, t: float) -> None:
        """The bus's `scene` set to the scene on screen at t, whoever put it there (a cue, scene.next, attract),
        without taking that for a performer's command."""
        on_screen = self.show.scenes[director.composition_at(t).scene].name
        if self.bus.get("scene") != on_screen:
            self.bus.set("scene", on_screen, source="director")
        self._seen_scene_version = self.bus.version("scene")

    def frame_rate(self, t: float, director: Director) -> float:
        """Frames a second to compose at t (seconds of show time): the show's, or the attract mode's lower
        rate while its scene is alone on screen. (A frame-rate ladder would take the attract mode's wish
        as one more reason to step down.)"""
        fps = self.show.output.fps
        return self.attract.frame_rate(fps, director, t) if self.attract is not None else fps


@dataclass
class _Glide:
    start: float
    target: float
    at: float  # seconds: when the cue fired
    seconds: float
    curve: Curve


class CueSettings:
    """A fired cue's `set: {parameter: value}` on its scene's parameters, as the show's own values:
    numbers glide there over the cue's `ramp` along its curve, the rest switch at once. A cue's
    `keyframe` is kept for its scene's moments: the scene's latent glides there over the cue's fade."""

    def __init__(self, bus: ControlBus, glides: dict[str, _Glide] | None = None,
                 keyframes: dict[str, KeyframeMove] | None = None):
        """`glides` and `keyframes`: ramps and latent moves under way, carried over a reloaded show."""
        self.bus = bus
        self._glides: dict[str, _Glide] = dict(glides or {})  # parameter -> its ramp under way
        self.keyframes: dict[str, KeyframeMove] = dict(keyframes or {})  # scene -> the latest cue's latent move

    def carried_over(self, bus: ControlBus, scenes: list[Scene]) -> CueSettings:
        """These settings on a reloaded show's `bus`: the ramps and latent moves under way whose
        parameter or scene is still in it."""
        names = {scene.name for scene in scenes}
        return CueSettings(bus, {address: glide for address, glide in self._glides.items() if address in bus.values()},
                           {scene: move for scene, move in self.keyframes.items() if scene in names})

    def fire(self, cue: Cue, at: float) -> None:
        if cue.keyframe is not None:
            self.keyframes = {**self.keyframes, cue.scene: KeyframeMove(cue.keyframe, at, cue.fade, cue.curve)}
        for name, value in cue.set.items():
            address = f"{cue.scene}.{name}"
            numeric = self.bus.declaration(address).kind in ("float", "int")
            if numeric and cue.ramp > 0:
                self._glides[address] = _Glide(float(self.bus.get(address)), float(value), at, cue.ramp, cue.curve)
            else:
                self._glides.pop(address, None)
                self.bus.set(address, value, source=SHOW)

    def glide(self, t: float) -> None:
        for address, glide in list(self._glides.items()):
            progress = min(1.0, max(0.0, (t - glide.at) / glide.seconds))
            value = glide.start + (glide.target - glide.start) * apply_curve(progress, glide.curve)
            if self.bus.declaration(address).kind == "int":
                value = round(value)
            self.bus.set(address, value, source=SHOW)
            if progress >= 1.0:
                del self._glides[address]


def parameter_names(scenes: list[Scene]) -> dict[str, list[str]]:
    """Each scene's name -> the names of its parameters."""
    return {scene.name: [parameter.name for parameter in scene.parameters] for scene in scenes}


def _standby_line(director: Director) -> str:
    """'standby: cue 3 (GO) -> bloom' (', keyframe storm' for a latent move) for a cue list, '' when
    there is none or it is done."""
    index = director.standby
    if index is None:
        return "cue list done" if director.is_cue_list else ""
    cue = director.cue(index)
    keyframe = f", keyframe {cue.keyframe}" if cue.keyframe is not None else ""
    return f"standby: cue {index + 1} ({cue.trigger}) -> {cue.scene}{keyframe}"


def show_audio(show: Show, rehearsal: bool, audio_file: Path | None = None,
               clock: Clock = time.perf_counter) -> AudioSource:
    """The sound a show listens to: `audio_file` standing in for it if given; a rehearsal never opens
    the sound card, so without a file a live input is silence there."""
    config = show.audio
    if audio_file is not None:
        config = config.replaced(kind="file", path=audio_file)
    elif rehearsal and config.kind == "input":
        log.info("rehearsal: the show listens to a live input; give --audio FILE to hear something")
        config = config.replaced(kind="none")
    return open_audio(config, clock)


def _short(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)
