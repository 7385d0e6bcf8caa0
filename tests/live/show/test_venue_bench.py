"""The venue bench's plan and verdicts (README "Before the doors open"): which scenes and crossfades each cue
shows, and when a rate holds, is tight or falls short. The timing itself is checked end to end in
tests/acceptance/test_venue_bench.py."""
from pathlib import Path

from live.show.schema import parse_show
from live.show.venue_bench import BenchReport, Timing, cue_plan

SCENES = """scenes:
  - {name: a, kind: cppn, model: m.onnx}
  - {name: b, kind: cppn, model: m.onnx}
  - {name: c, kind: cppn, model: m.onnx}
"""


def planned(tmp_path: Path, cues: str):
    (tmp_path / "m.onnx").write_bytes(b"")  # the show only checks that the file exists
    return cue_plan(parse_show(SCENES + cues, tmp_path / "show.yaml"))


def test_each_cue_names_its_scene_and_a_fade_from_another_scene_its_crossfade(tmp_path):
    shows, fades = planned(tmp_path, """cues:
  - {at: 20, scene: a, fade: 2}
  - {at: 0, scene: b}
  - {at: 10, scene: c, fade: 3}
  - {at: 30, scene: c, fade: 1}
""")  # in time order: b, c (fades from b), a (from c), c again (from a)
    assert shows == {1: (1,), 2: (2, 4), 0: (3,)}
    assert fades == {(1, 2): (2,), (2, 0): (3,), (0, 2): (4,)}


def test_a_cue_list_fades_in_file_order_and_a_cut_or_the_same_scene_is_no_crossfade(tmp_path):
    shows, fades = planned(tmp_path, """cues:
  - {go: true, scene: a, fade: 2}
  - {go: true, scene: b}
  - {go: true, scene: b, fade: 2}
  - {go: true, scene: a, fade: 1}
""")
    assert shows == {0: (1, 4), 1: (2, 3)}
    assert fades == {(1, 0): (4,)}  # the show starts on a: cue 1's fade is to itself


def test_a_rate_holds_within_the_tolerance_is_tight_under_the_headroom_and_the_verdict_names_the_worst():
    held, tight, short = (Timing("s", (1,), 10.0, 12.0, makes, 30.0) for makes in (40.0, 28.0, 15.0))
    assert held.holds and not held.tight and held.expected_fps == 30.0
    assert tight.holds and tight.tight and tight.expected_fps == 28.0
    assert not short.holds and short.short_by == 0.5 and short.expected_fps == 15.0
    worse = Timing("a > b", (2,), 90.0, 99.0, 3.0, 30.0)
    report = BenchReport("show.yaml", ["CPUExecutionProvider"], (480, 270), 30.0, [held, tight, short], [worse],
                         400.0, None, 5.0)
    assert not report.holds and report.failing == [short, worse]
    assert report.verdict() == ("show.yaml: cannot hold its rate here: cue 2 (a > b) makes 3.0 new pictures/s of "
                                "the 30.0 it needs, 90% short; cue 1 (s) makes 15.0 new pictures/s of the 30.0 it "
                                "needs, 50% short")
