"""Mappings: the maths, the show file's declarations, and the mapper on a virtual clock:
controller mappings set a parameter's base, audio and LFO mappings modulate around it."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from live.control.mappings import (
    AUDIO_FEATURES,
    LfoConfig,
    Mapper,
    MappingConfig,
    check_targets,
    lfo,
    normalise,
    source_value,
)
from live.control.parameters import ControlError, Parameter
from live.core.curves import apply_curve
from live.core.smoothing import smooth
from live.scenes.kinds import control_bus
from tests.live.control.conftest import SCENE_TYPES


def mapping(**fields) -> MappingConfig:
    return MappingConfig.model_validate(fields)


# --- the maths ----------------------------------------------------------------------------------------

def test_normalise_clamps_and_inverts():
    assert normalise(0.25, 0.0, 0.5) == 0.5
    assert normalise(2.0, 0.0, 0.5) == 1.0 and normalise(-1.0, 0.0, 0.5) == 0.0
    assert normalise(0.25, 1.0, 0.0) == 0.75


def test_lfo_shapes():
    assert [lfo(t, "saw", 4.0) for t in (0, 1, 2, 3)] == [0.0, 0.25, 0.5, 0.75]
    assert [lfo(t, "triangle", 4.0) for t in (0, 1, 2, 3)] == [0.0, 0.5, 1.0, 0.5]
    assert [lfo(t, "square", 4.0) for t in (0, 1.9, 2, 3.9)] == [1.0, 1.0, 0.0, 0.0]
    assert [lfo(t, "sine", 4.0) for t in (0, 1, 2, 3)] == pytest.approx([0.0, 0.5, 1.0, 0.5])
    assert lfo(8.0, "sine", 4.0) == pytest.approx(0.0)  # periodic
    assert lfo(0.0, "saw", 4.0, phase=0.25) == 0.25  # phase shifts the start
    assert lfo(-1.0, "saw", 4.0) == 0.75  # before zero it keeps going backwards
    assert all(0.0 <= lfo(t / 7, shape, 1.3) <= 1.0 for t in range(50) for shape in ("sine", "triangle", "saw"))
    with pytest.raises(ControlError):
        lfo(0.0, "noise", 1.0)


def test_smoothing_is_asymmetric_one_pole():
    assert smooth(0.0, 1.0, 0.1, attack=0.0, release=1.0) == 1.0  # no attack: jumps up
    assert smooth(1.0, 0.0, 0.5, attack=0.0, release=0.5) == pytest.approx(math.exp(-1.0))  # one time constant
    assert smooth(0.0, 1.0, 0.5, attack=0.5, release=0.0) == pytest.approx(1 - math.exp(-1.0))
    assert smooth(1.0, 0.0, 0.1, attack=1.0, release=0.0) == 0.0  # no release: drops at once
    assert smooth(0.3, 0.7, 0.0, attack=1.0, release=1.0) == 0.3  # no time, no change


def test_smoothing_does_not_depend_on_the_frame_rate():
    """Ten 0.01 s steps land where one 0.1 s step does: a 30 fps live run and a 60 fps rehearsal agree."""
    fine = 1.0
    for _ in range(10):
        fine = smooth(fine, 0.0, 0.01, attack=0.0, release=0.2)
    assert fine == pytest.approx(smooth(1.0, 0.0, 0.1, attack=0.0, release=0.2))


# --- mapping declarations -----------------------------------------------------------------------------

def test_mapping_defaults_and_aliases():
    m = mapping(audio="bass", to="cppn.scale")
    assert m.in_ == (0.0, 1.0) and m.out is None and m.curve == "linear" and m.attack == 0 and m.release == 0
    m = mapping(lfo={"shape": "triangle", "period": 2}, to="cppn.speed", **{"in": [0.2, 0.8]})
    assert m.lfo == LfoConfig(shape="triangle", period=2.0) and m.in_ == (0.2, 0.8)
    assert mapping(key="J", to="hud").key == "j" and mapping(key="space", to="hud").source == "key:space"
    assert set(AUDIO_FEATURES) == {"level", "bass", "low_mid", "high_mid", "high", "flux", "onset",
                                   "onset_strength", "beat"}


@pytest.mark.parametrize("fields, complaint", [
    ({"audio": "bass", "osc": "/1/fader1", "to": "fade"}, "exactly one source.*audio, osc"),
    ({"to": "fade"}, "exactly one source.*none"),
    ({"audio": "treble", "to": "fade"}, "level"),
    ({"osc": "1/fader1", "to": "fade"}, "OSC address"),
    ({"osc": "/1/fader*", "to": "fade"}, "OSC address"),
    ({"key": "ctrl j", "to": "fade"}, "key name"),
    ({"lfo": {"shape": "noise"}, "to": "fade"}, "sine"),
    ({"lfo": {"period": 0}, "to": "fade"}, "greater than 0"),
    ({"lfo": {"phase": 1.5}, "to": "fade"}, "less than or equal to 1"),
    ({"audio": "bass", "to": "fade", "in": [0.5, 0.5]}, "two different"),
    ({"audio": "bass", "to": "fade", "curve": "cubic"}, "linear"),
    ({"audio": "bass", "to": "fade", "attack": -1}, "greater than or equal to 0"),
    ({"audio": "bass", "to": "fade", "expression": "bass * 2"}, "Extra inputs"),
    ({"audio": "bass", "to": "Fade Time"}, "parameter name"),
])
def test_mapping_validation_errors(fields, complaint):
    with pytest.raises(ValidationError, match=complaint):
        MappingConfig.model_validate(fields)


def test_check_targets_names_the_mapping(bus):
    good = mapping(audio="bass", to="cppn.scale")
    with pytest.raises(ControlError, match=r"mappings\[1\].*'cppn.scal' is not a parameter"):
        check_targets([good, mapping(audio="level", to="cppn.scal")], bus)
    with pytest.raises(ControlError, match=r"mappings\[0\].*outside cppn.scale's range"):
        check_targets([mapping(audio="bass", to="cppn.scale", out=[0.0, 10.0])], bus)
    with pytest.raises(ControlError, match=r"mappings\[0\].*leave out `out`"):
        check_targets([mapping(key="h", to="hud", out=[0, 1])], bus)
    with pytest.raises(ControlError, match=r"mappings\[0\].*outside scene's range"):
        check_targets([mapping(osc="/1/rotary1", to="scene", out=[0, 5])], bus)
    bus.declare(Parameter("title", "str", "", description="a caption"))
    bus.declare(Parameter("gain", "float", 1.0, description="unbounded gain, times"))
    with pytest.raises(ControlError, match="free text"):
        check_targets([mapping(audio="bass", to="title")], bus)
    with pytest.raises(ControlError, match="no fixed range"):
        check_targets([mapping(audio="bass", to="gain")], bus)
    check_targets([good, mapping(audio="bass", to="gain", out=[0, 4])], bus)
    with pytest.raises(ControlError, match=r"mappings\[0\]"):
        Mapper([mapping(audio="level", to="nothing")], bus)


# --- the mapper ---------------------------------------------------------------------------------------

@dataclass
class Features:
    """An audio analyser's output as an object, the other shape `update` accepts."""
    level: float = 0.0
    bass: float = 0.0
    onset: float = 0.0
    beat: bool = False


