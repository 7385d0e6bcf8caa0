"""The CPPN scene kind: pictures as functions of the moment, its declared parameters, the latent walk."""
import numpy as np

from live.inference.engine import Engine, EngineConfig
from live.scenes.contract import Moment, defaults
from live.scenes.cppn import CppnScene, CppnSceneConfig
from live.show.run_stats import resident_mb
from tests.conftest import REPO

FITTED = REPO / "models" / "cppn-astronaut.onnx"


def scene(**config) -> CppnScene:
    return CppnScene("portrait", Engine.load(FITTED, EngineConfig(providers="cpu")), CppnSceneConfig(**config))


def at(s: CppnScene, t: float, **values) -> Moment:
    return Moment(t, {**defaults(s.parameters), **values})


def test_the_same_time_gives_the_same_picture_in_a_reused_buffer():
    s = scene(seed=5)
    first = s.render(at(s, 1.25), 64, 36).copy()
    again = s.render(at(s, 1.25), 64, 36)
    assert np.array_equal(first, again) and again.shape == (36, 64, 3) and again.dtype == np.uint8
    assert s.render(at(s, 1.25), 64, 36) is again  # no allocation per frame
    assert not np.array_equal(first, s.render(at(s, 2.5), 64, 36))


def test_parameters_are_declared_once_with_the_scene_s_own_defaults():
    s = scene(scale=3.0)
    assert [p.name for p in s.parameters] == ["scale", "speed", "jitter"]
    assert defaults(s.parameters)["scale"] == 3.0  # the show's setting, not the kind's 8
    assert defaults(scene().parameters)["scale"] == s.engine.card.scale  # else the model's own
    zoomed = s.render(at(s, 1.0, scale=6.0), 64, 36).copy()
    assert not np.array_equal(zoomed, s.render(at(s, 1.0), 64, 36))


def test_wander_keeps_keyframes_near_the_fitted_latent():
    home = np.asarray(scene().engine.card.latent)
    wandering = scene(wander=0.05, keyframes=6).latents
    assert np.allclose(wandering[0], home)
    assert np.abs(wandering - home).max() <= 0.05 + 1e-6
    free = scene(keyframes=6).latents
    assert np.abs(free - home).max() > 0.3


def test_the_walk_follows_speed_and_onset_kicks_fade():
    from live.scenes.cppn import LatentWalk
    from live.scenes.cppn_math import latent_at

    frames = np.random.default_rng(1).uniform(-1, 1, (4, 8)).astype(np.float32)
    steady, fast, kicked = (LatentWalk(frames, 2.0, "slerp", seed=3) for _ in range(3))
    for step in range(1, 51):  # 50 frames at 25 fps: 2 s
        t = step / 25
        assert np.allclose(steady.at(t), latent_at(frames, t, 2.0))
        fast_z = fast.at(t, speed=2.0)
        kicked_z = kicked.at(t, jitter=0.5, onset=step == 25)
        if step == 25:
            assert np.isclose(np.linalg.norm(kicked_z - steady.at(t)), 0.5, atol=1e-5)
    # starts where the clock is (t = 0.04 s), then travels twice as fast
    assert np.allclose(fast_z, latent_at(frames, 0.04 + 2 * (2.0 - 0.04), 2.0), atol=1e-5)
    assert 0 < np.linalg.norm(kicked_z - steady.at(2.0)) < 0.5 * np.exp(-1 / 0.25) * 1.01  # faded over 1 s
    backwards = LatentWalk(frames, 2.0, "slerp", seed=3)
    backwards.at(1.0)
    assert np.allclose(backwards.at(2.0, speed=-1.0), latent_at(frames, 0.0, 2.0), atol=1e-5)


