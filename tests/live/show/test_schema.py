from pathlib import Path

import pytest

from live.show.schema import ShowError, load_show, parse_show
from tests.conftest import DEMO_SHOW


def parse(tmp_path: Path, text: str):
    (tmp_path / "m.onnx").write_bytes(b"")
    return parse_show(text, tmp_path / "show.yaml")


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ShowError) as caught:
        parse(tmp_path, text)
    return str(caught.value)


def test_the_bundled_demo_loads_with_its_models_resolved():
    show = load_show(DEMO_SHOW)
    assert [scene.name for scene in show.scenes][:3] == ["drift", "bloom", "portrait"]  # then the model scenes
    assert {"snow", "cezanne", "vangogh", "seurat"} <= {scene.name for scene in show.scenes}
    assert all(scene.model.is_file() and scene.model.is_absolute() for scene in show.scenes)
    assert [cue.at for cue in show.cues] == sorted(cue.at for cue in show.cues)


def test_an_unknown_key_names_file_line_and_key(tmp_path):
    message = error_of(tmp_path, """
scenes:
  - name: a
    kind: cppn
    model: m.onnx
    cppn:
      periode: 3
""")
    assert message == f"{tmp_path / 'show.yaml'}:7: scenes[0].cppn.periode: unknown key; did you mean 'period'?"


def test_a_misspelt_key_gets_a_suggestion_and_a_stranger_none(tmp_path):
    message = error_of(tmp_path, """
scenes:
  - {name: a, kind: cppn, model: m.onnx}
cues:
  - {at: 0, scene: a, fad: 2}
  - {at: 1, scene: a, colour: red}
""")
    lines = message.splitlines()
    assert lines[0].endswith(":5: cues[0].fad: unknown key; did you mean 'fade'?")
    assert lines[1].endswith(":6: cues[1].colour: unknown key")


def test_check_prints_a_cue_sheet(tmp_path):
    from live.show.schema import cue_sheet

    show = parse(tmp_path, """
length: 20
scenes:
  - {name: drift, kind: cppn, model: m.onnx}
  - {name: bloom, kind: cppn, model: m.onnx}
cues:
  - {at: 0, scene: drift}
  - {at: 12.5, scene: bloom, fade: 3, curve: linear}
""")
    assert cue_sheet(show) == ["  cue  trigger       scene  how",
                               "    1  at 0 s        drift  cut",
                               "    2  at 12.5 s     bloom  fade 3 s, linear",
                               "  the cue list repeats every 20 s"]


def test_a_wrong_type_names_its_line(tmp_path):
    message = error_of(tmp_path, """
output:
  width: 640
  fps: fast
scenes: [{name: a, kind: cppn, model: m.onnx}]
""")
    assert ":4: output.fps:" in message and "number" in message


def test_a_missing_model_names_the_scene_and_the_path(tmp_path):
    message = error_of(tmp_path, """
scenes:
  - {name: a, kind: cppn, model: m.onnx}
  - {name: glow, kind: cppn, model: ../nowhere/glow.onnx}
""")
    assert ":4: scenes[1].model: scene 'glow'" in message and "glow.onnx" in message


def test_a_cue_naming_no_scene_is_refused(tmp_path):
    message = error_of(tmp_path, """
scenes: [{name: a, kind: cppn, model: m.onnx}]
cues: [{at: 1, scene: b}]
""")
    assert message.endswith("show.yaml:3: cues[0].scene: 'b' is not a scene; scenes are: a"), message


def test_broken_yaml_names_the_line(tmp_path):
    message = error_of(tmp_path, "scenes:\n  - name: a\n   kind: [\n")
    assert "show.yaml:" in message and "not valid YAML" in message


def test_yaml_tags_that_would_build_python_objects_are_refused(tmp_path):
    message = error_of(tmp_path, "scenes: !!python/object/apply:os.system ['true']\n")
    assert "not valid YAML" in message