def test_mapper_scales_audio_features_into_the_output_range(bus):
    mapper = Mapper([mapping(audio="bass", to="cppn.scale", out=[4, 24], **{"in": [0.0, 0.5]})], bus)
    mapper.update(0.0, {"bass": 0.25})
    assert mapper.value("mirror.scale") == pytest.approx(14.0)
    mapper.update(0.1, Features(bass=0.9))  # above `in`: clamped to the top of `out`
    assert mapper.value("mirror.scale") == pytest.approx(24.0)
    mapper.update(0.2, None)  # no audio at all: the bottom
    assert mapper.value("mirror.scale") == pytest.approx(4.0)
    assert bus.get("mirror.scale") == 8.0 and bus.version("mirror.scale") == 0  # modulation never writes


def test_mapper_uses_the_parameter_range_and_curve_by_default(bus):
    mapper = Mapper([mapping(audio="level", to="style.strength", curve="exp"),
                     mapping(audio="level", to="cppn.speed")], bus)
    mapper.update(0.0, {"level": 0.5})
    assert mapper.value("snow.style.strength") == pytest.approx(apply_curve(0.5, "exp"))
    assert mapper.value("bloom.speed") == pytest.approx(0.0)  # middle of -8..8, on every CPPN scene


def test_onset_pulse_decays_with_release_on_the_virtual_clock(bus):
    mapper = Mapper([mapping(audio="onset", to="cppn.jitter", release=0.2)], bus)
    frame = 1 / 30  # seconds
    mapper.update(0.0, {"onset": 0.0})
    mapper.update(frame, {"onset": 1.0})
    assert mapper.value("mirror.jitter") == 1.0  # no attack: the pulse lands at once
    heard = [mapper.value("mirror.jitter")]
    for index in range(2, 14):
        mapper.update(index * frame, {"onset": 0.0})
        heard.append(mapper.value("mirror.jitter"))
    assert all(b < a for a, b in zip(heard, heard[1:]))
    assert heard[6] == pytest.approx(math.exp(-6 * frame / 0.2))  # six frames after the pulse


