"""Capture to show, written into the file: a keyframe of the scene's latent that reads back to the same float32
numbers, a GO cue after the current one that glides back to it with the held values, the rest of the file as
written; a second capture never replaces the first; what cannot be written leaves the file untouched. The
snapshot itself reads a real scene and a real control bus."""
from __future__ import annotations

import numpy as np
import pytest

from live.show.capture import Snapshot, capture_into, snapshot
from live.show.schema import ShowError, load_show
from tests.conftest import REPO

MODEL = REPO / "models" / "cppn-tanh.onnx"
SHOW = f"""# the designer's notes stay
name: captured
scenes:
  - name: drift   # the first
    kind: cppn
    model: "{MODEL}"
    cppn: {{seed: 3, named_keyframes: {{calm: 0}}}}
  - name: edges
    kind: pipeline
    source: {{kind: pattern, width: 64, height: 48}}
cues:
  - {{at: 0, scene: drift}}   # opens
  - {{go: true, scene: edges}}
"""


def latent(seed: int, z_dim: int = 8) -> tuple[float, ...]:
    """Float32 numbers that need all their digits: the case a rounded write would lose."""
    return tuple(float(x) for x in np.random.default_rng(seed).standard_normal(z_dim).astype(np.float32))


def test_a_capture_writes_an_exact_keyframe_and_a_go_cue_after_the_current_one(tmp_path):
    path = tmp_path / "show.yaml"
    path.write_text(SHOW)
    first = capture_into(path, Snapshot("drift", latent(1), {"scale": 12.5, "speed": 0.0}, 1, 2.0, ""))
    assert first.keyframe == "capture-1" and first.cue == 2
    assert first.message.startswith(f"captured keyframe capture-1 into {path}: cue 2 (GO) glides drift back to it")
    show = load_show(path)
    stored = np.asarray(show.scenes[0].cppn.named_keyframes["capture-1"], dtype=np.float32)
    assert np.array_equal(stored, np.asarray(latent(1), dtype=np.float32))  # bit for bit through YAML
    cue = show.cues[1]
    assert (cue.go, cue.scene, cue.keyframe, cue.fade, cue.set) == (True, "drift", "capture-1", 2.0,
                                                                     {"scale": 12.5, "speed": 0.0})
    assert [c.scene for c in show.cues] == ["drift", "drift", "edges"]  # after the cue that fired, before the next
    text = path.read_text()
    assert text.startswith("# the designer's notes stay\n") and "- name: drift   # the first" in text
    assert "  - {at: 0, scene: drift}   # opens\n  - {go: true, scene: drift, keyframe: capture-1" in text

    second = capture_into(path, Snapshot("drift", latent(2), {}, 3, 0.0, ""))  # never replaces the first
    show = load_show(path)
    assert second.keyframe == "capture-2" and list(show.scenes[0].cppn.named_keyframes) == ["calm", "capture-1",
                                                                                           "capture-2"]
    assert show.cues[-1].keyframe == "capture-2" and show.cues[-1].set == {}  # the list was done: at its end


def test_a_named_capture_a_timed_show_and_a_scene_without_a_latent(tmp_path):
    path = tmp_path / "show.yaml"
    path.write_text(SHOW)
    before = path.read_text()
    for name, why in (("calm", "has a keyframe 'calm' already"), ("a: b", "is not a keyframe name")):
        with pytest.raises(ShowError, match=why):
            capture_into(path, Snapshot("drift", latent(1), {}, 1, 1.0, name))
    with pytest.raises(ShowError, match="nothing to capture: scene 'edges' has no latent and it holds no value"):
        capture_into(path, Snapshot("edges", None, {}, 2, 1.0, ""))
    assert path.read_text() == before  # refused: untouched
    values = capture_into(path, Snapshot("edges", None, {"canny.sigma": 0.5}, 2, 1.0, ""))
    assert values.keyframe is None and "scene edges has no latent, so only its values" in values.message
    assert load_show(path).cues[-1].set == {"canny.sigma": 0.5}

    timed = tmp_path / "timed.yaml"
    timed.write_text(SHOW.replace("{go: true, scene: edges}", "{at: 5, scene: edges}"))
    done = capture_into(timed, Snapshot("drift", latent(3), {"speed": 0.0}, None, 1.0, "storm"))
    assert done.cue is None and "a timed show gets no cue" in done.message and "are not kept" in done.message
    assert "storm" in load_show(timed).scenes[0].cppn.named_keyframes and len(load_show(timed).cues) == 2


