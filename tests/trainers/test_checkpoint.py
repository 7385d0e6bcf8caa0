"""trainers.common.checkpoint and rng: one file holds a run's whole state, is written atomically,
loads with weights_only, and is refused in one line when it is missing, broken or foreign."""
from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch

from trainers.common import checkpoint as checkpoint_module
from trainers.common.checkpoint import FORMAT_VERSION, Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from trainers.common.rng import capture_rng, restore_rng


def example(step: int = 3) -> Checkpoint:
    network = torch.nn.Linear(3, 2)
    adam = torch.optim.Adam(network.parameters())
    network(torch.ones(1, 3)).sum().backward()
    adam.step()  # so the optimizer has state tensors to store
    return Checkpoint(kind="tiny", config={"lr": 0.1, "network": {"width": 2}, "name": "x"},
                      networks={"net": network.state_dict()}, optimizers={"adam": adam.state_dict()},
                      data={"epoch": 1, "position": 2}, rng=[capture_rng()], step=step,
                      losses={"mse": [0.5, 0.25, 0.125]}, provenance={"command": "pytest", "data": "none"})


def test_a_checkpoint_comes_back_whole(tmp_path):
    saved = example()
    path = save_checkpoint(saved, tmp_path / "deep" / "run.pt")
    loaded = load_checkpoint(path, "tiny")
    assert (loaded.kind, loaded.config, loaded.data, loaded.step) == ("tiny", saved.config, saved.data, 3)
    assert (loaded.losses, loaded.provenance) == (saved.losses, saved.provenance)
    for name, tensor in saved.networks["net"].items():
        assert torch.equal(loaded.networks["net"][name], tensor)
    torch.testing.assert_close(loaded.optimizers["adam"]["state"][0]["exp_avg"],
                               saved.optimizers["adam"]["state"][0]["exp_avg"], rtol=0, atol=0)
    assert torch.equal(loaded.rng[0]["torch"], saved.rng[0]["torch"])


def test_random_states_restore_every_stream():
    state = capture_rng()
    drawn = (random.random(), np.random.normal(size=3), torch.rand(3))
    restore_rng(state)
    again = (random.random(), np.random.normal(size=3), torch.rand(3))
    assert drawn[0] == again[0]
    np.testing.assert_array_equal(drawn[1], again[1])
    assert torch.equal(drawn[2], again[2])


def test_the_random_states_survive_a_weights_only_file(tmp_path):
    np.random.normal()  # leaves a cached gaussian in NumPy's state
    path = save_checkpoint(Checkpoint(kind="tiny", config={}, networks={}, rng=[capture_rng()]), tmp_path / "r.pt")
    expected = np.random.normal(size=4)
    restore_rng(load_checkpoint(path, "tiny").rng[0])
    np.testing.assert_array_equal(np.random.normal(size=4), expected)


def test_a_write_interrupted_half_way_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(example(step=1), tmp_path / "run.pt")

    def interrupted_save(payload, file):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # Ctrl-C during the write

    monkeypatch.setattr(checkpoint_module.torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(example(step=2), path)
    monkeypatch.undo()
    assert load_checkpoint(path, "tiny").step == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"], "no temporary file is left behind"


def test_a_successful_write_leaves_no_temporary_files(tmp_path):
    for step in range(3):
        save_checkpoint(example(step), tmp_path / "run.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]


class NotPlain:
    """Pickling this stores a class reference: the kind of thing weights_only refuses to run."""


@pytest.mark.parametrize("case, message", [
    ("missing", r"no such checkpoint file"),
    ("truncated", r"not a readable checkpoint: corrupt, truncated or not written by latentstage"),
    ("garbage", r"not a readable checkpoint"),
    ("pickled object", r"not a readable checkpoint"),
    ("not a dict", r"not a 'tiny' checkpoint \(its kind is 'list'\)"),
    ("other kind", r"not a 'tiny' checkpoint \(its kind is 'pix2pix'\)"),
    ("other version", rf"checkpoint format version 99, this latentstage reads version {FORMAT_VERSION}"),
    ("unversioned", r"checkpoint format version None"),
    ("incomplete", r"checkpoint lacks optimizers, schedulers"),
])
def test_bad_checkpoints_are_refused_in_one_line_naming_the_file(tmp_path, case, message):
    path = tmp_path / "bad.pt"
    good = save_checkpoint(example(), tmp_path / "good.pt").read_bytes()
    payload = {"format_version": FORMAT_VERSION, **vars(example())}
    if case == "truncated":
        path.write_bytes(good[:len(good) // 2])
    elif case == "garbage":
        path.write_bytes(b"\x80\x02not a checkpoint at all")
    elif case == "pickled object":
        torch.save({**payload, "config": NotPlain()}, path)
    elif case == "not a dict":
        torch.save([1, 2], path)
    elif case == "other kind":
        torch.save({**payload, "kind": "pix2pix"}, path)
    elif case == "other version":
        torch.save({**payload, "format_version": 99}, path)
    elif case == "unversioned":
        torch.save({key: value for key, value in payload.items() if key != "format_version"}, path)
    elif case == "incomplete":
        torch.save({key: value for key, value in payload.items() if key not in ("optimizers", "schedulers")}, path)
    with pytest.raises(CheckpointError, match=rf"^{re.escape(str(path))}: {message}") as error:
        load_checkpoint(path, "tiny")
    assert "\n" not in str(error.value)
