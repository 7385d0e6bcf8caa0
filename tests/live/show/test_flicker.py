"""The flicker figure (README "Running unattended", the HUD): a scene's picture change per new picture against its input's."""
import numpy as np

from live.show.flicker import FlickerMeter


def gray(level: int, shape=(36, 64, 3)) -> np.ndarray:
    return np.full(shape, level, dtype=np.uint8)


def test_an_output_that_changes_twice_as_much_as_its_input_reads_2x():
    meter = FlickerMeter()
    for step in range(10):
        meter.note("snow", gray(100 + 4 * step, (90, 160, 3)), gray(50 + 2 * step))  # another size in and out
    figures = meter.summary()["snow"]
    assert figures == {"output_levels": 4.0, "pictures": 9, "last_output_levels": 4.0, "input_levels": 2.0,
                       "ratio": 2.0}
    assert meter.hud_line("snow") == "flicker out 4.0 in 2.0 levels a picture (2.0x)"


def test_a_model_boiling_on_a_still_input_has_no_ratio_but_its_output_change():
    rng = np.random.default_rng(0)
    meter = FlickerMeter()
    still = gray(80)
    for _ in range(5):
        meter.note("boil", rng.integers(0, 256, (36, 64, 3), dtype=np.uint8), still)
    figures = meter.summary()["boil"]
    assert figures["input_levels"] == 0 and figures["ratio"] is None and figures["output_levels"] > 60
    assert meter.hud_line("boil").startswith("flicker out ") and "x)" not in meter.hud_line("boil")


def test_a_scene_without_input_has_only_its_output_change_and_a_return_is_not_a_jump():
    meter = FlickerMeter()
    meter.note("drift", gray(10), None)
    meter.note("drift", gray(11), None)
    meter.forget("drift")  # off screen, and back much later
    meter.note("drift", gray(200), None)
    meter.note("drift", gray(201), None)
    meter.note("drift", object(), None)  # a shader's program, not pixels: not counted
    assert meter.summary() == {"drift": {"output_levels": 1.0, "pictures": 2, "last_output_levels": 1.0}}
    assert meter.hud_line("drift") == "flicker out 1.0 levels a picture" and meter.hud_line("other") == ""


def test_a_tuned_scene_shows_its_target_and_the_stabilise_it_runs_with():
    meter = FlickerMeter()
    for step, stabilise in enumerate([0.1, 0.3, 0.2, 0.25]):
        meter.note("snow", gray(100 + 3 * step), gray(50 + step), (4.0, stabilise))
    figures = meter.summary()["snow"]
    assert (figures["target"], figures["stabilise"], figures["stabilise_range"]) == (4.0, 0.25, [0.2, 0.3])
    assert meter.hud_line("snow") == "flicker out 3.0 in 1.0 levels a picture (3.0x)  (target 4.0, stabilise 0.25)"
