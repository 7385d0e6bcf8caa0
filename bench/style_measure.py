"""A measure of style: each style model beside its twin trained through the random VGG, on held-out pictures.

For each pair (a style painting, the model trained with the ImageNet VGG-16, the same network trained the
same way with `--loss-net random`) it runs both ONNX files with ONNX Runtime, as a show does, on pictures no
model trained on (`python -m trainers.style.gallery_data` writes them to heldout/), fitted to --size, and
reports, under the real VGG-16 whatever the model was trained with:
- style distance: the relative Gram error (trainers.style.losses.style_loss over relu1_2..relu4_3) of the
  output against the painting at the training's --style-size: 0 would be the painting's own statistics;
- content distance: the relative relu2_2 error of the output against its input (what of the picture is lost);
- flicker: the mean change between consecutive outputs, in 0..255 levels, on a still clip of one held-out
  picture (camera noise of 2 levels and a 0.3 px sway, as trainers.style.train measures it), beside the
  clip's own.
The unstyled input is measured too (its style distance is where every model starts). With --write-cards
each model's card gets its figures (extra.heldout_*) and the real model's card its random twin's beside them.
With --sheets DIR, a contact sheet per style, DIR/style-NAME-heldout.png: a row per --sheet-pictures picture of
painting | held-out picture | the model's output | the random-VGG twin's output.

    .venv/bin/python -m bench.style_measure --heldout out/style-data/heldout \\
        --pair cezanne out/style-data/styles/cezanne-card-players.jpg models/style-cezanne-slim.onnx \\
               out/style-cezanne-random/style.onnx --markdown out/style_measure.md --write-cards
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from PIL import Image, ImageOps

from bench.measure import publish
from trainers.common.data import load_picture, picture_files
from trainers.common.images import image_grid, save_png
from trainers.common.loss_networks import LossNetwork, loss_network
from trainers.style import losses
from trainers.style.train import STILL_FRAMES, STILL_NOISE

STYLE_SIZE = 256  # the painting's longest side for its Gram matrices, as the models were trained
# film, photographs and paintings of several kinds, none seen in training
SHEET_PICTURES = ("bunny-120.jpg", "skimage-astronaut.jpg", "painting-437326.jpg", "skimage-coffee.jpg")
SHEET_WIDTH = 800  # px: a sheet is scaled down to this (painted texture compresses poorly: ~0.7 MB as PNG)


def held_out(folder: Path, size: tuple[int, int]) -> torch.Tensor:
    """(N, 3, H, W) in [0, 1]: every picture of the folder, fitted (centre crop and resize) to size (W, H)."""
    pictures = [np.asarray(ImageOps.fit(Image.open(path).convert("RGB"), size, Image.Resampling.LANCZOS))
                for path in picture_files(folder)]
    return torch.from_numpy(np.stack(pictures).astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()


class Model:
    """A style model file run by ONNX Runtime on the CPU, one picture at a time (as a show runs it)."""

    def __init__(self, path: Path):
        self.path = path
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.card = {prop.key: prop.value for prop in onnx.load(str(path), load_external_data=False).metadata_props}

    def __call__(self, pictures: torch.Tensor) -> torch.Tensor:
        outputs = [self.session.run(None, {self.input: picture[None].numpy()})[0] for picture in pictures]
        return torch.from_numpy(np.concatenate(outputs)).float()


@torch.no_grad()
def content_targets(vgg: LossNetwork, inputs: torch.Tensor) -> list[torch.Tensor]:
    """Each input's content features, taken once for every model measured on them."""
    return [vgg(picture[None], (losses.CONTENT_LAYER,))[losses.CONTENT_LAYER] for picture in inputs]


@torch.no_grad()
def distances(vgg: LossNetwork, grams: dict[str, torch.Tensor], outputs: torch.Tensor,
              targets: list[torch.Tensor]) -> tuple[float, float]:
    """(mean style distance to the painting, mean content distance to the input) over the pictures."""
    style, content = [], []
    for output, target in zip(outputs, targets):
        found = vgg(output[None], (*losses.STYLE_LAYERS, losses.CONTENT_LAYER))
        style.append(float(losses.style_loss(found, grams)))
        content.append(float(losses.content_loss(found[losses.CONTENT_LAYER], target)))
    return float(np.mean(style)), float(np.mean(content))


def flicker(model: Model | None, still: torch.Tensor) -> float:
    """Mean |frame(t) - frame(t-1)| in 0..255 levels over the model's outputs of the clip (or the clip itself)."""
    frames = model(still) if model is not None else still
    return 255 * float((frames[1:] - frames[:-1]).abs().mean())


def measure(vgg: LossNetwork, painting: Path, model: Model | None, inputs: torch.Tensor,
            targets: list[torch.Tensor], still: torch.Tensor) -> dict:
    style_picture = torch.from_numpy(load_picture(painting, STYLE_SIZE)).permute(2, 0, 1)[None]
    with torch.no_grad():
        grams = {name: losses.gram(value) for name, value in vgg(style_picture, losses.STYLE_LAYERS).items()}
    outputs = model(inputs) if model is not None else inputs
    style, content = distances(vgg, grams, outputs, targets)
    row = {"model": str(model.path) if model else "the input itself", "style": style, "content": content,
           "flicker": flicker(model, still)}
    if model is not None:
        row["loss_network"] = model.card.get("latentstage.extra.loss_network", "unknown")
        row["steps"] = model.card.get("latentstage.steps", "?")
    return row


