"""The `latentstage` command as a user meets it: help, checks, clear errors, and no torch in the runtime."""
import shutil
import subprocess
import sys
import zipfile

import yaml

from tests.conftest import DEMO_SHOW, REPO, run_cli

NO_TORCH = "import sys; sys.modules['torch'] = None; "


def test_live_runs_on_a_machine_without_torch(tmp_path):
    # torch made unimportable: every live module must still import, and a show must still rehearse
    modules = [".".join(path.relative_to(REPO).with_suffix("").parts) for path in (REPO / "live").rglob("*.py")
               if path.stem != "__main__"]
    assert len(modules) > 30 and "live.scenes.kinds" in modules  # every sub-package, not the top level alone
    code = NO_TORCH + "import importlib; [importlib.import_module(m) for m in %r]" % modules
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    code = NO_TORCH + f"from live.cli import main; raise SystemExit(main(['check', {str(DEMO_SHOW)!r}]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    scenes = len(yaml.safe_load(DEMO_SHOW.read_text())["scenes"])  # the demo grows; what it says must match
    assert f"ok, {scenes} scenes" in result.stdout


def test_trainer_commands_without_torch_say_what_to_install():
    code = NO_TORCH + "from live.cli import main; raise SystemExit(main(['cppn', 'sample']))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert "needs PyTorch" in result.stderr and "[train]" in result.stderr


def test_a_broken_show_is_one_clear_line_and_exit_code_2(tmp_path):
    show = tmp_path / "broken.yaml"
    show.write_text("scenes:\n  - {name: a, kind: cppn, model: missing.onnx}\n")
    result = run_cli("rehearse", str(show), "-o", str(tmp_path / "x.mp4"))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"latentstage: {show}:2: scenes[0].model: scene 'a' names missing.onnx, "
                                     f"which does not exist (looked for {tmp_path / 'missing.onnx'})")
    assert not (tmp_path / "x.mp4").exists()


def test_a_model_without_the_contract_names_the_file(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "bare",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), tmp_path / "bare.onnx")
    show = tmp_path / "show.yaml"
    show.write_text("scenes:\n  - {name: a, kind: cppn, model: bare.onnx}\n")
    result = run_cli("check", str(show))
    assert result.returncode == 2
    assert "bare.onnx" in result.stderr and "`latentstage cppn export`" in result.stderr
    assert run_cli("cppn", "export", "--help").returncode == 0  # the command the hint names exists


def test_python_dash_m_live_is_the_same_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("demo", "run", "rehearse", "check", "doctor", "cppn"):
        assert command in result.stdout


def test_demo_without_a_display_rehearses_into_the_file_it_names(tmp_path):
    out = tmp_path / "demo.mp4"
    result = run_cli("demo", "--seconds", "1", "-o", str(out), env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert result.returncode == 0, result.stderr
    assert f"rehearsing the demo show into {out}" in result.stdout and out.stat().st_size > 0


def test_demo_with_a_display_opens_a_window(xvfb_display):
    result = run_cli("demo", "--seconds", "2", env={"DISPLAY": xvfb_display})
    assert result.returncode == 0, result.stderr
    assert "playing the demo show in a window" in result.stdout and "presented" in result.stdout


def test_bad_command_line_input_is_one_clear_line(tmp_path):
    odd = run_cli("rehearse", "-o", str(tmp_path / "x.mp4"), "--size", "161x90")
    assert odd.returncode == 2 and "override refused: width: Input should be a multiple of 2" in odd.stderr
    windowless = run_cli("run", "--seconds", "1", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert windowless.returncode == 2 and "no display to open a window on" in windowless.stderr
    assert "Traceback" not in odd.stderr + windowless.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_every_bundled_show_passes_check():
    for show in sorted((REPO / "shows").glob("*.yaml")):
        result = run_cli("check", str(show))
        assert result.returncode == 0, f"{show.name}: {result.stderr}"
        assert "ok," in result.stdout and "Traceback" not in result.stderr
    mirror = run_cli("check", str(REPO / "shows" / "mirror.yaml"))
    assert "scene 'mirror': style-cezanne-slim.onnx (style in=rgb out=NCHW)" in mirror.stdout


def test_a_built_wheel_carries_every_package_show_and_model(tmp_path):
    """A non-editable install gets what an editable one sees: every sub-package, the shows, the models."""
    source = tmp_path / "source"  # a copy: pip builds in the tree it is given and would leave build/ behind
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "out", "build", "*.egg-info",
                                                                 "__pycache__", ".pytest_cache"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                             str(source)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("latentstage-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    packages = {str(path.parent.relative_to(REPO)) for top in ("live", "trainers", "exporters", "shows", "models")
                for path in (REPO / top).rglob("__init__.py")}
    assert {"trainers/pix2pix", "trainers/style", "trainers/common", "live/scenes"} <= packages
    missing = {package for package in packages if f"{package}/__init__.py" not in names}
    assert not missing, f"the wheel lacks {sorted(missing)}"
    assert {"shows/demo.yaml", "shows/mirror.yaml", "shows/vj.yaml", "models/cppn-tanh.onnx"} <= names
