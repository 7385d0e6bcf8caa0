"""The director (README "Shows"): cues switch scenes in time order and repeat after the show length,
crossfades follow their curve (smooth unless a cue says linear), a manual change holds until the next cue."""
from pathlib import Path

import pytest

from live.show.director import Composition, Director
from live.show.schema import parse_show

SCENES = """scenes:
  - {name: a, kind: cppn, model: m.onnx}
  - {name: b, kind: cppn, model: m.onnx}
  - {name: c, kind: cppn, model: m.onnx}
"""  # three scenes, a, b and c

SHOW = """
length: 30
""" + SCENES + """cues:
  - {at: 10, scene: b, fade: 2}
  - {at: 0, scene: a}
  - {at: 20, scene: c, fade: 4, curve: linear}
"""


def directing(tmp_path: Path, text: str) -> Director:
    (tmp_path / "m.onnx").write_bytes(b"")  # the show only checks that the file exists
    return Director(parse_show(text, tmp_path / "show.yaml"))


def director(tmp_path: Path) -> Director:
    return directing(tmp_path, SHOW)


def test_cues_switch_scenes_in_time_order(tmp_path):
    d = director(tmp_path)
    assert d.composition_at(5).scene == 0
    assert d.composition_at(15).scene == 1
    assert d.composition_at(25).scene == 2


def test_a_fade_mixes_the_previous_scene_in_along_a_smooth_curve(tmp_path):
    d = director(tmp_path)
    start, middle, done = d.composition_at(10.0), d.composition_at(11.0), d.composition_at(12.5)
    assert (start.scene, start.previous, start.mix) == (1, 0, 0.0)
    assert (middle.previous, middle.mix) == (0, 0.5)
    assert (done.previous, done.mix) == (None, 1.0)
    # At the midpoint smooth and linear agree; a quarter and three quarters in they do not:
    # smoothstep 3x^2 - 2x^3 gives 0.15625 and 0.84375 where a straight ramp gives 0.25 and 0.75.
    quarter, three_quarters = d.composition_at(10.5), d.composition_at(11.5)
    assert (quarter.scene, quarter.previous) == (three_quarters.scene, three_quarters.previous) == (1, 0)
    assert quarter.mix == pytest.approx(0.15625) and three_quarters.mix == pytest.approx(0.84375)
    mixes = [d.composition_at(10.0 + step / 10).mix for step in range(21)]  # 10.0 .. 12.0 s
    assert all(later > earlier for earlier, later in zip(mixes[:20], mixes[1:20])), mixes  # rises all along
    slopes = [later - earlier for earlier, later in zip(mixes[:20], mixes[1:20])]
    assert slopes[0] < slopes[9] > slopes[18], slopes  # eases in and out: no kink at either end


def test_the_cue_list_repeats_after_the_show_length(tmp_path):
    d = director(tmp_path)
    assert d.composition_at(35).scene == 0
    assert d.composition_at(41).previous == 0


def test_a_manual_change_holds_until_the_next_cue(tmp_path):
    d = director(tmp_path)
    d.select(2, t=3.0, fade=1.0)
    assert d.composition_at(3.5).previous == 0 and d.composition_at(3.5).scene == 2
    assert d.composition_at(9.0).scene == 2
    assert d.composition_at(10.5).scene == 1  # the next cue takes over again
    d.select(d.composition_at(16.0).scene + 1, t=16.0, fade=0.0)  # as the conductor moves on for scene.next
    assert d.composition_at(16.0).scene == 2


def test_a_linear_fade_ramps_straight(tmp_path):
    d = director(tmp_path)
    assert d.composition_at(21.0).mix == 0.25 and d.composition_at(23.0).mix == 0.75


CUE_LIST = SCENES + """cues:
  - {at: 0, scene: a}
  - {go: true, scene: b, fade: 2}
  - {wait: 3, scene: c}
  - {go: true, scene: a}
  - {wait: 0, scene: b}
"""


def cue_list(tmp_path: Path) -> Director:
    return directing(tmp_path, CUE_LIST)


