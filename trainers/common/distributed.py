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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from trainers.common.device import choose_device

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")

# gloo's worker threads release each finished collective themselves, whenever they next run: on a
# busy machine that can be long after the caller moved on, even after the interpreter began to
# exit. A tensor whose Python object such a thread frees needs the GIL, and during exit that
# aborts the process ("terminate called without an active exception" at the end of a torchrun
# job). So the tensors handed to collectives here are long-lived buffers, whose Python objects
# live as long as the process: those threads never free one.
_BUFFERS: dict[tuple, torch.Tensor] = {}


def _buffer(name: str, size: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The process-lifetime buffer for one use (name) at one size; zeros when first made."""
    key = (name, size, dtype, str(device))
    if key not in _BUFFERS:
        _BUFFERS[key] = torch.zeros(size, dtype=dtype, device=device)
    return _BUFFERS[key]


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
        total = _buffer("mean", len(names), torch.float64, self.device)
        total.copy_(torch.tensor([values[name] for name in names], dtype=torch.float64))
        dist.all_reduce(total)
        return {name: value / self.world_size for name, value in zip(names, total.tolist())}

    def any(self, flag: bool) -> bool:
        """True on every process when it is true on any: all must stop at the same step, or DDP deadlocks."""
        if self.world_size == 1:
            return flag
        raised = _buffer("any", 1, torch.int64, self.device)
        raised.fill_(int(flag))
        dist.all_reduce(raised, op=dist.ReduceOp.MAX)
        return bool(raised.item())

    def gather(self, value: object) -> list[object]:
        """`value` of every process, in rank order (checkpoints keep each process's random states)."""
        if self.world_size == 1:
            return [value]
        # all_gather_object's way (pickled bytes, sizes first), in buffers that outlive the collective
        payload = pickle.dumps(value)
        size = _buffer("gather size", 1, torch.int64, self.device)
        size.fill_(len(payload))
        sizes = [_buffer(f"gather size {rank}", 1, torch.int64, self.device) for rank in range(self.world_size)]
        dist.all_gather(sizes, size)
        lengths = [int(each.item()) for each in sizes]
        room = 1 << (max(lengths) - 1).bit_length()  # a power of two: few buffers however sizes vary
        mine = _buffer("gather", room, torch.uint8, self.device)
        mine[:len(payload)] = torch.frombuffer(bytearray(payload), dtype=torch.uint8)
        pieces = [_buffer(f"gather {rank}", room, torch.uint8, self.device) for rank in range(self.world_size)]
        dist.all_gather(pieces, mine)
        return [pickle.loads(piece[:length].cpu().numpy().tobytes()) for piece, length in zip(pieces, lengths)]


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
