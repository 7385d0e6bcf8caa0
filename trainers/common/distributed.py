"""Where a training process runs: its device and its place among torchrun's processes.

Run alone, a trainer is one process on one device. Started by torchrun
(`torchrun --nproc_per_node N -m trainers.cppn.cli fit ...`), every process
finds RANK, WORLD_SIZE and LOCAL_RANK in its environment, joins the process
group (gloo on the CPU, nccl on CUDA), wraps its networks in
DistributedDataParallel so gradients are averaged over the processes, reads
its own shard of the data (batches.Batches), and only rank 0 writes files or
draws a progress bar. Placement carries this and the few collectives the loop
needs; with one process they are plain pass-throughs.
"""
from __future__ import annotations

import os
import pickle
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from trainers.common.device import choose_device

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")

# gloo's worker threads drop their reference to each finished collective whenever they next run,
# which on a busy machine can be after the interpreter began to exit. Were theirs the last
# reference, freeing the collective's tensors would need the GIL, and during exit that aborts the
# process ("terminate called without an active exception" at the end of a torchrun job). So the
# collectives here keep their handles (and with them their tensors) until many later ones have
# finished: the worker threads never hold the last reference.
_RECENT_COLLECTIVES: deque = deque(maxlen=64)


def _collective(function, *args, **kwargs) -> None:
    """Run a torch.distributed collective to completion, keeping its handle (see above)."""
    work = function(*args, async_op=True, **kwargs)
    _RECENT_COLLECTIVES.append(work)
    work.wait()


@dataclass(frozen=True)
class Placement:
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rank: int = 0  # 0 .. world_size - 1; rank 0 writes the files
    world_size: int = 1  # processes training together

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, network: nn.Module) -> nn.Module:
        """`network` as the process group trains it: DDP when there are several processes, itself otherwise.
        Keep the unwrapped network for checkpoints and samples: the wrapper only adds the gradient averaging."""
        if self.world_size == 1:
            return network
        return DistributedDataParallel(network, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Each value averaged over the processes, so the loss curve is the whole batch's, not rank 0's shard."""
        if self.world_size == 1 or not values:
            return values
        names = sorted(values)  # every rank reports the same names; sorting fixes the order
        total = torch.tensor([values[name] for name in names], dtype=torch.float64, device=self.device)
        _collective(dist.all_reduce, total)
        return {name: value / self.world_size for name, value in zip(names, total.tolist())}

    def any(self, flag: bool) -> bool:
        """True on every process when it is true on any: all must stop at the same step, or DDP deadlocks."""
        if self.world_size == 1:
            return flag
        raised = torch.tensor([int(flag)], device=self.device)
        _collective(dist.all_reduce, raised, op=dist.ReduceOp.MAX)
        return bool(raised.item())

    def gather(self, value: object) -> list[object]:
        """`value` of every process, in rank order (checkpoints keep each process's random states)."""
        if self.world_size == 1:
            return [value]
        # all_gather_object's way (pickled bytes, their lengths first), through _collective
        payload = torch.frombuffer(bytearray(pickle.dumps(value)), dtype=torch.uint8).to(self.device)
        length = torch.tensor([payload.numel()], dtype=torch.int64, device=self.device)
        lengths = [torch.zeros_like(length) for _ in range(self.world_size)]
        _collective(dist.all_gather, lengths, length)
        longest = max(int(each.item()) for each in lengths)
        padded = torch.zeros(longest, dtype=torch.uint8, device=self.device)
        padded[:payload.numel()] = payload
        pieces = [torch.empty_like(padded) for _ in range(self.world_size)]
        _collective(dist.all_gather, pieces, padded)
        return [pickle.loads(piece[:int(size.item())].cpu().numpy().tobytes()) for piece, size in zip(pieces, lengths)]


def torchrun_ranks() -> tuple[int, int, int] | None:
    """(rank, world_size, local_rank) when torchrun started this process, else None."""
    if not all(name in os.environ for name in TORCHRUN_VARIABLES):
        return None
    rank, world_size, local_rank = (int(os.environ[name]) for name in TORCHRUN_VARIABLES)
    return rank, world_size, local_rank


@contextmanager
def placed(device: str | int | None = None) -> Iterator[Placement]:
    """This process's Placement on `device` (see device.choose_device); under torchrun it joins the
    process group for the block and leaves it afterwards."""
    ranks = torchrun_ranks()
    if ranks is None:
        yield Placement(choose_device(device))
        return
    rank, world_size, local_rank = ranks
    chosen = choose_device(device, local_rank if world_size > 1 else None)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)  # nccl's collectives and all_gather_object use the current device
    # MASTER_ADDR and MASTER_PORT come from torchrun's environment too (init_method env://)
    dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo", rank=rank, world_size=world_size)
    try:
        yield Placement(chosen, rank, world_size)
    finally:
        dist.destroy_process_group()