def test_odd_output_sizes_are_refused_since_recordings_need_even_ones(tmp_path):
    message = error_of(tmp_path, "output: {width: 641}\nscenes: [{name: a, kind: cppn, model: m.onnx}]\n")
    assert "output.width" in message and "multiple of 2" in message


def test_every_component_block_refuses_unknown_keys(tmp_path):
    for block, meant in (("engine: {provider: cpu}", "providers"), ("window: {fulscreen: true}", "fullscreen"),
                         ("output: {fsp: 30}", "fps")):
        message = error_of(tmp_path, block + "\nscenes: [{name: a, kind: cppn, model: m.onnx}]\n")
        assert "unknown key" in message and ":1: " in message, message
        assert message.endswith(f"did you mean {meant!r}?") or meant == "fps", message


@pytest.mark.parametrize("text, expected", [
    ("scenes: [{name: a, kind: cppn, model: m.onnx}]\nidle: b\n", "show.yaml:2: idle: 'b' is not a scene"),
    ("scenes:\n  - {name: a, kind: cppn, model: m.onnx}\n  - {name: a, kind: cppn, model: m.onnx}\n",
     "show.yaml:3: scenes[1].name: 'a' is the name of an earlier scene too"),
    ("scenes:\n  - {name: Snow GAN, kind: cppn, model: m.onnx}\n",
     "show.yaml:2: scenes[0].name: 'Snow GAN': use lower-case letters"),
    ("scenes: [{name: a, kind: cppn, model: m.onnx}]\nmappings:\n  - {lfo: {period: 2}, to: cppn.scael}\n",
     "show.yaml:3: mappings[0].to: 'cppn.scael' is not a parameter; did you mean cppn.scale?"),
    ("scenes: [{name: a, kind: cppn, model: m.onnx}]\nmappings:\n  - {lfo: {}, to: a.scale, out: [0, 99]}\n",
     "show.yaml:3: mappings[0].out: [0.0, 99.0] goes outside a.scale's range"),
])
def test_cross_checks_name_their_own_line_and_key(tmp_path, text, expected):
    assert expected in error_of(tmp_path, text)


@pytest.mark.parametrize("cue, problem", [
    ("{scene: a}", "give one of them, not none"),
    ("{at: 1, go: true, scene: a}", "not at and go"),
    ("{wait: 2, at: 1, scene: a}", "not at and wait"),
])
def test_a_cue_has_exactly_one_trigger(tmp_path, cue, problem):
    message = error_of(tmp_path, f"scenes: [{{name: a, kind: cppn, model: m.onnx}}]\ncues:\n  - {cue}\n")
    assert ":3: cues[0]" in message and problem in message, message


def test_a_cue_list_plays_once_and_its_sheet_says_how_each_cue_fires(tmp_path):
    message = error_of(tmp_path, "length: 20\nscenes: [{name: a, kind: cppn, model: m.onnx}]\n"
                                 "cues:\n  - {go: true, scene: a}\n")
    assert ":1: length: a show with GO or wait cues plays its cue list once" in message
    from live.show.schema import cue_sheet

    show = parse(tmp_path, "scenes: [{name: a, kind: cppn, model: m.onnx}]\ncues:\n"
                           "  - {at: 0, scene: a}\n  - {go: true, scene: a, fade: 2}\n  - {wait: 1.5, scene: a}\n")
    assert [line.split()[1] for line in cue_sheet(show)[1:]] == ["at", "GO", "wait"]


