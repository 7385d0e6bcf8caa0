"""Exported pix2pix models side by side: held-out L1 and SSIM of each on one pairs folder, and a sheet.

A new model is judged beside the one it would replace, and the old one may
exist only as its ONNX file, so both run here through ONNX Runtime (the live
engine) on the same inputs: the scores use the pairs the trainer's own test
mode uses (each pair resized to `size` square, metrics from
trainers.common.metrics), and the sheet shows whole pictures at a larger size,
edges made on them as live makes them, one row each: edges | each model | the
picture. A blank page (no edges at all) is a row of its own: a model that
learned its padding paints a frame there.

    .venv/bin/python -m trainers.pix2pix.compare OLD.onnx NEW.onnx --pairs PAIRS/val \
        --pictures PAINTINGS --names a.jpg,b.jpg -o sheet.jpg
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from live.inference.engine import Engine, EngineConfig, EngineError
from live.inference.model_io import ImageModelIO, model_size
from trainers.common.cli import OneLineParser, positive_int
from trainers.common.data import open_image
from live.core.atomic_file import atomic_file
from trainers.common.images import image_grid, save_png
from trainers.common.metrics import mean_absolute_error, ssim
from trainers.pix2pix.pairs import PairSettings, network_input
from trainers.pix2pix.train import PairFolder

PROG = "python -m trainers.pix2pix.compare"
JPEG_QUALITY = 88


@dataclass
class Score:
    model: str
    pairs: int
    l1: float
    ssim: float


class Painter:
    """One exported model on (H, W) uint8 edge (or gray) maps, as live feeds it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.engine = Engine.load(path, EngineConfig(providers="cpu"))
        self.io = ImageModelIO(self.engine.card)

    def settings(self) -> PairSettings:
        """How this model's card says its inputs are made."""
        extra = self.engine.card.extra
        return PairSettings(input=self.engine.card.input, sigma=float(extra.get("canny_sigma", 0.33)),
                            blur=int(extra.get("canny_blur", 3)))

    def paint(self, made: np.ndarray) -> np.ndarray:
        """(H, W) uint8 input map -> (H, W, 3) uint8 picture, run at the model's size for H x W."""
        height, width = made.shape
        feed = self.io.to_input(np.repeat(made[..., None], 3, axis=2))
        output = self.engine.run({self.engine.input_names[0]: feed})[self.engine.output_names[0]]
        return self.io.to_frame(output, width, height).copy()


def score(painter: Painter, pairs_dir: str | Path, size: int) -> Score:
    """Mean L1 and SSIM over the folder's pairs, each resized to `size` square (the trainer's test mode)."""
    pairs = PairFolder(pairs_dir, size, 1)
    l1s, ssims = [], []
    for index in range(len(pairs)):
        source, target = pairs[index]
        edges = np.round(source[0].numpy() * 255).astype(np.uint8)
        made = painter.paint(edges).astype(np.float32) / 255.0
        target_hwc = target.permute(1, 2, 0).numpy()
        l1s.append(mean_absolute_error(made, target_hwc))
        ssims.append(ssim(made, target_hwc))
    return Score(painter.path.name, len(pairs), float(np.mean(l1s)), float(np.mean(ssims)))


def fitted(picture: np.ndarray, side: int, multiple: int) -> np.ndarray:
    """The picture resized so its longer side is about `side`, both sides multiples of `multiple`."""
    height, width = picture.shape[:2]
    scale = side / max(height, width)
    size = model_size(round(width * scale), round(height * scale), _Multiple(multiple))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


@dataclass
class _Multiple:  # the part of a card model_size reads
    size_multiple: int
    native_size: None = None


def sheet(painters: list[Painter], pictures: list[np.ndarray], side: int, blank: bool = True) -> np.ndarray:
    """Rows of edges | each model | picture, the pictures fitted to `side`; first a blank page if asked."""
    multiple = max(painter.engine.card.size_multiple for painter in painters)
    settings = painters[-1].settings()
    rows = []
    if blank:
        page = np.full((side // 2 // multiple * multiple or multiple, side // multiple * multiple, 3), 255, np.uint8)
        rows.append([page] + [painter.paint(page[..., 0]) for painter in painters] + [page])
    for picture in pictures:
        picture = fitted(picture, side, multiple)
        edges = network_input(picture, settings)
        rows.append([np.repeat(edges[..., None], 3, 2)] + [painter.paint(edges) for painter in painters] + [picture])
    # rows differ in shape: each row is laid out alone, then the rows are stacked, 4 black pixels apart
    strips = [image_grid(row, columns=len(row), gap=4) for row in rows]
    width = max(strip.shape[1] for strip in strips)
    stacked = np.concatenate([np.pad(strip, ((0, 4), (0, width - strip.shape[1]), (0, 0))) for strip in strips])
    return stacked[:-4]


def save_sheet(pixels: np.ndarray, path: Path) -> Path:
    """PNG, or JPEG (quality 88) for a .jpg path: paintings and film frames compress 6x smaller so."""
    if path.suffix.lower() not in (".jpg", ".jpeg"):
        return save_png(pixels, path)
    with atomic_file(path) as file:
        Image.fromarray(pixels).save(file, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("models", type=Path, nargs="+", help="exported pix2pix models, the old one first")
    parser.add_argument("--pairs", type=Path, help="held-out pairs to score on (e.g. PAIRS/val)")
    parser.add_argument("--size", type=positive_int, default=128, help="side the pairs are scored at (128)")
    parser.add_argument("--pictures", type=Path, help="folder of whole pictures for the sheet")
    parser.add_argument("--names", default="", help="comma-separated file names in --pictures for the sheet's rows")
    parser.add_argument("--side", type=positive_int, default=384, help="longer side of the sheet's pictures (384)")
    parser.add_argument("-o", "--output", type=Path, help="the sheet, PNG")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        painters = [Painter(path) for path in args.models]
        if args.pairs is not None:
            print(f"| model | held-out pairs | L1 | SSIM |\n| --- | ---: | ---: | ---: |")
            for painter in painters:
                result = score(painter, args.pairs, args.size)
                print(f"| `{result.model}` | {result.pairs} | {result.l1:.4f} | {result.ssim:.4f} |")
        if args.output is not None:
            names = [name for name in args.names.split(",") if name]
            pictures = [np.asarray(open_image(args.pictures / name)) for name in names] if names else []
            print(f"sheet {save_sheet(sheet(painters, pictures, args.side), args.output)}")
    except (FileNotFoundError, ValueError, EngineError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
