"""live.show.show_reload: a show file edited while it runs, with real scenes, ONNX sessions and a real watcher thread."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from live.core.clock import ShowClock
from live.show.conductor import Conductor
from live.show.schema import ShowError, load_show
from live.show.show_reload import ShowReloader
from live.show.stage import Stage
from tests.conftest import REPO, wait_for

MODELS = REPO / "models"
WAIT = 60.0  # seconds: a busy machine builds a scene slowly; nothing here waits that long when it works


def show_text(scenes: dict[str, dict], cues: list[dict] | None = None, **fields) -> str:
    """A tiny show of CPPN scenes: name -> its `cppn:` block (with `model:` a file in models/ if given)."""
    blocks = [{"name": name, "kind": "cppn", "model": str(MODELS / settings.pop("model", "cppn-tanh.onnx")),
               "cppn": {"backend": "onnx", **settings}} for name, settings in scenes.items()]
    show = {"output": {"width": 32, "height": 18, "fps": 30}, "osc": {"port": 0}, "scenes": blocks,
            "cues": cues or [], **fields}
    return yaml.safe_dump(show, sort_keys=False)


class Running:
    """A show's stage and controls as `run` builds them, the reloader watching its file; `frame(t)` does what
    the render and inference threads do between frames."""

    def __init__(self, path: Path):
        self.path = path
        self.clock = ShowClock()
        show = load_show(path)
        self.stage = Stage.build(show, clock=self.clock)
        self.controls = Conductor.build(show, self.stage.scenes, rehearsal=True, clock=self.clock)
        self.reloader = ShowReloader(path, self.stage, self.clock, poll=0.02)

    def start(self) -> Running:
        self.clock.start()
        self.stage.start()
        self.reloader.start()
        return self

    def stop(self) -> None:
        self.reloader.stop()
        self.stage.stop()

    def reload(self, text: str, t: float) -> bool:
        """Save `text` and swap it in at t; False if it never came."""
        self.path.write_text(text)
        return wait_for(lambda: self.swap(t), WAIT)

    def swap(self, t: float) -> bool:
        self.reloader.attach_renderer(None)
        return self.reloader.apply_pending(self.stage, self.controls, t) is not None

    def refuse(self, text: str) -> str:
        """Save `text`, which must be refused, and return the problem the HUD shows."""
        refused = self.reloader.refused
        self.path.write_text(text)
        assert wait_for(lambda: self.reloader.refused > refused, WAIT), "the broken edit was never looked at"
        assert not self.swap(0.0)
        return self.reloader.problem


@pytest.fixture
def running(tmp_path):
    path = tmp_path / "show.yaml"
    path.write_text(show_text({"drift": {"seed": 1}, "bloom": {"seed": 2, "scale": 6.0, "model": "cppn-sine.onnx"}}))
    show = Running(path).start()
    yield show
    show.stop()


def test_an_edit_keeps_unchanged_scenes_and_their_sessions_and_builds_the_changed_one_warm(running):
    drift, bloom = running.stage.scenes
    sessions = drift.engine, bloom.engine
    edited = show_text({"drift": {"seed": 1}, "bloom": {"seed": 2, "scale": 3.0, "model": "cppn-sine.onnx"}})
    assert running.reload(edited, t=1.5)
    kept, rebuilt = running.stage.scenes
    assert kept is drift and kept.engine is sessions[0]  # same object, same ONNX session
    assert rebuilt is not bloom and rebuilt.engine is not sessions[1]
    assert rebuilt.last_output is None and rebuilt.engine.card.kind == "cppn"
    assert running.controls.bus.get("bloom.scale") == 3.0  # the new default, on the new bus
    assert running.controls.bus.get("drift.scale") == drift.base_scale
    frame = running.stage.frame_at(1.6)  # renders at once: warmed at the render size on the watcher's thread
    assert frame.current.shape == (18, 32, 3)
    applied = running.reloader.applied
    assert applied.path == running.path and applied.text == edited and applied.at == 1.5
    assert running.reloader.counts() == {"reloaded": 1, "refused": 0} and running.reloader.problem == ""


def test_broken_edits_are_refused_in_check_s_words_and_the_running_show_carries_on(running, tmp_path):
    before = running.stage.show, list(running.stage.scenes), running.controls.bus
    good = running.path.read_text()
    broken_yaml = good.replace("scenes:", "scenes: [", 1)
    unknown_cue = show_text({"drift": {"seed": 1}, "bloom": {"seed": 2}}, cues=[{"at": 1.0, "scene": "blom"}])
    misspelt = good.replace("seed: 2", "sed: 2")
    for text in (broken_yaml, misspelt, unknown_cue):
        problem = running.refuse(text)
        with pytest.raises(ShowError) as expected:
            load_show(running.path)
        assert problem.startswith(str(expected.value)), (problem, str(expected.value))
    assert f"{running.path}:" in problem and "cues[0].scene: 'blom' is not a scene" in problem
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model" * 100)
    bad_model = show_text({"drift": {"seed": 1}, "bloom": {"seed": 2}}).replace(str(MODELS / "cppn-tanh.onnx"),
                                                                              str(garbage))
    problem = running.refuse(bad_model)
    line = next(number for number, text in enumerate(bad_model.splitlines(), 1) if "garbage.onnx" in text)
    assert problem.startswith(f"{running.path}:{line}: scenes[0].model: ") and "garbage.onnx" in problem
    assert (running.stage.show, running.stage.scenes, running.controls.bus) == before  # unchanged, the same objects
    assert running.reloader.counts() == {"reloaded": 0, "refused": 4}
    assert running.reload(good.replace("seed: 2", "seed: 3"), t=2.0)  # a good edit clears the problem
    assert running.reloader.problem == "" and running.stage.scenes[0] is before[1][0]


def test_the_performer_s_values_the_cue_list_s_progress_and_the_scene_on_screen_carry_over(tmp_path):
    path = tmp_path / "show.yaml"
    scenes = {"drift": {"seed": 1}, "bloom": {"seed": 2}}
    path.write_text(show_text(scenes, cues=[{"go": True, "scene": "bloom"}, {"go": True, "scene": "drift"}]))
    running = Running(path).start()
    try:
        bus = running.controls.bus
        bus.set("drift.speed", 2.5, source="osc")  # a performer holds it
        bus.set("go", source="key")
        running.controls.update(1.0, running.stage.director)
        assert running.stage.director.composition_at(1.0).scene == 1 and running.stage.director.standby == 1
        # a third scene, the second cue now goes to it, and a timed cue on the same clock
        edited = show_text({**scenes, "spark": {"seed": 5, "model": "cppn-sine.onnx"}},
                           cues=[{"go": True, "scene": "bloom"}, {"go": True, "scene": "spark"}])
        assert running.reload(edited, t=2.0)
        assert running.controls.bus is not bus  # a bus for the new scenes, with what the performer held
        bus = running.controls.bus
        assert bus.get("drift.speed") == 2.5 and bus.held("drift.speed")
        running.controls.update(2.0, running.stage.director)
        director = running.stage.director
        assert director.standby == 1 and director.composition_at(2.0).scene == 1  # cue 1 fired, bloom on screen
        assert bus.get("scene") == "bloom"
        bus.set("go", source="key")
        running.controls.update(2.5, director)
        assert running.stage.scene_name(director.composition_at(2.5).scene) == "spark"
    finally:
        running.stop()


def test_timed_cues_go_on_on_the_same_clock_and_a_scene_the_performer_chose_stays_on_screen(tmp_path):
    path = tmp_path / "show.yaml"
    scenes = {"drift": {"seed": 1}, "bloom": {"seed": 2}}
    path.write_text(show_text(scenes, cues=[{"at": 0.0, "scene": "drift"}, {"at": 5.0, "scene": "bloom"}]))
    running = Running(path).start()
    try:
        edited = show_text({**scenes, "spark": {"seed": 5}},
                           cues=[{"at": 0.0, "scene": "drift"}, {"at": 6.0, "scene": "spark"}])
        assert running.reload(edited, t=2.0)
        names = [running.stage.scene_name(running.stage.director.composition_at(t).scene) for t in (2.1, 5.5, 6.1)]
        assert names == ["drift", "drift", "spark"]  # the edited cue, at its time on the clock that kept running
        running.controls.bus.set("scene", "bloom", source="osc")
        running.controls.update(6.5, running.stage.director)
        assert running.reload(show_text({**scenes, "spark": {"seed": 6}}, cues=[{"at": 0.0, "scene": "drift"}]), t=7.0)
        running.controls.update(7.0, running.stage.director)
        assert running.stage.scene_name(running.stage.director.composition_at(7.0).scene) == "bloom"
        assert running.controls.bus.get("scene") == "bloom"
    finally:
        running.stop()


def test_settings_that_need_a_restart_keep_their_running_values_and_say_so(running, caplog):
    text = running.path.read_text()
    edited = yaml.safe_load(text)
    edited["output"] = {"width": 64, "height": 36, "fps": 20, "send": ["udp://127.0.0.1:5000"]}
    edited["osc"] = {"port": 9123}
    edited["window"] = {"mirror": True}
    running.controls.bus.set("hud", True, source="key")  # the performer's toggle
    assert running.reload(yaml.safe_dump(edited, sort_keys=False), t=1.0)
    show = running.stage.show
    assert (show.output.width, show.output.height, show.osc.port) == (32, 18, 0)
    assert show.output.send == []  # the outputs were opened when the show started
    assert show.output.fps == 20  # the frame rate changes live, and so do the window's switches the edit changed
    assert running.controls.bus.get("mirror") is True and running.controls.bus.get("hud") is True
    assert running.reloader.notice == "output.width, output.height, output.send, osc: need a restart"
    assert "need a restart" in running.reloader.hud_line()
    edited["scenes"][0]["cppn"]["seed"] = 9  # a later edit: the running values still need a restart
    assert running.reload(yaml.safe_dump(edited, sort_keys=False), t=2.0)
    assert running.reloader.notice == "output.width, output.height, output.send, osc: need a restart"
    edited["osc"] = {"port": 0}  # back as it started
    assert running.reload(yaml.safe_dump(edited, sort_keys=False), t=3.0)
    assert running.reloader.notice == "output.width, output.height, output.send: need a restart"
    said = [record.getMessage() for record in caplog.records if "needs a restart" in record.getMessage()]
    assert len(said) == 1 and "output.width, output.height, output.send, osc changed" in said[0]  # said once, not per edit


def test_a_scene_s_model_is_found_again_after_a_copy(running, tmp_path):
    """A model copied beside the show under a new name is a changed scene: loaded, warmed, swapped."""
    copy = tmp_path / "copy.onnx"
    shutil.copyfile(MODELS / "cppn-sine.onnx", copy)
    edited = running.path.read_text().replace(str(MODELS / "cppn-sine.onnx"), str(copy))
    assert running.reload(edited, t=1.0)
    assert running.stage.scenes[1].engine.path == copy


def test_an_edit_whose_input_cannot_deliver_a_frame_is_refused_under_that_input_s_key(running, tmp_path):
    # the same preflight as check, run and rehearse: not "scenes[2].model", and nothing built for it
    empty = tmp_path / "slides"
    empty.mkdir()
    (empty / "notes.txt").write_text("no pictures here")
    text = yaml.safe_load(running.path.read_text())
    text["scenes"].append({"name": "slides", "kind": "pipeline", "source": {"kind": "images", "folder": str(empty)}})
    edited = yaml.safe_dump(text, sort_keys=False)
    problem = running.refuse(edited)
    line = next(number for number, row in enumerate(edited.splitlines(), 1) if "folder:" in row)
    assert problem.startswith(f"{running.path}:{line}: scenes[2].source.folder: scene 'slides' cannot show its input")
    assert "no images" in problem and len(running.stage.scenes) == 2


def test_an_attract_scene_on_screen_stays_through_an_edit_and_goes_with_the_attract_block(tmp_path):
    from PIL import Image

    (tmp_path / "room").mkdir()
    Image.new("RGB", (32, 18), (90, 60, 40)).save(tmp_path / "room" / "still.png")  # an empty room, quite still
    mirror = {"name": "mirror", "kind": "pipeline", "source": {"kind": "images", "folder": str(tmp_path / "room")}}
    attract = {"scene": "drift", "after": 0.5, "fade": 0.0}

    def text(**fields) -> str:
        show = yaml.safe_load(show_text({"drift": {"seed": 1}}, **fields))
        show["scenes"].insert(0, mirror)
        return yaml.safe_dump(show, sort_keys=False)

    path = tmp_path / "show.yaml"
    path.write_text(text(attract=attract))
    running = Running(path).start()
    try:
        for step in range(10):
            running.controls.step(running.stage, step * 0.1)
        assert running.controls.attract.entered == 1 and running.controls.bus.get("scene") == "drift"
        assert running.reload(text(attract={**attract, "after": 2.0}, seed=4), t=1.0)
        running.controls.step(running.stage, 1.1)
        assert running.controls.attract.entered == 1 and running.controls.attract.woke == 0  # held, not again
        assert running.controls.bus.get("scene") == "drift" and running.stage.director.attracting
        assert running.reload(text(), t=1.2)  # no attract any more: the cues' scene again
        running.controls.step(running.stage, 1.3)
        assert running.controls.attract is None and running.controls.bus.get("scene") == "mirror"
    finally:
        running.stop()
def test_a_reload_keeps_an_unchanged_scenes_ladder_on_its_rung_and_a_changed_ladder_starts_at_the_top(tmp_path):
    path = tmp_path / "show.yaml"

    def laddered(scales: list[float], seed: int = 1) -> str:
        text = yaml.safe_load(show_text({"drift": {"seed": 1}, "bloom": {"seed": seed}}))
        text["scenes"][0].update(target_fps=30, ladder=[{"render_scale": scale} for scale in scales])
        return yaml.safe_dump(text, sort_keys=False)

    path.write_text(laddered([0.5, 0.25]))
    show = Running(path).start()
    try:
        show.stage.use_rung("drift", 2)
        ladder = show.stage.ladders["drift"]
        assert show.reload(laddered([0.5, 0.25], seed=3), 1.0)  # bloom changed, drift not
        assert show.stage.ladders["drift"] is ladder and ladder.position == 2
        assert show.stage.frame_at(1.1).current.shape == (4, 8, 3)  # 32x18 at a quarter
        assert show.reload(laddered([0.5]), 2.0)  # drift's ladder changed: built anew, at the top
        assert show.stage.ladders["drift"] is not ladder and show.stage.ladders["drift"].position == 0
        assert show.stage.frame_at(2.1).current.shape == (18, 32, 3)
    finally:
        show.stop()