def test_cues_on_the_beat_need_a_tempo_source(tmp_path):
    cue = "cues:\n  - {go: true, scene: a, quantise: bar}\n"
    message = error_of(tmp_path, f"scenes: [{{name: a, kind: cppn, model: m.onnx}}]\n{cue}")
    assert ":3: cues[0].quantise: fires on the bar, but the show has no tempo" in message
    message = error_of(tmp_path, f"tempo: {{source: audio}}\nscenes: [{{name: a, kind: cppn, model: m.onnx}}]\n{cue}")
    assert "tempo.source: the tempo comes from the audio input, but the show has none" in message
    message = error_of(tmp_path, f"tempo: {{offset: 1}}\nscenes: [{{name: a, kind: cppn, model: m.onnx}}]\n{cue}")
    assert "a fixed tempo needs bpm" in message
    message = error_of(tmp_path, "tempo:\n  source: osc\n  bpm: 120\nscenes: [{name: a, kind: cppn, model: m.onnx}]\n")
    assert ":3: tempo.bpm: the beats come from /latentstage/beat, so bpm means nothing here" in message, message
    show = parse(tmp_path, f"tempo: {{source: audio, bpm: 135}}\naudio: {{kind: input}}\n"
                           f"scenes: [{{name: a, kind: cppn, model: m.onnx}}]\n{cue}")
    assert show.tempo.bpm == 135  # with the tracker: "about 135", its octave pinned near it


@pytest.mark.parametrize("setting, problem", [
    ("{sclae: 3}", "scene 'a' has no parameter 'sclae'; did you mean 'scale'?"),
    ("{scale: 300}", "300"),
])
def test_a_cue_sets_only_parameters_its_scene_has_within_their_range(tmp_path, setting, problem):
    message = error_of(tmp_path, f"scenes: [{{name: a, kind: cppn, model: m.onnx}}]\n"
                                 f"cues:\n  - {{at: 0, scene: a, set: {setting}}}\n")
    assert ":3: cues[0].set." in message and problem in message, message


KEYFRAMED = """scenes:
  - name: drift
    kind: cppn
    model: m.onnx
    cppn: {keyframes: 5, named_keyframes: {calm: 0, storm: 3}}
  - {name: edges, kind: pipeline, source: {kind: pattern}}
cues:
"""


@pytest.mark.parametrize("cue, problem", [
    ("{at: 1, scene: drift, keyframe: strom}", (":8: cues[0].keyframe: scene 'drift' has no keyframe named 'strom'; "
                                                "did you mean 'storm'? it has: calm, storm")),
    ("{at: 1, scene: edges, keyframe: storm}", (":8: cues[0].keyframe: scene 'edges' is a pipeline scene; "
                                                "only a cppn or gan scene has a latent")),
])
def test_a_keyframe_cue_names_a_keyframe_of_its_cppn_scene(tmp_path, cue, problem):
    message = error_of(tmp_path, KEYFRAMED + f"  - {cue}\n")
    assert problem in message, message


def test_a_keyframe_cue_to_a_scene_that_names_none_says_how_its_kind_names_them(tmp_path):
    show = KEYFRAMED.replace(", named_keyframes: {calm: 0, storm: 3}", "") + "  - {at: 1, scene: drift, keyframe: storm}\n"
    message = error_of(tmp_path, show)
    assert (":8: cues[0].keyframe: scene 'drift' has no keyframe named 'storm'; it names none: give it "
            "`cppn: {named_keyframes: {NAME: INDEX}}`") in message, message


def test_a_named_keyframe_is_one_of_the_walk_s_and_the_sheet_says_where_the_latent_goes(tmp_path):
    message = error_of(tmp_path, KEYFRAMED.replace("storm: 3", "storm: 5"))
    assert ":5: scenes[0].cppn.named_keyframes.storm: keyframe 5, but the walk has 5 (0 .. 4)" in message, message
    from live.show.schema import cue_sheet

    show = parse(tmp_path, KEYFRAMED + "  - {at: 0, scene: drift}\n  - {at: 2, scene: drift, keyframe: storm, fade: 4}\n"
                                       "  - {at: 8, scene: edges}\n  - {at: 9, scene: drift, keyframe: calm, fade: 1}\n")
    hows = ["  cut", "  latent to keyframe storm over 4 s, smooth", "  cut", "  fade 1 s, smooth; latent to keyframe calm"]
    assert all(line.endswith(how) for line, how in zip(cue_sheet(show)[1:], hows, strict=True)), cue_sheet(show)