def test_a_cue_list_waits_for_go_then_follows_its_waits(tmp_path):
    d = cue_list(tmp_path)
    assert d.composition_at(100).scene == 0 and d.standby == 1  # nobody pressed GO: a holds
    assert d.go(100.0) and d.standby == 2
    fading = d.composition_at(101)
    assert (fading.scene, fading.previous) == (1, 0) and 0 < fading.mix < 1  # b fades in over 2 s
    assert d.composition_at(102.5) == Composition(1, None, 1.0)
    assert d.composition_at(103.1).scene == 2 and d.standby == 3  # c, 3 s after b fired (auto-continue)
    assert d.go(110.0) and d.standby is None  # a, and b with it (wait 0)
    assert d.composition_at(110).scene == 1
    assert not d.go(120.0)  # the list is done


def test_an_auto_follow_cue_fires_when_the_cue_before_it_is_done(tmp_path):
    d = directing(tmp_path, SCENES + """cues:
  - {at: 0, scene: a}
  - {go: true, scene: b, fade: 2, set: {scale: 3.0}, ramp: 5}
  - {follow: true, scene: c, fade: 1}
  - {follow: true, scene: a}
""")
    assert d.go(10.0) and d.cue(2).trigger == "follow"
    assert d.composition_at(14.9).scene == 1 and d.standby == 2  # b's ramp runs 5 s, longer than its fade
    assert d.composition_at(15.0).scene == 2 and d.standby == 3  # then c follows, fading in over 1 s
    assert d.composition_at(15.99).scene == 2 and d.composition_at(16.0).scene == 0 and d.standby is None


def test_go_fires_a_waiting_cue_early(tmp_path):
    d = cue_list(tmp_path)
    d.go(10.0)  # b
    d.go(11.0)  # c, before its wait was over
    assert d.composition_at(11.0).scene == 2 and d.standby == 3
    assert d.composition_at(10.5).scene == 1  # the past stays as it was played


def test_a_timed_show_has_no_standby_and_ignores_go(tmp_path):
    d = director(tmp_path)
    assert d.standby is None and not d.go(5.0) and d.composition_at(5).scene == 0


def test_the_hud_names_the_standby_cue_and_then_says_the_list_is_done(tmp_path):
    from live.show.conductor import _standby_line

    d = cue_list(tmp_path)
    d.composition_at(0.0)  # the frame at 0 s: the first cue, timed at 0, has fired
    assert _standby_line(d) == "standby: cue 2 (GO) -> b"
    d.go(1.0)
    assert _standby_line(d) == "standby: cue 3 (wait 3 s) -> c"
    d.go(2.0)
    d.go(3.0)
    assert _standby_line(d) == "cue list done"
    assert _standby_line(director(tmp_path)) == ""  # a timed show has no standby


QUANTISED = """
tempo: {bpm: 120, offset: 0.25}
""" + SCENES + """cues:
  - {at: 0, scene: a}
  - {go: true, scene: b, quantise: beat}
  - {wait: 1.1, scene: c, quantise: bar}
"""


def test_quantised_cues_fire_on_the_next_beat_and_bar_of_a_fixed_tempo(tmp_path):
    d = directing(tmp_path, QUANTISED)
    d.go(1.0)  # beats every 0.5 s from 0.25: the next is 1.25
    assert d.composition_at(1.2).scene == 0 and d.composition_at(1.25).scene == 1
    # c's wait ends at 2.35; bars are 2 s long from 0.25: 2.25 has passed, so 4.25
    assert d.composition_at(4.2).scene == 1 and d.composition_at(4.25).scene == 2


