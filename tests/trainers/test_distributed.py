"""trainers.common.device and distributed: device names with clear errors, and data-parallel training
with torchrun on two CPU processes (gloo): identical weights on both, one checkpoint from rank 0, and
the same training as one process with the two shards in one batch."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.trainers import ddp_run
from tests.trainers.tiny import tiny_trainer
from trainers.common.checkpoint import load_checkpoint
from trainers.common.device import choose_device
from trainers.common.distributed import Placement, placed

REPO = Path(__file__).resolve().parents[2]
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the errors of a machine without CUDA")


def test_cpu_and_the_default_without_a_gpu():
    assert choose_device("cpu") == torch.device("cpu")
    assert choose_device(" CPU ") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert choose_device(None) == torch.device("cpu")


@no_cuda
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "0", 1])
def test_asking_for_cuda_without_it_is_a_clear_error(spec):
    with pytest.raises(ValueError, match=rf"device '{spec}': CUDA is not available here"):
        choose_device(spec)


@pytest.mark.parametrize("spec", ["tpu", "cuda:x", "-1", "gpu0"])
def test_unknown_devices_are_refused(spec):
    with pytest.raises(ValueError, match=r"unknown device .*: use cpu, cuda, cuda:N or a GPU index N"):
        choose_device(spec)


def test_torchrun_processes_may_not_pin_one_gpu():
    with pytest.raises(ValueError, match="each process takes the GPU of its LOCAL_RANK"):
        choose_device("cuda:1", local_rank=0)


def test_a_process_outside_torchrun_is_rank_0_of_1(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    with placed("cpu") as placement:
        assert placement == Placement(torch.device("cpu"), rank=0, world_size=1)
        assert placement.is_main and placement.any(True) and placement.gather("x") == ["x"]
        network = torch.nn.Linear(1, 1)
        assert placement.wrap(network) is network


def test_two_gloo_processes_under_torchrun_train_as_one(tmp_path):
    (tmp_path / "evidence").mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "tests.trainers.ddp_run", str(tmp_path)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    ranks = [torch.load(tmp_path / "evidence" / f"rank{rank}.pt", weights_only=True) for rank in (0, 1)]
    assert [rank["world_size"] for rank in ranks] == [2, 2]
    for name, tensor in ranks[0]["weights"].items():
        assert torch.equal(tensor, ranks[1]["weights"][name]), f"{name} differs between the processes"
    assert ranks[0]["losses"] == ranks[1]["losses"]  # averaged over both shards

    # rank 0 alone wrote the trainer's files: one checkpoint, holding both processes' random states
    assert sorted(path.name for path in tmp_path.iterdir()) == ["evidence", "tiny.pt"]
    checkpoint = load_checkpoint(tmp_path / "tiny.pt", "tiny")
    assert checkpoint.step == ddp_run.STEPS and len(checkpoint.rng) == 2
    for name, tensor in ranks[0]["weights"].items():
        assert torch.equal(checkpoint.networks["mlp"][name], tensor)

    # two shards of 2 per step are one batch of 4: one process with batches of 4 trains the same
    alone = tiny_trainer(dataclasses.replace(ddp_run.CONFIG, batch_size=4))
    alone.run(ddp_run.STEPS)
    for name, tensor in alone.recipe.network.state_dict().items():
        torch.testing.assert_close(ranks[0]["weights"][name], tensor, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ranks[0]["losses"]["mse"], alone.losses["mse"], rtol=1e-5, atol=1e-6)
