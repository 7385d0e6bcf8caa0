"""A scene's ladder: what a show may declare (each refusal one line naming the key), each rung put on a real scene
with real ONNX Runtime sessions (a smaller render, a pipeline's model at that share of its input, an upscaler
drawing it back up, fp16 skipped on the CPU in one line), and a replay putting a journaled rung back where the
live run took it."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import yaml

from live.inference.engine import read_card
from live.inference.float16 import float16_copy
from live.show.event_log import EventRecorder, RecordedAudio, read_run, replayed_frames
from live.show.preflight import preflight
from live.show.schema import ShowError, load_show
from live.show.stage import Stage, still
from tests.conftest import REPO

CPPN = str(REPO / "models" / "cppn-tanh.onnx")


def write(folder: Path, scene: dict, **fields) -> Path:
    show = {"name": "ladder", "output": {"width": 64, "height": 48, "fps": 30, **fields.pop("output", {})},
            "scenes": [scene], **fields}
    path = folder / "show.yaml"
    path.write_text(yaml.safe_dump(show, sort_keys=False))
    return path


def refusal(folder: Path, scene: dict, **fields) -> str:
    with pytest.raises(ShowError) as refused:
        show = load_show(write(folder, scene, **fields))
        preflight(show)
    assert len(str(refused.value).splitlines()) == 1, refused.value
    return str(refused.value)


def test_a_ladder_the_scene_cannot_use_is_refused_in_one_line_naming_its_key(tmp_path, tiny_gan, tiny_pix2pix):
    cppn = {"name": "drift", "kind": "cppn", "model": CPPN, "target_fps": 30}
    assert refusal(tmp_path, {**cppn, "target_fps": 60}).endswith(
        "scenes[0].target_fps: 60 is above the show's fps 30: the show composes at most 30 pictures a second")
    assert "scenes[0].ladder: the ladder is stepped when the scene misses its target_fps" in refusal(
        tmp_path, {**cppn, "target_fps": None, "ladder": [{"render_scale": 0.5}]})
    assert refusal(tmp_path, {**cppn, "ladder": [{"render_scale": 0.5}, {"render_scale": 0.5}]}).endswith(
        "scenes[0].ladder[1].render_scale: 0.5 is not below 0.5 (rung 1's): a rung down must be cheaper")
    assert refusal(tmp_path, {**cppn, "ladder": [{"render_scale": 0.5}]}, output={"render_scale": 0.5}).endswith(
        "0.5 is not below 0.5 (output.render_scale): a rung down must be cheaper")
    assert "scenes[0].ladder[0]: a rung names at least one cheaper way" in refusal(tmp_path, {**cppn, "ladder": [{}]})
    assert "scenes[0].ladder[0].upscale: a cppn scene cannot take an upscale rung: a CPPN draws at any size" in \
        refusal(tmp_path, {**cppn, "ladder": [{"upscale": CPPN}]})
    gan = {"name": "paint", "kind": "gan", "model": str(tiny_gan), "target_fps": 20}
    assert refusal(tmp_path, {**gan, "ladder": [{"render_scale": 0.5}]}).endswith(
        "scenes[0].ladder[0].render_scale: a gan scene cannot take a render_scale rung: its generator draws at its "
        "own size, so a smaller render saves nothing (it takes fp16, model)")
    bars = {"name": "bars", "kind": "pipeline", "source": {"kind": "pattern", "width": 64, "height": 48},
            "target_fps": 30}
    assert refusal(tmp_path, {**bars, "ladder": [{"fp16": True}]}).endswith(
        "scenes[0].ladder[0].fp16: scene 'bars' runs no model, so its fp16 rung has nothing to change")
    assert "scenes[0].ladder[0].model: cppn-tanh.onnx is a cppn model, but scene 'bars' is a pipeline scene" in \
        refusal(tmp_path, {**bars, "model": str(tiny_pix2pix), "ladder": [{"model": CPPN}]})
    assert refusal(tmp_path, {**bars, "model": str(tiny_pix2pix), "ladder": [
        {"model": str(REPO / "models" / "style-cezanne-slim.onnx")}]}).endswith(
        f"scenes[0].ladder[0].model: style-cezanne-slim.onnx cannot stand in for {tiny_pix2pix.name} on the ladder: "
        "its kind is 'style', the running model's is 'pix2pix'")
    assert "which does not exist" in refusal(tmp_path, {**cppn, "ladder": [{"model": "slim.onnx"}]})


def test_each_rung_renders_smaller_runs_the_model_on_less_and_an_upscaler_draws_it_back(
        tmp_path, tiny_pix2pix, tiny_sr, caplog):
    scene = {"name": "bars", "kind": "pipeline", "source": {"kind": "pattern", "width": 128, "height": 96},
             "model": str(tiny_pix2pix), "target_fps": 30,
             "ladder": [{"render_scale": 0.5}, {"fp16": True}, {"upscale": str(tiny_sr)}]}
    show = load_show(write(tmp_path, scene, output={"width": 128, "height": 96}))
    with caplog.at_level(logging.INFO, logger="latentstage.ladder"):
        stage = Stage.build(show, rehearsal=True)
    ladder = stage.ladders["bars"]
    skipped = [record.getMessage() for record in caplog.records if "skipped" in record.getMessage()]
    assert skipped == ["scene 'bars': ladder rung 2 (fp16) skipped: ONNX Runtime runs it on the CPU, where float16 "
                       "saves no time over float32 (bench/ladder_bench.py --fp16)"]
    assert ladder.usable == [0, 1, 3] and [plan.label for plan in ladder.plans] == \
        ["top", "render_scale 0.5", "fp16", f"upscale {tiny_sr.name}"]  # rung 3 runs float32 here
    engine = stage.scenes[0].engine
    fed: list = []  # the shape of each picture the real session is given
    run = engine.run
    engine.run = lambda feeds: fed.append(feeds[engine.input_names[0]].shape) or run(feeds)

    def frame(rung: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        stage.use_rung("bars", rung)
        picture = stage.frame_at(0.1 * rung, moment_for=still).current
        return picture.shape, fed[-1]

    assert frame(0) == ((96, 128, 3), (1, 1, 96, 128))
    assert frame(1) == ((48, 64, 3), (1, 1, 48, 64))  # half each way, the model on half its input too
    assert frame(3) == ((48, 64, 3), (1, 1, 16, 16))  # a quarter of that, drawn back up 4x by the sr model
    assert frame(0)[0] == (96, 128, 3)
    with pytest.raises(ValueError, match="scene 'bars' has rungs 0 \\(the top\\) to 3, not 4"):
        stage.use_rung("bars", 4)


def test_a_float16_copy_keeps_the_card_and_the_picture(tmp_path, tiny_pix2pix):
    copy = float16_copy(tiny_pix2pix, tmp_path)
    assert float16_copy(tiny_pix2pix, tmp_path) == copy  # made once per version of the file
    assert read_card(copy) == read_card(tiny_pix2pix)
    edges = np.random.default_rng(0).random((1, 1, 32, 48), dtype=np.float32)
    sessions = [ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]) for path in (tiny_pix2pix, copy)]
    outputs = [session.run(None, {session.get_inputs()[0].name: edges})[0] for session in sessions]
    assert outputs[1].dtype == np.float32 and np.abs(outputs[0] - outputs[1]).mean() < 3e-3


def test_a_replay_puts_the_journaled_rung_on_its_scene_before_the_frame_it_came_with(tmp_path):
    log = tmp_path / "night.log"
    events = EventRecorder(log)
    events.start(tmp_path / "show.yaml", "scenes: []\n", {}, 30)
    events.frame(0, 0.0, 0, AUDIO_SILENCE)
    events.note("ladder", 0.03, frame=1, scene="drift", rung=1)
    events.frame(1, 1 / 30, 0, AUDIO_SILENCE)
    events.note("ladder", 0.06, frame=2, scene="gone", rung=1)  # a scene the show no longer has: said, skipped
    events.frame(2, 2 / 30, 0, AUDIO_SILENCE)
    events.close(0.1)
    rungs: list = []
    order: list = []

    def use_rung(scene: str, rung: int) -> None:
        if scene == "gone":
            raise ValueError("there is no scene 'gone'")
        order.append(("rung", scene, rung))

    class Controls:
        bus = None

    for frame in replayed_frames(read_run(log), Controls(), [RecordedAudio(log, 48000)], lambda text, t: None,
                                 use_rung):
        order.append(("frame", frame.frame))
    assert order == [("frame", 0), ("rung", "drift", 1), ("frame", 1), ("frame", 2)]
    assert rungs == []


from live.inputs.audio_analysis import SILENCE as AUDIO_SILENCE  # noqa: E402