def test_attack_slows_the_rise(bus):
    mapper = Mapper([mapping(audio="level", to="style.strength", attack=0.5, release=0.0)], bus)
    mapper.update(0.0, {"level": 0.0})
    mapper.update(0.5, {"level": 1.0})
    assert mapper.value("snow.style.strength") == pytest.approx(1 - math.exp(-1.0))
    mapper.update(0.6, {"level": 0.0})
    assert mapper.value("snow.style.strength") == 0.0  # no release: falls at once


def test_the_same_clock_gives_the_same_values(bus):
    def run() -> list[float]:
        fresh = control_bus(SCENE_TYPES)
        mapper = Mapper([mapping(audio="bass", to="cppn.scale", attack=0.1, release=0.4)], fresh)
        trace = []
        for index in range(60):
            mapper.update(index / 30, {"bass": (index * 7 % 11) / 10})
            trace.append(mapper.value("mirror.scale"))
        return trace
    assert run() == run()


def test_osc_inputs_and_keys_drive_parameters(bus):
    mapper = Mapper([mapping(osc="/1/fader1", to="fade", out=[0, 10]),
                     mapping(key="h", to="hud"),
                     mapping(osc="/1/rotary1", to="scene")], bus)
    bus.set_input("osc:/1/fader1", 0.3)
    bus.set_input("osc:/1/rotary1", 0.9)
    mapper.update(0.0)
    assert bus.get("fade") == pytest.approx(3.0) and bus.get("hud") is False and bus.get("scene") == "snow"
    bus.set_input("key:h", 1.0)
    bus.set_input("osc:/1/rotary1", 0.5)
    mapper.update(0.1)
    assert bus.get("hud") is True and bus.get("scene") == "bloom"


def test_a_controller_not_yet_moved_leaves_its_parameter_following_the_show(bus):
    mapper = Mapper([mapping(osc="/1/fader1", to="fade", out=[0, 10]), mapping(midi={"cc": 7}, to="hud")], bus)
    for t in (0.0, 0.1):
        mapper.update(t)
    assert bus.get("fade") == 1.0 and not bus.held("fade") and not bus.held("hud")  # not out[0], not held
    bus.set_input("midi:*/cc/*/7", 1.0)
    mapper.update(0.2)
    assert bus.get("hud") is True and bus.held("hud") and not bus.held("fade")


@pytest.mark.parametrize("curve", ["linear", "exp", "log", "smooth"])
def test_source_value_runs_a_mapping_backwards(bus, curve):
    """What a controller's fader should show: the input that makes the mapping write the value."""
    forward = mapping(midi={"cc": 7}, to="fade", out=[2, 10], curve=curve, **{"in": [0.2, 1.0]})
    mapper = Mapper([forward], bus)
    for raw in (0.2, 0.35, 0.6, 1.0):
        bus.set_input("midi:*/cc/*/7", raw)
        mapper.update(raw)
        assert source_value(forward, bus.declaration("fade"), bus.get("fade")) == pytest.approx(raw, abs=1e-6)
    scene = mapping(midi={"cc": 8}, to="scene")
    assert [source_value(scene, bus.declaration("scene"), name) for name in ("mirror", "bloom", "snow")] == \
        [0.0, 0.5, 1.0]


def test_key_presses_a_trigger_once_per_press(bus):
    mapper = Mapper([mapping(key="n", to="scene.next")], bus)
    pressed = [0, 1, 1, 1, 0, 0, 1, 0]
    for index, state in enumerate(pressed):
        bus.set_input("key:n", state)
        mapper.update(index * 0.05)
    assert bus.count("scene.next") == 2


def test_beats_press_a_trigger(bus):
    mapper = Mapper([mapping(audio="beat", to="scene.next")], bus)
    for index in range(8):
        mapper.update(index * 0.1, Features(beat=index % 4 == 0))
    assert bus.count("scene.next") == 2


def test_lfo_mapping_follows_t(bus):
    mapper = Mapper([mapping(lfo={"shape": "saw", "period": 2.0}, to="canny.sigma", out=[0.2, 0.6])], bus)
    for t, expected in [(0.0, 0.2), (0.5, 0.3), (1.0, 0.4), (1.5, 0.5)]:
        mapper.update(t)
        assert mapper.value("snow.canny.sigma") == pytest.approx(expected)


def test_a_hand_set_value_holds_until_the_source_moves(bus):
    mapper = Mapper([mapping(osc="/1/fader1", to="fade", out=[0, 10])], bus)
    bus.set_input("osc:/1/fader1", 0.5)
    mapper.update(0.0)
    bus.set("fade", 9.0, source="osc:10.0.0.2:9000")
    mapper.update(0.1)  # the fader did not move
    assert bus.get("fade") == 9.0
    bus.set_input("osc:/1/fader1", 0.2)
    mapper.update(0.2)
    assert bus.get("fade") == pytest.approx(2.0)