def test_quantised_cues_fire_on_heard_beats_and_count_bars_from_the_first(tmp_path):
    d = directing(tmp_path, QUANTISED.replace("tempo: {bpm: 120, offset: 0.25}", "tempo: {source: osc}"))
    d.go(1.0)
    assert d.composition_at(5.0).scene == 0, "no beat has come: the cue waits"
    beats = [5.1, 5.6, 6.1, 6.6, 7.1, 7.6, 8.1, 8.6, 9.1]
    for beat in beats[:1]:
        d.beat(beat)
    assert d.composition_at(5.1).scene == 1  # b on the first beat after GO
    for beat in beats[1:]:
        d.beat(beat)
    # c armed at 6.2 (5.1 + 1.1); bars start on beats 0, 4, 8 (5.1, 7.1, 9.1): 7.1
    assert d.composition_at(7.05).scene == 1 and d.composition_at(7.1).scene == 2


def test_a_source_that_knows_bars_puts_bar_cues_on_its_downbeats_and_beat_cues_on_any_beat(tmp_path):
    """Link and MIDI clock say which beat starts a bar; a cue on the beat takes the next beat whatever it is."""
    d = directing(tmp_path, QUANTISED.replace("tempo: {bpm: 120, offset: 0.25}",
                                              "tempo: {source: link, fallback: [fixed], bpm: 120}"))
    d.go(1.0)
    d.beat(1.2, downbeat=False)  # the third beat of the session's bar
    assert d.composition_at(1.2).scene == 1, "a cue on the beat fires on any beat"
    for index, beat in enumerate([1.7, 2.2, 2.7, 3.2]):
        d.beat(beat, downbeat=index == 1)  # 2.2 starts a bar
    # c armed at 2.3 (1.2 + 1.1): the next downbeat, not the fourth beat counted from the first heard
    assert d.composition_at(3.2).scene == 1
    d.beat(4.2, downbeat=True)
    assert d.composition_at(4.2).scene == 2


def test_fired_between_names_each_cue_once_in_every_round_of_a_timed_show(tmp_path):
    d = director(tmp_path)  # length 30: a at 0, b at 10, c at 20
    names = lambda fired: [(at, cue.scene) for at, cue in fired]
    assert names(d.fired_between(-1, 0)) == [(0, "a")] == names(d.fired_between(float("-inf"), 0))
    assert names(d.fired_between(0, 25)) == [(10, "b"), (20, "c")]
    assert names(d.fired_between(25, 70)) == [(30, "a"), (40, "b"), (50, "c"), (60, "a"), (70, "b")]
    assert d.fired_between(71, 72) == []
    cues = cue_list(tmp_path)
    cues.go(5.0)
    assert names(cues.fired_between(-1, 9)) == [(0, "a"), (5.0, "b"), (8.0, "c")]


def test_a_keyframe_cue_to_the_scene_on_screen_crossfades_nothing_and_to_another_one_crossfades(tmp_path):
    d = directing(tmp_path, """
scenes:
  - {name: a, kind: cppn, model: m.onnx, cppn: {named_keyframes: {storm: 3}}}
  - {name: b, kind: cppn, model: m.onnx, cppn: {named_keyframes: {calm: 1}}}
cues:
  - {at: 0, scene: a}
  - {at: 2, scene: a, keyframe: storm, fade: 4}
  - {at: 10, scene: b, keyframe: calm, fade: 4}
""")
    assert d.composition_at(4) == Composition(0, None, 1.0)  # only the latent moves
    assert d.composition_at(12) == Composition(1, 0, 0.5)  # pixels cross while b's latent already moves


def test_a_cue_list_resumed_from_its_state_has_the_same_cues_fired_standby_and_manual_change(tmp_path):
    text = SCENES + """cues:
  - {go: true, scene: a}
  - {go: true, scene: b, fade: 2}
  - {go: true, scene: c}
"""
    running = directing(tmp_path, text)
    running.go(1.0)
    running.go(4.0)
    running.select(0, 6.0, fade=1.0)
    state = running.state()
    assert state["fired"] == [1.0, 4.0] and state["manual"]["scene"] == "a"
    resumed = directing(tmp_path, text)
    resumed.resume(state["fired"], state["manual"])
    assert resumed.standby == running.standby == 2
    for t in (4.5, 6.5, 8.0):
        assert resumed.composition_at(t) == running.composition_at(t)
    assert resumed.last_fired(8.0) == 2
