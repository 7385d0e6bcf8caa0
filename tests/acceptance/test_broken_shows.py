"""Acceptance: a suite of broken show files, each refused by the installed command in one clear line.

README promise checked here ("Shows"): "`latentstage check SHOW` rejects a broken show with its file, line and
key (and a "did you mean" for a misspelt key), in one line, exit code 2, no traceback"; `run` and `rehearse`
refuse the same files the same way before they open anything, those whose models or media are wrong (read
by the one preflight all three commands run) as much as those whose text is. Each file in broken_shows/ says in
its first line what is broken in it; the files a repository cannot hold (a huge one, a directory, a missing
one) are made here, and no_pictures/ is a folder with no picture in it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import latentstage

BROKEN = Path(__file__).parent / "broken_shows"

# file -> (line, key, what the message must say); line None: a problem of the whole file, before any line
CASES = {
    "yaml_syntax": (4, "cues", ("not valid YAML: expected ',' or '}', but got ':' (while parsing a flow mapping "
                                "that starts on line 3)")),
    "tab_indent": (4, "kind", ("not valid YAML: found character '\\t' that cannot start any token (YAML indents "
                               "with spaces, not tabs)")),
    "empty": (1, "scenes", "the file holds nothing; a show file is a mapping of keys with at least a 'scenes' list"),
    "not_a_mapping": (2, "scenes", "the file holds a list; a show file is a mapping of keys"),
    "unknown_top_key": (3, "lenght", "unknown key; did you mean 'length'?"),
    "misspelt_scenes": (4, "scense", "unknown key; did you mean 'scenes'?"),
    "misspelt_scene_key": (5, "scenes[0].modle", "unknown key; did you mean 'model'?"),
    "unknown_scene_kind": (4, "scenes[0].kind", "there is no kind 'diffusion' here; kinds are: cppn, pipeline, gan"),
    "wrong_type": (2, "output.fps", "Input should be a valid number"),
    "missing_model": (3, "scenes[0].model", ("scene 'drift' names ../../../models/cppn-nowhere.onnx, which does "
                                             "not exist")),
    "model_not_onnx": (5, "scenes[0].model", "not_a_model.onnx: not a readable ONNX file"),
    "duplicate_scene": (4, "scenes[1].name", "'drift' is the name of an earlier scene too"),
    "cue_unknown_scene": (6, "cues[1].scene", "'bloom' is not a scene; scenes are: drift"),
    "cue_two_triggers": (6, "cues[1]", "give one of them, not at and go"),
    "cue_no_trigger": (5, "cues[0]", "give one of them, not none"),
    "beat_cue_no_tempo": (6, "cues[1].quantise", "fires on the bar, but the show has no tempo"),
    "audio_tempo_no_audio": (2, "tempo.source", "the tempo comes from the audio input, but the show has none"),
    "osc_tempo_with_bpm": (2, "tempo.bpm", "the beats come from /latentstage/beat, so bpm means nothing here"),
    "midi_tempo_no_device": (2, "tempo.midi_in", "MIDI clock needs the device it comes from"),
    "link_follow_and_lead": (2, "tempo.lead", "the show follows Link, so it cannot lead it too"),
    "fallback_fixed_no_bpm": (2, "tempo.fallback", "falling back to a fixed tempo needs its bpm"),
    "unknown_tempo_source": (2, "tempo.source", "Input should be 'fixed', 'audio', 'osc', 'link' or 'midi'"),
    "auto_follow_loop": (2, "length", "repeating it would loop its waits with no end: remove length"),
    "set_unknown_parameter": (5, "cues[0].set.sclae", "scene 'drift' has no parameter 'sclae'; did you mean 'scale'?"),
    "set_out_of_range": (5, "cues[0].set.scale", "drift.scale: 300.0 is above its maximum 64.0"),
    "negative_fade": (5, "cues[0].fade", "greater than or equal to 0"),
    "bad_mapping_target": (6, "mappings[0].to", "'cppn.zoom' is not a parameter"),
    "bad_osc_port": (2, "osc.port", "less than or equal to 65535"),
    "unknown_keyframe": (9, "cues[1].keyframe", "scene 'drift' has no keyframe named 'strom'; did you mean 'storm'?"),
    "keyframe_on_pipeline": (6, "cues[0].keyframe", "scene 'edges' is a pipeline scene"),
    "garbage": (1, None, "a show file is UTF-8 text; byte 0 is not"),
    # what only reading the models and media can tell (live/show/preflight.py), refused alike by all three
    "cppn_model_on_pipeline": (7, "scenes[1].model", ("cppn-sine.onnx is a cppn model, but scene 'mirror' is a "
                                                      "pipeline scene, which runs pix2pix or style models")),
    "sr_model_on_pipeline": (7, "scenes[1].model", ("sr-paintings.onnx is a sr model, but scene 'mirror' is a "
                                                    "pipeline scene, which runs pix2pix or style models")),
    "model_is_folder": (3, "scenes[0].model", "models: a folder, not a model file; name the .onnx file in it"),
    "no_pictures": (9, "scenes[1].source.folder", "cannot show its input: " + str(BROKEN / "no_pictures")
                    + ": no images (.png"),
    "video_not_decodable": (5, "scenes[0].source.path", "not_a_video.mp4: not a video PyAV can decode"),
    "audio_not_sound": (2, "audio.path", "not_a_video.mp4: not a sound file PyAV can decode"),
    "feedback_host_unknown": (6, "osc.feedback", "feedback host 'lighting-desk.invalid' does not resolve"),
    "bad_mapping_out": (7, "mappings[0].out", "[2.0, 300.0] goes outside drift.scale's range 0.1..64.0"),
}
PREFLIGHT = ("cppn_model_on_pipeline", "sr_model_on_pipeline", "model_is_folder", "no_pictures", "video_not_decodable", "audio_not_sound",
             "feedback_host_unknown", "bad_mapping_out")


def made(kind: str, folder: Path) -> Path:
    """The broken 'files' a repository cannot hold."""
    if kind == "huge":
        path = folder / "huge.yaml"
        path.write_text("# a log pasted in by mistake\n" + "x: 1\n" * 300_000)  # 1.5 MB
    elif kind == "directory":
        path = folder / "show.yaml"
        path.mkdir()
    else:
        path = folder / "missing.yaml"
    return path


MADE = {"huge": "bytes; a show file is at most 1048576 bytes (is it the right file?)",
        "directory": "cannot read the show file: Is a directory",
        "missing": "cannot read the show file: No such file or directory"}


def refusal(*args: str) -> str:
    """The one line the installed command wrote to stderr as it refused, exit code 2."""
    result = latentstage(*args, timeout=120)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_suite_holds_every_broken_file_and_each_says_what_is_broken_in_it():
    files = {path.stem for path in BROKEN.glob("*.yaml")}
    assert files == set(CASES) and len(CASES) + len(MADE) >= 20
    for name in files - {"garbage"}:
        assert (BROKEN / f"{name}.yaml").read_text().startswith("# Broken: "), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_refuses_a_broken_show_naming_its_file_line_and_key(name):
    line, key, message = CASES[name]
    path = BROKEN / f"{name}.yaml"
    refused = refusal("check", str(path))
    where = f"latentstage: {path}:{line}: " + (f"{key}: " if key else "")
    assert refused.startswith(where) and message in refused, f"{refused!r} does not start with {where!r}"


@pytest.mark.parametrize("kind", sorted(MADE))
def test_check_refuses_a_file_that_is_no_show_at_all(tmp_path, kind):
    path = made(kind, tmp_path)
    refused = refusal("check", str(path))
    assert refused.startswith(f"latentstage: {path}: ") and MADE[kind] in refused, refused


@pytest.mark.parametrize("name, command", [
    ("unknown_keyframe", "rehearse"), ("model_not_onnx", "rehearse"), ("yaml_syntax", "run"), ("model_not_onnx", "run"),
    *((name, command) for name in PREFLIGHT for command in ("run", "rehearse")),
])
def test_run_and_rehearse_refuse_it_the_same_way_before_they_open_anything(tmp_path, name, command):
    path = BROKEN / f"{name}.yaml"
    output = ["-o", str(tmp_path / "preview.mp4"), "--seconds", "1"] if command == "rehearse" else \
        ["--headless", "--seconds", "1"]
    refused = refusal(command, str(path), *output)
    assert refused == refusal("check", str(path))
    assert not (tmp_path / "preview.mp4").exists()
    assert re.match(rf"latentstage: {re.escape(str(path))}:\d+: ", refused)