def write_card(path: Path, values: dict[str, str]) -> None:
    """Add `values` as latentstage.extra.<key> to the file's metadata, keeping the rest of its card."""
    model = onnx.load(str(path))
    props = {prop.key: prop.value for prop in model.metadata_props}
    props.update({f"latentstage.extra.{key}": value for key, value in values.items()})
    onnx.helper.set_model_props(model, props)
    onnx.save(model, str(path))


def card_values(row: dict, prefix: str, described: str) -> dict[str, str]:
    return {f"{prefix}style_distance": f"{row['style']:.4f}", f"{prefix}content_distance": f"{row['content']:.4f}",
            f"{prefix}flicker_levels": f"{row['flicker']:.3f}", **({"heldout_set": described} if described else {})}


def markdown(table: list[dict], size: tuple[int, int], count: int, input_flicker: float) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [f"{count} held-out pictures at {size[0]}x{size[1]}; distances under the ImageNet VGG-16 (relative errors: "
             f"style = Gram relu1_2..relu4_3 against the painting, content = relu2_2 against the input); flicker on "
             f"a still clip ({STILL_FRAMES} frames, 2 levels of noise, 0.3 px sway; the clip itself "
             f"{input_flicker:.2f} levels); load average at the end {load}", "",
             "| style | model | loss network | steps | style distance | content distance | flicker (levels) |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for row in table:
        lines.append(f"| {row['name']} | {Path(row['model']).name if row.get('loss_network') else row['model']} "
                     f"| {row.get('loss_network', '-').split(' (')[0]} | {row.get('steps', '-')} "
                     f"| {row['style']:.3f} | {row['content']:.3f} | {row['flicker']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="style_measure", description=__doc__.split("\n")[0])
    parser.add_argument("--heldout", type=Path, required=True, help="folder of held-out pictures")
    parser.add_argument("--pair", nargs=4, action="append", required=True,
                        metavar=("NAME", "PAINTING", "MODEL", "RANDOM_VGG_MODEL"),
                        help="a style: its painting, its model and the same network trained through the random VGG")
    parser.add_argument("--size", default="320x180", help="the pictures' size, WxH (default 320x180)")
    parser.add_argument("--still", default="bunny-111.jpg", help="the held-out picture of the still clip")
    parser.add_argument("--sheets", type=Path, help="write a contact sheet per style into this folder")
    parser.add_argument("--sheet-pictures", nargs="+", default=list(SHEET_PICTURES),
                        help="the held-out pictures of the contact sheets")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--write-cards", action="store_true", help="put each model's figures on its card")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    size = tuple(int(side) for side in args.size.lower().split("x"))
    inputs = held_out(args.heldout, size)
    still_picture = held_out_one(args.heldout / args.still, size)
    still = losses.still_clip(still_picture, STILL_FRAMES, STILL_NOISE, seed=0)
    vgg = loss_network("vgg16")
    targets = content_targets(vgg, inputs)
    command = " ".join(["python -m bench.style_measure", *map(shlex.quote, argv if argv is not None else sys.argv[1:])])
    described = f"{len(inputs)} pictures of {args.heldout} at {args.size}, by `{command}`"
    table = []
    for name, painting, model_path, random_path in args.pair:
        plain, real, random = ({**measure(vgg, Path(painting), model, inputs, targets, still), "name": name}
                               for model in (None, Model(Path(model_path)), Model(Path(random_path))))
        table += [plain, real, random]
        print(f"{name}: style distance {real['style']:.3f} (random VGG {random['style']:.3f}, input "
              f"{plain['style']:.3f})", file=sys.stderr)
        if args.sheets:
            pictures = torch.stack([held_out_one(args.heldout / picture, size) for picture in args.sheet_pictures])
            save_png(contact_sheet(Path(painting), pictures, Model(Path(model_path)), Model(Path(random_path))),
                     args.sheets / f"style-{name}-heldout.png")
        if args.write_cards:
            write_card(Path(model_path), {**card_values(real, "heldout_", described),
                                          **card_values(random, "random_vgg_twin_", ""),
                                          "random_vgg_twin": f"{random_path} ({random['steps']} steps, --loss-net random)",
                                          "heldout_input_style_distance": f"{plain['style']:.4f}"})
            write_card(Path(random_path), card_values(random, "heldout_", described))
    publish(markdown(table, size, len(inputs), flicker(None, still)), args.markdown)
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    return 0


def contact_sheet(painting: Path, pictures: torch.Tensor, model: Model, twin: Model) -> np.ndarray:
    """Rows of painting | picture | model(picture) | twin(picture), each tile the pictures' size."""
    size = (pictures.shape[-1], pictures.shape[-2])
    style = held_out_one(painting, size)
    tiles = []
    for picture, output, other in zip(pictures, model(pictures), twin(pictures)):
        tiles += [style, picture, output, other]
    sheet = Image.fromarray(image_grid([tile.permute(1, 2, 0) for tile in tiles], columns=4, gap=4))
    scale = min(1.0, SHEET_WIDTH / sheet.width)
    return np.asarray(sheet.resize((round(sheet.width * scale), round(sheet.height * scale)), Image.Resampling.LANCZOS))


def held_out_one(path: Path, size: tuple[int, int]) -> torch.Tensor:
    picture = ImageOps.fit(Image.open(path).convert("RGB"), size, Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(picture, np.float32) / 255).permute(2, 0, 1).contiguous()


if __name__ == "__main__":
    raise SystemExit(main())
