"""trainers.common.data: image folders from scikit-image's pictures and frames from a real H.264
video written here with PyAV, each fitted to one size; one-line errors that name the file."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from skimage import data

from trainers.common.batches import Batches
from trainers.common.data import Frames, ImageFolder, load_picture, read_video_frames

PICTURES = {"a_astronaut.png": data.astronaut, "b_coffee.jpg": data.coffee, "c_cat.jpeg": data.chelsea,
            "d_rocket.PNG": data.rocket}


@pytest.fixture(scope="module")
def picture_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pictures")
    for name, picture in PICTURES.items():
        Image.fromarray(picture()).save(folder / name, format="JPEG" if "jp" in name else "PNG")
    (folder / "notes.txt").write_text("not a picture, and not listed")
    return folder


def test_an_image_folder_lists_its_pictures_in_order_fitted_to_one_size(picture_folder):
    folder = ImageFolder(picture_folder, size=(48, 32))
    assert [path.name for path in folder.files] == list(PICTURES)
    items = [folder[index] for index in range(len(folder))]
    assert all(item.shape == (3, 32, 48) and item.dtype == torch.float32 for item in items)
    assert all(0 <= float(item.min()) and float(item.max()) <= 1 and float(item.std()) > 0.05 for item in items)
    # the astronaut's own pixels, cropped to 3:2 and shrunk: nothing stretched, colours kept
    expected = np.asarray(ImageOps.fit(Image.fromarray(data.astronaut()), (48, 32), Image.Resampling.LANCZOS))
    np.testing.assert_allclose(items[0].permute(1, 2, 0).numpy() * 255, expected, atol=0.5)


def test_an_image_folder_batches_and_reads_gray(picture_folder):
    batch = next(Batches(ImageFolder(picture_folder, size=(40, 40)), batch_size=3))
    assert batch.shape == (3, 3, 40, 40)
    assert ImageFolder(picture_folder, size=(40, 30), channels=1)[1].shape == (1, 30, 40)


def test_load_picture_keeps_the_aspect_at_the_longest_side(picture_folder):
    coffee = load_picture(picture_folder / "b_coffee.jpg", longest_side=60)
    assert coffee.shape == (40, 60, 3) and coffee.dtype == np.float32
    assert load_picture(picture_folder / "a_astronaut.png", longest_side=30, channels=1).shape == (30, 30, 1)


def test_bad_folders_and_pictures_are_named(tmp_path, picture_folder):
    with pytest.raises(FileNotFoundError, match=r"nowhere: no such folder"):
        ImageFolder(tmp_path / "nowhere", size=(8, 8))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("no pictures here")
    with pytest.raises(ValueError, match=r"empty: no pictures \(\.bmp, "):
        ImageFolder(tmp_path / "empty", size=(8, 8))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "garbage.png").write_bytes(b"\x89PNG but nothing after")
    jpeg = (picture_folder / "b_coffee.jpg").read_bytes()
    (broken / "truncated.jpg").write_bytes(jpeg[:len(jpeg) // 3])
    folder = ImageFolder(broken, size=(8, 8))
    for index, name in enumerate(["garbage.png", "truncated.jpg"]):
        with pytest.raises(ValueError, match=rf"{name}: not a readable image"):
            folder[index]


def panning_frames(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """A camera move over the astronaut: a (height, width) window sliding 6 px right per frame."""
    width, height = size
    picture = data.astronaut()
    return [np.ascontiguousarray(picture[100:100 + height, 40 + 6 * k:40 + 6 * k + width]) for k in range(count)]


@pytest.fixture(scope="module")
def pan_video(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """24 frames at 12 fps, H.264 in an MP4, written with PyAV."""
    path = tmp_path_factory.mktemp("video") / "pan.mp4"
    frames = panning_frames(24, (96, 64))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"crf": "12"}  # near-lossless, so decoded frames can be compared with the source
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())  # flush
    return path, frames


def fitted(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(ImageOps.fit(Image.fromarray(frame), size, Image.Resampling.LANCZOS)).astype(float)


def test_video_frames_are_read_at_the_asked_rate_and_size(pan_video):
    path, source = pan_video
    frames = read_video_frames(path, size=(48, 32), fps=6)
    assert frames.shape == (12, 32, 48, 3) and frames.dtype == np.uint8  # 2 s at 6 fps
    for index in (0, 5, 11):  # every other source frame
        assert np.abs(frames[index] - fitted(source[2 * index], (48, 32))).mean() < 4
    assert np.abs(frames[11] - fitted(source[0], (48, 32))).mean() > 10, "the camera moved"
    assert read_video_frames(path, size=(48, 32)).shape[0] == 24  # no rate: every frame


def test_video_frames_make_a_dataset(pan_video):
    frames = Frames(read_video_frames(pan_video[0], size=(32, 32), fps=4, channels=1))
    assert len(frames) == 8
    batch = next(Batches(frames, batch_size=4, shuffle=False))
    assert batch.shape == (4, 1, 32, 32) and 0 <= float(batch.min()) and float(batch.max()) <= 1


def test_bad_videos_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent\.mp4: no such video"):
        read_video_frames(tmp_path / "absent.mp4", size=(8, 8))
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("just text")
    with pytest.raises(ValueError, match=r"notes\.mp4: not a readable video"):
        read_video_frames(not_video, size=(8, 8))