def test_a_cue_glides_the_walk_to_a_keyframe_then_it_travels_on_from_there():
    from live.scenes.cppn import LatentWalk
    from live.scenes.cppn_math import latent_at, latent_at_position, lerp

    frames = np.random.default_rng(2).uniform(-1, 1, (5, 8)).astype(np.float32)
    walk = LatentWalk(frames, 2.0, "linear", seed=0)
    before = [walk.at(step / 10) for step in range(11)]  # 0 .. 1 s at 10 fps, on its own
    assert np.allclose(before[-1], latent_at(frames, 1.0, 2.0, "linear"))
    walk.glide_to(3, at=1.05, seconds=2.0, curve="linear")
    start = latent_at(frames, 1.05, 2.0, "linear")  # where the walk was when the cue fired, between frames
    halfway = walk.at(2.05)
    assert np.allclose(halfway, lerp(start, frames[3], 0.5), atol=1e-6)
    assert np.linalg.norm(halfway - start) > 0.1 and np.linalg.norm(halfway - frames[3]) > 0.1
    assert np.allclose(walk.at(3.05), frames[3], atol=1e-6)  # the end of the fade: the keyframe itself
    # then it walks on from keyframe 3 at its speed: one period later it is at keyframe 4
    assert np.allclose(walk.at(5.05), frames[4], atol=1e-6)
    assert np.allclose(walk.at(6.05), latent_at_position(frames, 4.5, "linear"), atol=1e-6)


def test_a_glide_holds_at_speed_0_follows_its_curve_and_a_zero_fade_jumps():
    from live.scenes.cppn import LatentWalk
    from live.scenes.cppn_math import lerp

    frames = np.random.default_rng(2).uniform(-1, 1, (5, 8)).astype(np.float32)
    walk = LatentWalk(frames, 2.0, "linear", seed=0)
    start = walk.at(1.0, speed=0.0)
    walk.glide_to(2, at=1.0, seconds=4.0, curve="exp")  # exp starts slowly: a quarter way in it has barely moved
    assert np.allclose(walk.at(2.0, speed=0.0), lerp(start, frames[2], np.expm1(1.0) / np.expm1(4.0)), atol=1e-6)
    assert all(np.allclose(walk.at(t, speed=0.0), frames[2], atol=1e-6) for t in (5.0, 6.0, 9.0))  # held
    walk.glide_to(4, at=9.5, seconds=0.0)
    assert np.allclose(walk.at(9.5, speed=0.0), frames[4], atol=1e-6)


def test_a_glide_to_a_latent_of_its_own_reaches_it_exactly_then_walks_on_to_the_next_keyframe():
    from live.scenes.cppn import LatentWalk
    from live.scenes.cppn_math import latent_at_position, lerp

    frames = np.random.default_rng(2).uniform(-1, 1, (5, 8)).astype(np.float32)
    captured = np.random.default_rng(9).uniform(-1, 1, 8).astype(np.float32)
    walk = LatentWalk(frames, 2.0, "linear", seed=0, named={"capture-1": captured.tolist()})
    walk.at(2.5)  # 1.25 keyframes along
    walk.glide_to(walk.named["capture-1"], at=2.5, seconds=1.0, curve="linear")
    assert np.array_equal(walk.at(3.5, speed=0.0), captured)  # exactly, bit for bit: it is held there
    assert np.array_equal(walk.latest, captured)
    # it left the path between keyframes 1 and 2: it walks on from the captured latent to keyframe 2
    assert np.allclose(walk.at(4.5), lerp(captured, frames[2], 0.5), atol=1e-6)
    assert np.allclose(walk.at(5.5), frames[2], atol=1e-6)
    assert np.allclose(walk.at(6.5), latent_at_position(frames, 2.5, "linear"), atol=1e-6)
    resumed = LatentWalk(frames, 2.0, "linear", seed=0, named={"capture-1": captured.tolist()})
    walk.glide_to(walk.named["capture-1"], at=7.0, seconds=0.0)
    walk.at(7.0)
    resumed.restore(walk.state())  # a resumed show, or a scene rebuilt by a reload, leaves it the same way
    assert np.allclose(resumed.at(8.0, speed=-1.0), walk.at(8.0, speed=-1.0))
    # it left the path between keyframes 2 and 3 this time; backwards it heads for keyframe 1, half way in 1 s
    assert np.allclose(walk.at(8.0, speed=-1.0), lerp(captured, frames[1], 0.5), atol=1e-6)
    import pytest
    with pytest.raises(ValueError, match="'short' is a latent of 3 numbers, but the model's latent has 8"):
        LatentWalk(frames, 2.0, "linear", seed=0, named={"short": [0.0, 1.0, 2.0]})