def test_mapping_writes_are_tagged_and_in_range(bus):
    sources = []
    bus.subscribe(lambda name, value, source: sources.append(source))
    bus.declare(Parameter("cppn.keyframe", "int", 0, 0, 4, description="keyframe index"))
    mapper = Mapper([mapping(osc="/1/fader1", to="cppn.keyframe"), mapping(audio="level", to="cppn.scale")], bus)
    for level in (0.0, 0.37, 1.0, 0.99999999):
        bus.set_input("osc:/1/fader1", level)
        mapper.update(level, {"level": level})
        assert 0 <= bus.get("cppn.keyframe") <= 4 and 0.1 <= mapper.value("mirror.scale") <= 64
    assert bus.get("cppn.keyframe") == 4 and isinstance(bus.get("cppn.keyframe"), int)
    assert set(sources) == {"mapping"}


def test_a_controller_sets_the_base_and_an_lfo_swings_around_it(bus):
    """The vj show's zoom: an LFO over 3..9 and an OSC controller on the same parameter."""
    mapper = Mapper([mapping(lfo={"shape": "triangle", "period": 4.0}, to="cppn.scale", out=[3.0, 9.0])], bus)
    mapper.update(1.0)  # a quarter period: the triangle is at its middle
    assert mapper.value("mirror.scale") == pytest.approx(6.0)  # nobody at the controls: `out` as written
    bus.set("cppn.scale", 12.0, source="osc:127.0.0.1:5000")
    swing = []
    for step in range(9):
        mapper.update(1.0 + step * 0.5)
        swing.append(mapper.value("mirror.scale"))
        assert bus.get("cppn.scale") == 12.0  # the performer's value is never overwritten
    assert min(swing) == pytest.approx(9.0) and max(swing) == pytest.approx(15.0)  # 12 +/- 3
    bus.set("cppn.scale", 62.0, source="osc:127.0.0.1:5000")
    mapper.update(2.0)
    assert mapper.value("mirror.scale") == 64.0  # clamped to the parameter's range
    bus.release("cppn.scale")
    mapper.update(4.0)  # a whole period: the triangle is at its bottom
    assert mapper.value("mirror.scale") == pytest.approx(3.0)  # following the show: `out` again


def test_audio_lifts_a_held_value_and_silence_leaves_it(bus):
    mapper = Mapper([mapping(audio="bass", to="cppn.speed", out=[0.4, 4.0])], bus)
    bus.set("mirror.speed", 2.0)
    mapper.update(0.0, {"bass": 0.0})
    assert mapper.value("mirror.speed") == pytest.approx(2.0)
    mapper.update(0.1, {"bass": 1.0})
    assert mapper.value("mirror.speed") == pytest.approx(5.6)
    assert mapper.value("bloom.speed") == pytest.approx(4.0)  # not held there: `out` as written


def test_a_tap_between_two_frames_still_presses_and_switches(bus):
    """A push button's 1 then 0 (a quick key tap, two OSC messages in one bundle) within one frame tick."""
    mapper = Mapper([mapping(osc="/1/push1", to="scene.next"), mapping(key="m", to="mirror"),
                     mapping(osc="/1/fader1", to="fade", out=[0, 10])], bus)
    mapper.update(0.0)
    for key, value in (("osc:/1/push1", 1.0), ("osc:/1/push1", 0.0), ("key:m", 1.0), ("key:m", 0.0),
                       ("osc:/1/fader1", 1.0), ("osc:/1/fader1", 0.2)):
        bus.set_input(key, value)
    mapper.update(0.05)
    assert bus.count("scene.next") == 1 and bus.get("mirror") is True
    assert bus.get("fade") == pytest.approx(2.0)  # a fader is where it is now, not where it passed
    mapper.update(0.10)
    assert bus.count("scene.next") == 1 and bus.get("mirror") is False  # released: once, and off again


def test_the_camera_s_presence_modulates_like_audio_and_presses_go_as_a_cue_condition(bus):
    """`{camera: presence}` reads the bus input the room puts there each frame (live.show.room)."""
    mapper = Mapper([mapping(camera="presence", to="mirror.speed", out=[0.2, 2.0]),
                     mapping(camera="presence", to="go", **{"in": [0.0, 0.6]})], bus)
    presses = []
    for t, presence in enumerate([0.0, 0.1, 0.45, 0.5, 0.1, 0.1, 0.4]):
        bus.set_input("camera:presence", presence)
        mapper.update(float(t))
        presses.append(bus.count("go"))
        assert mapper.value("mirror.speed") == pytest.approx(0.2 + 1.8 * presence)
    assert presses == [0, 0, 1, 1, 1, 1, 2]  # over 0.3 (half of `in`) presses once, until it falls back
    assert bus.get("mirror.speed") == 1.0  # modulated, never written
    assert mapping(camera="presence", to="go").source == "camera:presence"
