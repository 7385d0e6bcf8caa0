"""The GAN scene kind: pictures as functions of the moment, its parameters, the slerp walk, cues, the stage's fit."""
import numpy as np
import pytest

from live.inference.engine import EngineConfig
from live.inference.gan_generator import GanGenerator
from live.scenes.contract import KeyframeMove, Moment, defaults
from live.scenes.gan import GanScene, GanSceneConfig, GanSceneSpec


def scene(model, **config) -> GanScene:
    return GanScene("painter", GanGenerator.load(model, EngineConfig(providers="cpu")), GanSceneConfig(**config))


def at(s: GanScene, t: float, onset: bool = False, keyframe: KeyframeMove | None = None, **values) -> Moment:
    return Moment(t, {**defaults(s.parameters), **values}, onset, keyframe)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_the_same_time_gives_the_same_picture_in_a_reused_buffer(tiny_gan):
    s = scene(tiny_gan)
    first = s.render(at(s, 1.25), 64, 36).copy()
    again = scene(tiny_gan).render(at(s, 1.25), 64, 36)
    assert np.array_equal(first, again) and again.shape == (36, 64, 3) and again.dtype == np.uint8
    assert s.render(at(s, 1.25), 64, 36) is s.render(at(s, 1.25), 64, 36)  # no allocation per frame
    assert difference(first, s.render(at(s, 3.0), 64, 36)) > 3


def test_parameters_are_declared_once_with_the_show_s_truncation(tiny_gan):
    s = scene(tiny_gan, truncation=0.4)
    assert [p.name for p in s.parameters] == ["speed", "truncation", "jitter"]
    assert defaults(s.parameters)["truncation"] == 0.4
    calm = s.render(at(s, 1.0, truncation=0.0), 32, 32).copy()
    assert difference(calm, s.render(at(s, 5.0, truncation=0.0), 32, 32)) == 0  # psi 0: the mean picture
    assert difference(calm, s.render(at(s, 1.0, truncation=1.0), 32, 32)) > 3


def test_keyframes_are_gaussian_and_the_walk_slerps_between_them(tiny_gan):
    s = scene(tiny_gan, keyframes=4, period=2.0)
    assert s.latents.shape == (4, 16) and s.walk.interp == "slerp"
    half = s.walk.at(1.0)  # half way from keyframe 0 to 1: on the great circle, not the sagging chord
    chord = 0.5 * (s.latents[0] + s.latents[1])
    assert np.linalg.norm(half) > np.linalg.norm(chord)


def test_speed_zero_holds_the_picture_and_an_onset_kick_moves_it_then_fades(tiny_gan):
    s = scene(tiny_gan)
    held = [s.render(at(s, t, speed=0.0), 32, 32).copy() for t in (0.0, 0.5, 1.0)]
    assert difference(held[0], held[2]) == 0
    kicked = s.render(at(s, 1.04, onset=True, speed=0.0, jitter=1.0), 32, 32).copy()
    assert difference(kicked, held[2]) > 3
    settled = s.render(at(s, 4.0, speed=0.0, jitter=1.0), 32, 32)
    assert difference(settled, held[2]) < 0.5 * difference(kicked, held[2])


def test_a_cue_glides_the_latent_to_a_named_keyframe(tiny_gan):
    s = scene(tiny_gan, keyframes=5, named_keyframes={"storm": 3})
    storm = scene(tiny_gan, keyframes=5).render(at(s, 3 * 4.0), 32, 32).copy()  # keyframe 3 at speed 1
    move = KeyframeMove("storm", at=1.0, seconds=1.0, curve="linear")
    before = s.render(at(s, 0.9, keyframe=move, speed=0.0), 32, 32).copy()
    midway = s.render(at(s, 1.5, keyframe=move, speed=0.0), 32, 32).copy()
    arrived = s.render(at(s, 2.5, keyframe=move, speed=0.0), 32, 32).copy()
    assert difference(arrived, storm) == 0
    assert difference(before, storm) > difference(midway, storm) > 0


@pytest.mark.parametrize("fit", ["cover", "contain", "stretch"])
def test_the_square_is_fitted_to_the_stage(tiny_gan, fit):
    s = scene(tiny_gan, fit=fit)
    wide = s.render(at(s, 0.0), 64, 16)
    assert wide.shape == (16, 64, 3)
    bars = wide[:, :16].max() == 0 and wide[:, -16:].max() == 0  # letterboxed at the sides
    assert bars == (fit == "contain")


def test_the_spec_names_the_upscaler_as_a_second_model_of_kind_sr(tmp_path):
    spec = GanSceneSpec(name="painter", kind="gan", model="gan.onnx", upscale="sr.onnx",
                        gan={"named_keyframes": {"calm": 0}})
    assert spec.models() == {("model",): (spec.model, ("gan",)), ("upscale",): (spec.upscale, ("sr",))}
    assert set(spec.files()) == {("model",), ("upscale",)} and spec.keyframe_names() == ("calm",)
    with pytest.raises(ValueError, match="keyframe 9, but the walk has 6"):
        GanSceneSpec(name="painter", kind="gan", model="gan.onnx", gan={"named_keyframes": {"far": 9}})


def test_an_upscaler_draws_the_square_four_times_larger_before_the_fit(tiny_gan, tiny_sr):
    from live.inference.upscaler import Upscaler

    sharp = GanScene("painter", GanGenerator.load(tiny_gan, EngineConfig(providers="cpu")), GanSceneConfig(),
                     Upscaler.load(tiny_sr, EngineConfig(providers="cpu")))
    plain = scene(tiny_gan)
    picture = plain.generator.picture(plain.walk.at(1.0), 0.7).copy()  # (64, 64, 3) where both walks are at 1 s
    expected = sharp.upscaler.upscale(picture)
    assert expected.shape == (256, 256, 3)
    made = sharp.render(at(sharp, 1.0), 256, 256)
    assert np.array_equal(made, expected)
    assert difference(made, plain.render(at(plain, 1.0), 256, 256)) > 0  # not the plain bilinear enlargement


def test_a_resumed_scene_carries_its_walk_on_from_where_it_was(tiny_gan):
    """A show resumed after a crash: the scene built afresh takes the state the running one gave."""
    import json

    running = scene(tiny_gan, keyframes=4, period=2.0)
    for step in range(1, 31):  # 3 s at 10 fps, at half speed (an onset's kick, gone in a second, is not kept)
        running.render(at(running, step / 10, speed=0.5), 32, 32)
    state = json.loads(json.dumps(running.resume_state()))  # as it goes through the file
    resumed, fresh = scene(tiny_gan, keyframes=4, period=2.0), scene(tiny_gan, keyframes=4, period=2.0)
    resumed.resume(state)
    moment = at(running, 3.1, speed=0.5)
    expected = running.render(moment, 32, 32).copy()
    carried = resumed.render(moment, 32, 32)
    assert difference(carried, expected) < 0.05  # the same latent, give or take float32 through JSON
    assert difference(fresh.render(moment, 32, 32), expected) > 0.5  # afresh, a speed-0.5 walk is elsewhere