def test_a_named_keyframe_cue_moves_the_scene_s_latent_and_its_picture_there():
    from live.scenes.contract import KeyframeMove

    s = scene(keyframes=4, named_keyframes={"storm": 2})
    z = s._latent  # the latent each render is drawn from
    values = {**defaults(s.parameters), "speed": 0.0}
    target = s.render(Moment(8.0, values), 48, 27).copy()  # the walk starting two periods (4 s) in: keyframe 2
    assert np.allclose(z(Moment(8.0, values)), s.latents[2])
    s.walk.restart()
    move = KeyframeMove("storm", at=1.0, seconds=2.0, curve="smooth")
    start = z(Moment(1.0, values))
    halfway = z(Moment(2.0, values, keyframe=move))
    assert np.linalg.norm(halfway - start) > 0.1 and np.linalg.norm(halfway - s.latents[2]) > 0.1
    assert not np.array_equal(s.render(Moment(2.0, values, keyframe=move), 48, 27), target)
    assert np.array_equal(s.render(Moment(3.0, values, keyframe=move), 48, 27), target)


def _zoom_pair(s: CppnScene) -> tuple[np.ndarray, np.ndarray]:
    """(centre of a 65 px render at twice the scale, a 33 px render): the same picture when zoom is pure."""
    moment = at(s, 0.75)
    small = s.render(Moment(moment.t, {**moment.values, "scale": 2.5}), 33, 33).copy()
    s.walk.restart()
    big = s.render(Moment(moment.t, {**moment.values, "scale": 5.0}), 65, 65)
    return big[16:49, 16:49].astype(int), small.astype(int)


def test_the_scale_knob_zooms_without_changing_the_pattern(tmp_path):
    import torch

    from tests.onnx_graph import export_unfused_cppn
    from trainers.cppn.model import CPPN, CPPNConfig

    crop, small = _zoom_pair(scene(keep_aspect=False))
    assert np.abs(crop - small).max() <= 1 and small.std() > 5  # uint8: rounding at most
    # a file exported before zoom=pure multiplies z by the scale input; the scene feeds it so it zooms too
    cppn = CPPN(CPPNConfig(net_size=8, depth=2, scale=2.5, seed=2))
    export_unfused_cppn(cppn, tmp_path / "old.onnx", cppn.export_spec(latent=torch.zeros(8)).card)
    old = CppnScene("old", Engine.load(tmp_path / "old.onnx", EngineConfig(providers="cpu")),
                    CppnSceneConfig(keep_aspect=False))
    crop, small = _zoom_pair(old)
    assert np.abs(crop - small).max() <= 1 and small.std() > 5


def test_a_replaced_model_draws_from_the_next_frame_on_the_cpu_tiles_too(tmp_path):
    import shutil

    path = tmp_path / "live.onnx"
    shutil.copyfile(REPO / "models" / "cppn-tanh.onnx", path)
    s = CppnScene("swap", Engine.load(path, EngineConfig(providers="cpu")), CppnSceneConfig(seed=2))
    before = s.render(at(s, 0.5), 48, 27).copy()
    shutil.copyfile(REPO / "models" / "cppn-sine.onnx", path)  # as the model watcher sees a new file
    s.use_engine(Engine.load(path, EngineConfig(providers="cpu")))
    s.walk.restart()
    after = s.render(at(s, 0.5), 48, 27).copy()
    sine = CppnScene("sine", Engine.load(REPO / "models" / "cppn-sine.onnx", EngineConfig(providers="cpu")),
                     CppnSceneConfig(seed=2))
    assert not np.array_equal(before, after)
    assert np.array_equal(after, sine.render(at(sine, 0.5), 48, 27))


