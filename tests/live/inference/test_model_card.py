"""The model card's kinds are registered by the kinds themselves: a new kind of model file is readable once
its code registers it (what its input holds, the fields it must give, its log line), and not before."""
from __future__ import annotations

import pytest

from live.inference.model_card import CardKind, ModelCard, ModelCardError, card_kinds, register_card_kind


def test_the_built_in_kinds_register_themselves():
    assert {"pix2pix", "style", "cppn"} <= set(card_kinds())
    cppn = ModelCard(kind="cppn", input="latent", output_layout="HWC", z_dim=8, c_dim=3, scale=2.0, arch="tanh")
    assert ModelCard.from_metadata(cppn.to_metadata()).describe() == "cppn in=latent out=HWC z=8 c=3 scale=2.0 arch=tanh"


def test_a_kind_registered_elsewhere_is_read_checked_and_described():
    card = ModelCard(kind="test-painter", input="latent", output_layout="NCHW", z_dim=64)
    with pytest.raises(ModelCardError, match=r"kind is 'test-painter', expected one of \("):
        ModelCard.from_metadata(card.to_metadata(), "painter.onnx")
    register_card_kind(CardKind("test-painter", ("latent",), required=("z_dim",),
                                describe=lambda made: f"z={made.z_dim}"))
    assert ModelCard.from_metadata(card.to_metadata()) == card
    assert card.describe() == "test-painter in=latent out=NCHW z=64"
    without_z = {key: value for key, value in card.to_metadata().items() if not key.endswith("z_dim")}
    with pytest.raises(ModelCardError, match="painter.onnx: a test-painter model must give z_dim"):
        ModelCard.from_metadata(without_z, "painter.onnx")
    edges = ModelCard(kind="test-painter", input="edges", output_layout="NCHW", z_dim=64).to_metadata()
    with pytest.raises(ModelCardError, match=r"input is 'edges', expected one of \('latent',\)"):
        ModelCard.from_metadata(edges, "painter.onnx")
