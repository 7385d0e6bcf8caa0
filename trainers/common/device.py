"""Device choice: which torch device a trainer runs on, from what a user typed.

Accepted: "cpu", "cuda", "cuda:N", a bare GPU index N (int or text), or None
for CUDA when present and the CPU otherwise, so the same training code scales up
unchanged. Asking for CUDA where there is none, or for a GPU the machine does
not have, is a ValueError that says so in one line, never a silent fallback.
"""
from __future__ import annotations

import torch


def choose_device(spec: str | int | None = None, local_rank: int | None = None) -> torch.device:
    """The device `spec` names. `local_rank` is set when several processes share this machine
    (torchrun): "cuda" is then the GPU of that rank, and an explicit index is refused, since
    every process would land on that one GPU."""
    text = "auto" if spec is None else str(spec).strip().lower()
    if text == "cpu":
        return torch.device("cpu")
    if text == "auto":
        return _cuda(local_rank or 0, "cuda") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cuda":
        return _cuda(local_rank or 0, text)
    index = text.removeprefix("cuda:")
    if not index.isdigit():
        raise ValueError(f"unknown device {spec!r}: use cpu, cuda, cuda:N or a GPU index N")
    if local_rank is not None:
        raise ValueError(f"device {spec!r}: under torchrun each process takes the GPU of its LOCAL_RANK; "
                         f"ask for 'cuda' (or limit the GPUs with CUDA_VISIBLE_DEVICES)")
    return _cuda(int(index), str(spec))


def _cuda(index: int, asked: str) -> torch.device:
    if not torch.cuda.is_available():
        why = "this torch is a CPU-only build" if torch.version.cuda is None else "no GPU is visible"
        raise ValueError(f"device {asked!r}: CUDA is not available here ({why}); use --device cpu")
    count = torch.cuda.device_count()
    if index >= count:
        raise ValueError(f"device {asked!r}: this machine has {count} GPU(s), cuda:0 to cuda:{count - 1}")
    return torch.device("cuda", index)
