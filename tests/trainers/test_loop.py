"""trainers.common.loop and callbacks: a stopped and resumed run continues the very same curve,
Ctrl-C stops on a completed step, sample grids and loss plots are real PNGs, resume refuses
checkpoints of another run."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from tests.trainers.tiny import StopAfter, TinyConfig, TinyRecipe, tiny_trainer
from trainers.common.callbacks import Checkpointing, LossPlot, SampleGrid
from trainers.common.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from trainers.common.loop import Trainer

STEPS = 11  # three epochs of 4 batches, less one step


def assert_same_state(trainer: Trainer, other: Trainer) -> None:
    for name, tensor in trainer.recipe.network.state_dict().items():
        assert torch.equal(tensor, other.recipe.network.state_dict()[name]), name
    momentum = [trainer.recipe.sgd.state[p]["momentum_buffer"] for p in trainer.recipe.network.parameters()]
    other_momentum = [other.recipe.sgd.state[p]["momentum_buffer"] for p in other.recipe.network.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(momentum, other_momentum))
    assert trainer.recipe.schedulers["lr"].get_last_lr() == other.recipe.schedulers["lr"].get_last_lr()


@pytest.mark.parametrize("stop", [4, 5])  # at an epoch's end, and inside the next epoch
def test_a_stopped_and_resumed_run_matches_an_uninterrupted_one_exactly(tmp_path, stop):
    whole = tiny_trainer(TinyConfig())
    whole.run(STEPS)

    path = tmp_path / "tiny.pt"
    stopped = tiny_trainer(TinyConfig(), callbacks=[StopAfter(stop), Checkpointing(path)])
    with pytest.raises(KeyboardInterrupt):
        stopped.run(STEPS)
    assert load_checkpoint(path, "tiny").step == stop

    resumed = tiny_trainer(TinyConfig())
    resumed.resume(path)
    assert resumed.step == stop
    resumed.run(STEPS)
    assert resumed.losses == whole.losses  # exact: every state and random stream came back
    assert len(resumed.losses["mse"]) == STEPS
    assert_same_state(resumed, whole)


def test_ctrl_c_during_a_step_finishes_it_saves_it_and_reraises(tmp_path, monkeypatch):
    train_step = TinyRecipe.train_step

    def pressed_during_step_3(self, batch, step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, half way through the step
        return train_step(self, batch, step)

    monkeypatch.setattr(TinyRecipe, "train_step", pressed_during_step_3)
    handler = signal.getsignal(signal.SIGINT)
    path = tmp_path / "tiny.pt"
    trainer = tiny_trainer(TinyConfig(), callbacks=[Checkpointing(path)])
    with pytest.raises(KeyboardInterrupt):
        trainer.run(STEPS)
    assert trainer.step == 3 and len(trainer.losses["mse"]) == 3
    checkpoint = load_checkpoint(path, "tiny")
    assert checkpoint.step == 3 and checkpoint.losses == trainer.losses
    assert signal.getsignal(signal.SIGINT) is handler  # the run's handler is gone


def test_a_second_ctrl_c_stops_at_once_and_saves_nothing(tmp_path, monkeypatch):
    train_step = TinyRecipe.train_step

    def pressed_twice_during_step_2(self, batch, step):
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return train_step(self, batch, step)

    monkeypatch.setattr(TinyRecipe, "train_step", pressed_twice_during_step_2)
    trainer = tiny_trainer(TinyConfig(), callbacks=[Checkpointing(tmp_path / "tiny.pt")])
    with pytest.raises(KeyboardInterrupt):
        trainer.run(STEPS)
    assert trainer.step == 1
    assert not any(tmp_path.iterdir()), "a half-done step must not be saved"


def test_sample_grids_do_not_change_the_training_curve(tmp_path):
    plain = tiny_trainer(TinyConfig())
    plain.run(6)
    sampled = tiny_trainer(TinyConfig(), callbacks=[SampleGrid(tmp_path / "{step}.png", every=1)])
    sampled.run(6)
    assert sampled.losses == plain.losses
    assert_same_state(sampled, plain)


def test_sample_grids_and_loss_plots_are_real_pngs_every_n_steps(tmp_path):
    trainer = tiny_trainer(TinyConfig(), callbacks=[SampleGrid(tmp_path / "samples" / "{step:03d}.png", every=2),
                                                     LossPlot(tmp_path / "loss.png", every=2, title="tiny")])
    trainer.run(5)
    assert sorted(path.name for path in (tmp_path / "samples").iterdir()) == ["002.png", "004.png", "005.png"]
    with Image.open(tmp_path / "samples" / "005.png") as grid:
        assert (grid.format, grid.size, grid.mode) == ("PNG", (16, 8), "RGB")
    with Image.open(tmp_path / "loss.png") as plot:
        assert plot.format == "PNG" and plot.size == (600, 350)
        assert np.asarray(plot.convert("L")).std() > 10  # lines and text, not a blank canvas
    assert not [path for path in tmp_path.rglob(".*")], "atomic writes leave no temporary files"


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    path = tmp_path / "tiny.pt"
    trainer = tiny_trainer(TinyConfig(), callbacks=[Checkpointing(path)])
    trainer.run(2)

    with pytest.raises(CheckpointError, match=r"tiny\.pt: this run differs from the checkpoint in "
                                              r"lr \(checkpoint 0\.05, this run 0\.1\)"):
        tiny_trainer(TinyConfig(lr=0.1)).resume(path)
    tiny_trainer(TinyConfig(lr=0.1)).resume(path, may_change=("lr",))  # a key the recipe lets change

    checkpoint = load_checkpoint(path, "tiny")
    checkpoint.rng = checkpoint.rng * 2
    save_checkpoint(checkpoint, path)
    with pytest.raises(CheckpointError, match=r"saved by 2 process\(es\), resumed by 1"):
        tiny_trainer(TinyConfig()).resume(path)

    checkpoint.kind = "cppn"
    save_checkpoint(checkpoint, path)
    with pytest.raises(CheckpointError, match=r"not a 'tiny' checkpoint \(its kind is 'cppn'\)"):
        tiny_trainer(TinyConfig()).resume(path)


def test_a_run_cannot_go_back_past_its_steps():
    trainer = tiny_trainer(TinyConfig())
    trainer.run(3)
    with pytest.raises(ValueError, match="already at step 3"):
        trainer.run(2)
