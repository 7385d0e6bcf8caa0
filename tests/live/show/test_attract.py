"""Attract mode (README "Installations: presence and attract"): an empty room glides to the attract scene after
`after` seconds, over the cues, at a lower frame rate once alone on screen; an approach wakes it with a fade that
follows the activity; a performer's pick ends it; the show file's attract and presence blocks are checked."""
import re
from pathlib import Path

import pytest

from live.show.attract import Attract
from live.show.director import Director
from live.show.schema import ShowError, parse_show

SHOW = """
length: 40
output: {fps: 30}
scenes:
  - {name: mirror, kind: pipeline, source: {kind: pattern}}
  - {name: other, kind: pipeline, source: {kind: pattern}}
  - {name: drift, kind: cppn, model: m.onnx}
cues:
  - {at: 0, scene: mirror}
  - {at: 20, scene: other}
attract: {scene: drift, after: 5, below: 0.1, wake: 0.3, fade: 2, wake_fade: [0.5, 3.0], fps: 6}
"""


def parse(tmp_path: Path, text: str = SHOW):
    (tmp_path / "m.onnx").write_bytes(b"")  # the show only checks that the file exists
    return parse_show(text, tmp_path / "show.yaml")


def attract_of(show) -> Attract:
    names = [scene.name for scene in show.scenes]
    return Attract(show.attract, names.index(show.attract.scene), names)


def run(attract: Attract, director: Director, presence, start: float, end: float, fps: float = 10.0,
        activity=lambda t: 0.0) -> None:
    """Frames from start to end (seconds) at fps, each with presence(t) and activity(t)."""
    for index in range(round((end - start) * fps)):
        t = start + index / fps
        attract.update(t, presence(t), activity(t), director)


def test_an_empty_room_glides_to_the_attract_scene_after_its_time_and_holds_it_over_the_cues(tmp_path):
    show = parse(tmp_path)
    director, attract = Director(show), attract_of(show)
    run(attract, director, lambda t: 0.8 if t < 3 else 0.02, 0, 7.9)  # still from 3 s: attract due at 8 s
    assert director.composition_at(7.9).scene == 0 and attract.entered == 0
    run(attract, director, lambda t: 0.02, 7.9, 25)
    assert attract.entered == 1 and attract.changes[0].at == pytest.approx(8.0)
    assert director.composition_at(9.0).previous == 0 and 0 < director.composition_at(9.0).mix < 1  # gliding in
    assert director.composition_at(24.9) == director.composition_at(10.0)  # held over the cue at 20 s
    assert director.composition_at(24.9).scene == 2
    assert attract.frame_rate(30.0, director, 24.9) == 6.0  # alone on screen: the lower rate
    assert "attract since" in attract.hud_line(0.02, 24.9)


def test_presence_between_below_and_wake_does_not_wake_it_and_an_approach_does_with_a_fade_by_its_activity(tmp_path):
    show = parse(tmp_path)
    for activity, fade in ((1.0, 0.5), (0.3, 2.25)):  # a quick approach, someone drifting in
        director, attract = Director(show), attract_of(show)
        run(attract, director, lambda t: 0.02, 0, 10)
        run(attract, director, lambda t: 0.2, 10, 12)  # someone at the edge of the picture: not enough
        assert director.attracting and attract.woke == 0
        run(attract, director, lambda t: 0.5, 12, 12.1, activity=lambda t: activity)
        assert attract.woke == 1 and attract.changes[-1].fade == pytest.approx(fade)
        assert attract.changes[-1].scene == "mirror"  # what the cues say is on screen now
        assert director.composition_at(12 + fade / 2).previous == 2  # fading back
        assert director.composition_at(12 + fade + 0.01) == Director(show).composition_at(12 + fade + 0.01)  # the cues'
        assert attract.frame_rate(30.0, director, 12.05) == 30.0
        assert attract.summary()["seconds"] == pytest.approx(7.0, abs=0.15)


def test_after_waking_past_a_cue_the_screen_goes_to_the_cues_scene_and_a_performer_ends_attract_at_once(tmp_path):
    show = parse(tmp_path)
    director, attract = Director(show), attract_of(show)
    run(attract, director, lambda t: 0.0, 0, 22)
    run(attract, director, lambda t: 1.0, 22, 22.1, activity=lambda t: 1.0)
    assert attract.changes[-1].scene == "other"  # the cue at 20 s fired under the attract scene
    run(attract, director, lambda t: 0.0, 22.1, 30)
    assert director.attracting
    director.select(0, 30.0, 1.0)  # a performer picks a scene
    attract.update(30.0, 0.0, 0.0, director)
    assert not director.attracting and attract.woke == 2 and attract.changes[-1].scene == "mirror"
    run(attract, director, lambda t: 0.0, 30.1, 34.9)
    assert not director.attracting  # the room is counted still again from the pick


@pytest.mark.parametrize("block, problem", [
    ("attract: {scene: nowhere}", "attract.scene: 'nowhere' is not a scene"),
    ("attract: {scene: mirror}", "attract.scene: 'mirror' is the scene that watches the room"),
    ("attract: {scene: drift, below: 0.3, wake: 0.2}", "wake (0.2) must be above below (0.3)"),
    ("attract: {scene: drift, wake_fade: [3, 1]}", "wake_fade is [quick, slow] seconds"),
    ("presence: {scene: drift}", "presence.scene: scene 'drift' reads no frames"),
])
def test_attract_and_presence_blocks_are_checked_naming_their_key(tmp_path, block, problem):
    text = SHOW.split("attract:")[0] + block + "\n"
    with pytest.raises(ShowError, match=re.escape(problem)):
        parse(tmp_path, text)


def test_a_show_with_no_scene_that_reads_frames_cannot_watch_the_room(tmp_path):
    text = "scenes:\n  - {name: drift, kind: cppn, model: m.onnx}\n  - {name: b, kind: cppn, model: m.onnx}\n"
    for block, where in (("attract: {scene: b}", "show.yaml:4: attract: "),
                         ("mappings:\n  - {camera: presence, to: drift.speed}", "show.yaml:5: mappings[0].camera: ")):
        with pytest.raises(ShowError, match=re.escape(where + "presence is read from a camera's frames")):
            parse(tmp_path, text + block + "\n")
    show = parse(tmp_path, text)
    assert not show.watches_the_room


def test_woken_while_it_still_glides_in_it_fades_back_from_where_the_glide_had_got_to(tmp_path):
    show = parse(tmp_path)
    director = Director(show)
    director.attract(2, 10.0, 2.0)
    gliding = director.composition_at(10.5)  # a quarter of the way in
    director.wake(10.5, 3.0)
    waking = director.composition_at(10.5)
    assert (waking.scene, waking.previous) == (0, 2) and waking.mix == pytest.approx(1.0 - gliding.mix)
    assert director.composition_at(10.5 + 3.0 * 0.25) == Director(show).composition_at(11.25)  # done sooner
