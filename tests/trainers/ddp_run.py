"""Started by test_distributed under torchrun: the tiny recipe trained by every process with DDP.

Each process saves its own final weights and losses (test evidence only, beside
what the trainer writes) so the test can compare the processes; the trainer's
own checkpoint is written by rank 0 alone.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from tests.trainers.tiny import TinyConfig, tiny_trainer
from trainers.common.callbacks import Checkpointing, ProgressBar
from trainers.common.distributed import placed

STEPS = 6
# no dropout or jitter, so two processes with batches of 2 match one process with batches of 4
CONFIG = TinyConfig(items=8, batch_size=2, dropout=0.0, jitter=0.0)


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)
    with placed("cpu") as placement:
        trainer = tiny_trainer(CONFIG, placement, [ProgressBar("ddp"), Checkpointing(out_dir / "tiny.pt", every=2)])
        trainer.run(STEPS)
        evidence = {"weights": trainer.recipe.network.state_dict(), "losses": trainer.losses,
                    "world_size": placement.world_size}
        torch.save(evidence, out_dir / "evidence" / f"rank{placement.rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