def test_the_snapshot_is_the_scenes_last_latent_and_the_values_a_performer_holds_away_from_its_own():
    from live.inference.engine import Engine, EngineConfig
    from live.scenes.contract import Moment, defaults
    from live.scenes.cppn import CppnScene, CppnSceneConfig
    from live.scenes.kinds import control_bus

    scene = CppnScene("drift", Engine.load(MODEL, EngineConfig(providers="cpu")), CppnSceneConfig(seed=3))
    bus = control_bus([("drift", CppnScene, scene.parameters)])
    bus.set("drift.scale", 12.0, source="osc")  # held, away from the scene's own
    bus.set("cppn.jitter", 0.0, source="osc")  # held, but at the scene's own value: nothing to keep
    bus.set("drift.speed", 3.0, source="show")  # a cue's: not the performer's
    assert snapshot(scene, bus, 0).latent is None  # nothing rendered yet
    scene.render(Moment(1.5, defaults(scene.parameters)), 16, 9)
    taken = snapshot(scene, bus, 0, "storm")
    assert taken.held == {"scale": 12.0} and taken.name == "storm" and taken.fade == 1.0
    assert np.array_equal(np.asarray(taken.latent, dtype=np.float32), scene.walk.at(1.5))


def test_a_midi_button_a_key_or_an_osc_name_press_capture():
    from live.control.bus import ControlBus
    from live.control.mappings import Mapper
    from live.control.osc import apply_message
    from live.control.parameters import ControlError, show_parameters
    from live.show.schema import parse_show

    show = parse_show(SHOW + "midi: {inputs: [pads]}\nmappings:\n  - {midi: {note: 40}, to: capture}\n"
                             "  - {key: x, to: capture}\n", REPO / "show.yaml")
    bus = ControlBus(show_parameters(["drift"]))
    mapper = Mapper(show.mappings, bus)
    bus.set_input("key:x", 1.0)
    mapper.update(0.0, None)
    assert bus.count("capture") == 1
    apply_message(bus, "/latentstage", "/latentstage/capture", ["storm"], "osc")
    assert bus.count("capture") == 2 and bus.get("capture.name") == "storm"
    with pytest.raises(ControlError, match="go is pressed by no value or a number, not a string"):
        apply_message(bus, "/latentstage", "/latentstage/go", ["storm"], "osc")


def test_a_keyframe_latent_of_the_wrong_length_is_refused_by_check_in_one_line(tmp_path):
    from live.show.preflight import preflight

    path = tmp_path / "show.yaml"
    path.write_text(SHOW.replace("named_keyframes: {calm: 0}", "named_keyframes: {calm: 0, short: [0.5, 1.5]}"))
    with pytest.raises(ShowError) as refused:
        preflight(load_show(path))
    assert str(refused.value) == (f"{path}:7: scenes[0].cppn.named_keyframes.short: a latent of 2 numbers, but "
                                  "cppn-tanh.onnx's latent has 8; capture it again from this model")


def test_captures_are_written_off_the_frames_thread_one_at_a_time_and_a_flood_is_refused_not_queued(tmp_path):
    from live.show.show_file_writer import PENDING, ShowFileWriter

    path = tmp_path / "show.yaml"
    path.write_text(SHOW)
    writer = ShowFileWriter()
    for number in range(3 * PENDING):  # a MIDI button mapped to capture, flooded
        taken = Snapshot("drift", latent(number), {"speed": 0.0}, 1, 1.0, "")
        writer.submit("capture", lambda taken=taken: capture_into(path, taken).message)
    writer.stop()  # what was waiting is written first
    named = load_show(path).scenes[0].cppn.named_keyframes
    written = 3 * PENDING - writer.refused
    assert PENDING <= written < 3 * PENDING and writer.refused > 0
    assert list(named) == ["calm", *(f"capture-{n}" for n in range(1, written + 1))]  # none lost, none replaced
    assert len(load_show(path).cues) == 2 + written
    assert writer.done == written and writer.notice.startswith(f"captured keyframe capture-{written} into {path}")