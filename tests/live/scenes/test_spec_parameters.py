"""A scene's parameters, known from its show block and its model's card before anything is built.

`osc list`, `midi learn` and the show's checks read them without opening an ONNX Runtime session; a scene
built from the same block must then have exactly these parameters, defaults included (the CPPN's scale from
its card, a pix2pix scene's Canny sigma from the edges its card says it was trained on, a style model's
extra inputs).
"""
import shutil

import onnx
import pytest
import yaml

from live.control.osc import address_table
from live.inference.engine import EngineError
from live.show.conductor import Conductor
from live.show.schema import load_show
from live.show.stage import Stage
from tests.conftest import REPO

BUNDLED_SHOWS = sorted((REPO / "shows").glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED_SHOWS, ids=lambda path: path.stem)
def test_each_bundled_show_s_bus_from_its_blocks_and_cards_is_the_one_its_built_scenes_make(path):
    show = load_show(path)
    stage = Stage.build(show, rehearsal=True, warm_up=False)
    built = Conductor.build(show, stage.scenes, rehearsal=True).bus
    declared = show.control_bus()
    assert address_table(declared) == address_table(built)  # names, kinds, ranges, defaults and meanings
    assert declared.parameters() == built.parameters()


def test_defaults_a_block_leaves_to_its_model_s_card_come_from_the_card(tmp_path):
    """A CPPN with no scale starts at its card's (the fitted astronaut's 2.5, not the kind's 8); a pix2pix
    scene with no Canny step at the sigma its card's edges were made with."""
    edges = onnx.load(REPO / "models" / "pix2pix-snow.onnx")
    next(prop for prop in edges.metadata_props if prop.key == "latentstage.extra.canny_sigma").value = "0.21"
    onnx.save(edges, tmp_path / "edges.onnx")
    show = tmp_path / "cards.yaml"
    show.write_text(yaml.safe_dump({"scenes": [
        {"name": "face", "kind": "cppn", "model": str(REPO / "models" / "cppn-astronaut.onnx")},
        {"name": "snow", "kind": "pipeline", "model": "edges.onnx", "source": {"kind": "pattern"}},
        {"name": "plain", "kind": "pipeline", "source": {"kind": "pattern"}, "chain": [{"canny": {"sigma": 0.45}}]},
    ]}))
    parameters = {parameter.name: parameter.default for parameter in load_show(show).control_bus().parameters()}
    assert (parameters["face.scale"], parameters["snow.canny.sigma"], parameters["plain.canny.sigma"]) == \
        (2.5, 0.21, 0.45)


def test_a_model_whose_card_cannot_be_read_is_named_not_guessed(tmp_path):
    broken = tmp_path / "half.onnx"
    shutil.copyfile(REPO / "models" / "cppn-tanh.onnx", broken)
    broken.write_bytes(broken.read_bytes()[:5000])  # a half-copied file: cut inside its graph
    show = tmp_path / "broken.yaml"
    show.write_text(yaml.safe_dump({"scenes": [{"name": "drift", "kind": "cppn", "model": "half.onnx"}]}))
    loaded = load_show(show)  # the show's own checks leave the file to preflight, which names it
    with pytest.raises(EngineError, match="half.onnx: not a readable ONNX file"):
        loaded.control_bus()

