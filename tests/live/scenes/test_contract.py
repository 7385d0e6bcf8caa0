"""The scene contract end to end: a parameter declared once on a scene kind reaches every place it must.

A kind that declares one more parameter in its PARAMETERS, and nothing else,
gets it in `osc list`, on its scene's OSC address over real UDP, in the
scene's render, and modulated around the performer's value by an LFO mapping.
"""
import numpy as np
import pytest
import yaml
from pythonosc.udp_client import SimpleUDPClient

import live.scenes.kinds as kinds
from live.cli import main
from live.control.parameters import Parameter
from live.scenes.contract import Moment
from live.scenes.cppn import CppnScene
from live.scenes.pipeline import PipelineScene
from live.show.conductor import Conductor
from live.show.schema import load_show
from live.show.stage import Stage
from tests.conftest import REPO, wait_for


class TintedCppn(CppnScene):
    """The CPPN kind with a red tint: the one new declaration, and the one read of it in render."""

    PARAMETERS = CppnScene.PARAMETERS + (
        Parameter("tint", "float", 0.0, 0.0, 1.0, description="red mixed over the picture, fraction"),)
    heard: list[float] = []  # tints that reached render, in order

    def render(self, moment: Moment, width: int, height: int) -> np.ndarray:
        rgb = super().render(moment, width, height)
        tint = moment.values["tint"]
        type(self).heard.append(tint)
        rgb[..., 0] = (rgb[..., 0] * (1.0 - tint) + 255 * tint).astype(np.uint8)
        return rgb


@pytest.fixture
def tinted_kind(monkeypatch):
    monkeypatch.setattr(kinds, "SCENE_KINDS", (TintedCppn, PipelineScene))
    TintedCppn.heard = []


def tinted_show(tmp_path):
    show = {
        "output": {"width": 64, "height": 36, "fps": 10},
        "osc": {"port": 0},
        "scenes": [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx")}],
        # a square LFO: 0.2 for the first half of each 2 s period, then 0.0; its rest is the middle, 0.1
        "mappings": [{"lfo": {"shape": "square", "period": 2.0}, "to": "cppn.tint", "out": [0.0, 0.2]}],
    }
    path = tmp_path / "tinted.yaml"
    path.write_text(yaml.safe_dump(show))
    return path


def test_a_parameter_declared_once_reaches_osc_list_osc_the_render_and_modulation(tmp_path, tinted_kind, capsys):
    path = tinted_show(tmp_path)
    assert main(["osc", "list", str(path)]) == 0
    listing = capsys.readouterr().out
    assert "/latentstage/drift/tint" in listing and "/latentstage/cppn/tint" in listing
    assert "red mixed over the picture, fraction" in listing

    show = load_show(path)
    stage = Stage.build(show)
    controls = Conductor.build(show, stage.scenes)
    controls.start()
    try:
        SimpleUDPClient(*controls.osc.address).send_message("/latentstage/drift/tint", 0.5)  # exact in OSC float32
        assert wait_for(lambda: controls.bus.get("drift.tint") == 0.5, timeout=30.0), controls.osc.last_error
        pictures = {}
        for t in (0.5, 1.5):  # the square LFO high, then low
            controls.update(t, stage.director)
            pictures[t] = stage.frame_at(t, copy=True, moment_for=controls.moment).current
    finally:
        controls.stop()
    assert TintedCppn.heard[-2:] == pytest.approx([0.6, 0.4])  # 0.5 -/+ the LFO's 0.1 around its rest
    assert controls.bus.get("drift.tint") == 0.5  # the performer's value was never overwritten
    assert pictures[0.5][..., 0].mean() > pictures[1.5][..., 0].mean()  # more red with more tint