def test_warming_up_on_the_cpu_keeps_no_whole_frame_activations():
    """The CPU renders through tiles: warming the whole 1280x720 frame through the engine's own session
    kept half a gigabyte in ONNX Runtime's arena (mirror.yaml needed 1.07 GB). The warm-up now tries the
    engine at a few pixels, and the frame through the tiles, whose buffers are the frame's own."""
    s = scene()
    before = resident_mb()
    s.warm_up(1280, 720)
    grown = resident_mb() - before
    frame = 1280 * 720 * 3 * 4 / 1e6  # MB: the tiles' float32 frame buffer
    assert grown < frame + 60, f"{grown:.0f} MB for a {frame:.0f} MB frame"
    assert s.render(at(s, 0.5), 1280, 720).shape == (720, 1280, 3)


def test_a_walk_restored_from_its_state_goes_on_as_the_walk_it_was_saved_from():
    import json

    from live.scenes.contract import KeyframeMove, Moment
    from live.scenes.cppn import LatentWalk

    frames = np.random.default_rng(4).uniform(-1, 1, (5, 8)).astype(np.float32)
    move = KeyframeMove("storm", 1.0, 2.0, "linear")
    walking = LatentWalk(frames, 2.0, "linear", seed=0, named={"storm": 3})
    for step in range(1, 16):  # to 1.5 s at 10 fps, at half speed, a cue's glide under way from 1 s
        walking.follow(Moment(step / 10, keyframe=move if step >= 10 else None), 0.5, 0.0)
    state = json.loads(json.dumps(walking.state()))  # as it goes through the file
    resumed = LatentWalk(frames, 2.0, "linear", seed=0, named={"storm": 3})
    resumed.restore(state)
    fresh = LatentWalk(frames, 2.0, "linear", seed=0, named={"storm": 3})
    for t in (1.6, 2.5, 3.5, 5.0):  # the same move comes with each moment: it is not taken again
        moment = Moment(t, keyframe=move)
        expected = walking.follow(moment, 0.5, 0.0)
        assert np.allclose(resumed.follow(moment, 0.5, 0.0), expected, atol=1e-6), t
        if t == 1.6:  # a walk started afresh at t glides from somewhere else: the state is what carries it
            assert not np.allclose(fresh.follow(moment, 0.5, 0.0), expected, atol=1e-3)


def test_a_resumed_scene_warmed_up_after_its_walk_was_restored_carries_on_from_there():
    """A live start warms its scenes between its first frames, after a resume has put their walks back:
    the warm-up's own render must not move them (it once restarted the walk)."""
    import json

    running = scene(seed=2, period=2.0)
    for step in range(1, 31):  # 3 s at 10 fps, at half speed
        running.render(at(running, step / 10, speed=0.5), 64, 36)
    state = json.loads(json.dumps(running.resume_state()))  # as it goes through the file
    resumed = scene(seed=2, period=2.0)
    resumed.resume(state)
    resumed.warm_up(64, 36)
    expected = running.render(at(running, 3.1, speed=0.5), 64, 36).copy()
    assert np.abs(resumed.render(at(resumed, 3.1, speed=0.5), 64, 36).astype(int) - expected).max() <= 1
    restarted = scene(seed=2, period=2.0)  # what the warm-up's old restart left: a walk from nowhere
    assert np.abs(restarted.render(at(restarted, 3.1, speed=0.5), 64, 36).astype(int) - expected).mean() > 5
