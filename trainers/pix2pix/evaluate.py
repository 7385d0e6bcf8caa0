"""pix2pix test mode: triptychs (input | output | target) for held-out pairs, and a small report.

Each validation pair is shown to the generator whole (resized to the training
crop size, as live/ resizes a camera frame; or, for pairs trained at their own
size, at that size, its centre cut to the generator's size multiple), with dropout off as in the
exported model. The report gives the mean absolute error (L1, of pixel values
in [0, 1]) and SSIM over the pairs, and a contact sheet shows the first of them,
so a model is judged by eye as well as by number.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from live.core.atomic_file import atomic_file
from trainers.common.images import image_grid, save_png
from trainers.common.metrics import mean_absolute_error, ssim
from trainers.pix2pix.model import Pix2PixGenerator
from trainers.pix2pix.train import PairFolder, _rgb

SHEET_ROWS = 8  # triptychs on the contact sheet


@dataclass
class Report:
    pairs: int
    l1: float  # mean |output - target|, pixel values in [0, 1]
    ssim: float  # mean SSIM, 1 = identical
    size: int  # side of the square the pairs were judged at (0: each at its own size, centre cut)
    folder: str  # the validation pairs
    sheet: str  # the contact sheet PNG


@torch.no_grad()
def evaluate(generator: Pix2PixGenerator, val_dir: str | Path, out_dir: str | Path, size: int,
             direction: str = "AtoB") -> Report:
    """Triptychs into out_dir/test/, the contact sheet, report.json and report.md into out_dir."""
    out_dir = Path(out_dir)
    generator.eval()
    device = next(generator.parameters()).device
    pairs = PairFolder(val_dir, size, generator.config.in_channels, direction)
    l1s, ssims, sheet = [], [], []
    for index in tqdm(range(len(pairs)), desc="test", unit="pair"):
        source, target = (_cut_to(half, generator.config.size_multiple) for half in pairs[index])
        made = ((generator(source[None].to(device) * 2 - 1)[0] + 1) / 2).clamp(0, 1).cpu()
        made_hwc, target_hwc = made.permute(1, 2, 0).numpy(), target.permute(1, 2, 0).numpy()
        l1s.append(mean_absolute_error(made_hwc, target_hwc))
        ssims.append(ssim(made_hwc, target_hwc))
        triptych = image_grid([_rgb(source), _rgb(made), _rgb(target)], columns=3, gap=2)
        save_png(triptych, out_dir / "test" / pairs.files[index].name)
        if len(sheet) < SHEET_ROWS:
            sheet.append(triptych)
    sheet_path = save_png(image_grid(sheet, columns=1, gap=4), out_dir / "test_sheet.png")
    report = Report(len(pairs), sum(l1s) / len(l1s), sum(ssims) / len(ssims), size, str(val_dir), str(sheet_path))
    _write_report(report, out_dir)
    return report


def _cut_to(picture: torch.Tensor, multiple: int) -> torch.Tensor:
    """The (C, H, W) picture's centre, H and W cut down to multiples of `multiple` (at least one)."""
    height, width = picture.shape[-2:]
    cut_h, cut_w = max(multiple, height // multiple * multiple), max(multiple, width // multiple * multiple)
    top, left = (height - cut_h) // 2, (width - cut_w) // 2
    return picture[:, top:top + cut_h, left:left + cut_w]


def _write_report(report: Report, out_dir: Path) -> None:
    with atomic_file(out_dir / "report.json") as file:
        file.write(json.dumps(asdict(report), indent=2).encode())
    text = (f"# pix2pix held-out report\n\n| pairs | size | L1 | SSIM |\n| ---: | ---: | ---: | ---: |\n"
            f"| {report.pairs} | {report.size} | {report.l1:.4f} | {report.ssim:.4f} |\n\n"
            f"Pairs from `{report.folder}`; input | output | target for the first of them: "
            f"![contact sheet]({Path(report.sheet).name})\n")
    with atomic_file(out_dir / "report.md") as file:
        file.write(text.encode())
