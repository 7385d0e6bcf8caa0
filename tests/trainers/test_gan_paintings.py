"""trainers.gan.paintings through `latentstage data paintings`: frames cut, a re-encoded copy dropped, bad files
refused one line each, square crops of the kept pictures, a manifest and a contact sheet."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import latentstage
from tests.trainers.painting_frames import as_uint8, framed, gilded, photo, plain
from trainers import data_cli
from trainers.gan.frame_finder import FrameSettings
from trainers.gan.paintings import FINDER_SIDE, PaintingSettings, crop_windows, frame_of

SIZE = 64
# name -> (scikit-image picture, frame widths left, top, right, bottom, band); 0 widths: no frame
PAINTINGS = {
    "coffee.png": ("coffee", (14, 20, 16, 24), gilded),
    "astronaut.png": ("astronaut", (10, 10, 10, 10), plain),
    "rocket.jpg": ("rocket", (0, 0, 0, 0), None),
    "nested/chelsea.png": ("chelsea", (18, 12, 18, 30), plain),
}


def painting(name: str) -> np.ndarray:
    picture, widths, band = PAINTINGS[name]
    pixels = photo(picture)
    return as_uint8(framed(pixels, widths, band) if band else pixels)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A folder of four paintings (one in a sub-folder), a smaller re-encoded copy of one, a truncated picture,
    a text file named .jpg and a 20x20 picture, run through the installed command."""
    folder = tmp_path_factory.mktemp("paintings")
    source = folder / "source"
    (source / "nested").mkdir(parents=True)
    for name in PAINTINGS:
        Image.fromarray(painting(name)).save(source / name, quality=95)
    copy = Image.fromarray(painting("coffee.png"))
    copy.resize((copy.width * 2 // 3, copy.height * 2 // 3), Image.Resampling.BILINEAR).save(
        source / "coffee-copy.jpg", quality=70)
    whole = io.BytesIO()
    Image.fromarray(painting("astronaut.png")).save(whole, format="PNG")
    (source / "truncated.png").write_bytes(whole.getvalue()[:len(whole.getvalue()) // 2])
    (source / "notes.jpg").write_text("not a picture, a text file with a picture's name\n")
    Image.fromarray(np.full((20, 20, 3), 128, np.uint8)).save(source / "tiny.png")
    result = latentstage("data", "paintings", "source", "-o", "out", "--size", str(SIZE), cwd=folder)
    return folder, result


def test_the_command_reports_what_it_kept_dropped_and_refused(prepared):
    folder, result = prepared
    assert result.returncode == 0, result.stderr
    assert "4 paintings" in result.stdout and "1 near-duplicates dropped, 3 files refused" in result.stdout
    refusals = [line for line in result.stderr.replace("\r", "\n").splitlines() if line.startswith("refused")]
    assert len(refusals) == 3, refusals
    reasons = {line.split(":", 1)[0].rsplit("/", 1)[-1]: line for line in refusals}
    assert "unreadable picture" in reasons["truncated.png"]
    assert "not a picture" in reasons["notes.jpg"]
    assert "tiny (20x20" in reasons["tiny.png"]


def test_frames_are_cut_and_aspects_kept_in_the_manifest(prepared):
    folder, _ = prepared
    manifest = json.loads((folder / "out/manifest.json").read_text())
    entries = {entry["source"]: entry for entry in manifest["paintings"]}
    assert sorted(entries) == sorted(PAINTINGS)
    for name, entry in entries.items():
        picture, widths, _ = PAINTINGS[name]
        cut = entry["frame"]
        found = (cut["left"], cut["top"], cut["right"], cut["bottom"])
        assert all(abs(f - w) <= 2 for f, w in zip(found, widths)), (name, found, widths)
        height, width = photo(picture).shape[:2]
        assert entry["aspect"] == pytest.approx(width / height, abs=0.02)
        assert entry["kept_size"][0] / entry["kept_size"][1] == pytest.approx(entry["aspect"], abs=1e-3)
    assert manifest["refused"] and {item["file"] for item in manifest["refused"]} == {
        "truncated.png", "notes.jpg", "tiny.png"}


def test_the_re_encoded_copy_is_dropped_for_its_original(prepared):
    folder, _ = prepared
    manifest = json.loads((folder / "out/manifest.json").read_text())
    assert [(item["source"], item["duplicate_of"]) for item in manifest["duplicates"]] == [
        ("coffee-copy.jpg", "coffee.png")]
    assert manifest["duplicates"][0]["hash_bits"] <= PaintingSettings.duplicate_bits


def test_crops_are_squares_of_the_picture_without_its_frame(prepared):
    folder, _ = prepared
    manifest = json.loads((folder / "out/manifest.json").read_text())
    written = sorted(path.name for path in (folder / "out/crops").iterdir())
    listed = sorted(crop.split("/")[-1] for entry in manifest["paintings"] for crop in entry["crops"])
    assert written == listed and manifest["crops"] == len(listed)
    for entry in manifest["paintings"]:
        picture = Image.fromarray(as_uint8(photo(PAINTINGS[entry["source"]][0])))
        windows = crop_windows(*picture.size, PaintingSettings(size=SIZE))
        assert len(entry["crops"]) == len(windows)
        for crop_name, window in zip(entry["crops"], windows):
            crop = np.asarray(Image.open(folder / "out" / crop_name).convert("RGB"), np.float32)
            assert crop.shape == (SIZE, SIZE, 3)
            # the same window of the frameless picture: no frame left in the crop, nothing stretched
            expected = np.asarray(picture.resize((SIZE, SIZE), Image.Resampling.LANCZOS, box=window), np.float32)
            assert np.abs(crop - expected).mean() < 8, (entry["source"], crop_name)


def test_the_contact_sheet_shows_every_painting_and_the_dropped_copy(prepared):
    folder, _ = prepared
    sheet = Image.open(folder / "out/contact-sheet.png")
    tiles = 4 + 1  # kept paintings and the dropped copy, five to a row
    assert sheet.width > 4 * SIZE and sheet.height >= 180 * ((tiles + 4) // 5)
    pixels = np.asarray(sheet.convert("RGB")).astype(int)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    assert red.sum() > 100  # the cut boxes are drawn


def test_crop_windows_cover_the_long_side_from_end_to_end():
    settings = PaintingSettings(max_crops=4)
    assert crop_windows(300, 300, settings) == [(0, 0, 300, 300)]
    assert crop_windows(320, 300, settings) == [(10, 0, 310, 300)]  # nearly square: one, centred
    assert crop_windows(250, 100, settings) == [(0, 0, 100, 100), (75, 0, 175, 100), (150, 0, 250, 100)]
    tall = crop_windows(100, 1000, settings)
    assert len(tall) == 4 and tall[0] == (0, 0, 100, 100) and tall[-1] == (0, 900, 100, 1000)


def test_an_empty_or_missing_folder_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert data_cli.main(["paintings", str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == 2
    assert data_cli.main(["paintings", str(tmp_path / "missing"), "-o", str(tmp_path / "out")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and "has no files" in errors[0] and "no such folder" in errors[1]
    assert not (tmp_path / "out").exists()


def test_a_folder_of_only_bad_files_or_a_used_output_folder_is_exit_2(tmp_path, capsys):
    source = tmp_path / "source"
    source.mkdir()
    (source / "notes.jpg").write_text("text")
    assert data_cli.main(["paintings", str(source), "-o", str(tmp_path / "out")]) == 2
    assert "none of its 1 files is a usable picture" in capsys.readouterr().err
    Image.fromarray(as_uint8(photo("coffee"))).save(source / "coffee.png")
    (tmp_path / "used").mkdir()
    (tmp_path / "used/old.png").write_bytes(b"")
    assert data_cli.main(["paintings", str(source), "-o", str(tmp_path / "used")]) == 2
    assert "not empty" in capsys.readouterr().err


def test_a_large_painting_is_searched_small_and_its_cut_scaled_back():
    picture = Image.fromarray(painting("coffee.png"))  # 630 x 444 with its frame
    large = picture.resize((picture.width * 3, picture.height * 3), Image.Resampling.LANCZOS)
    cut = frame_of(large, FrameSettings())
    assert max(large.size) > FINDER_SIDE
    widths = PAINTINGS["coffee.png"][1]
    found = (cut.left, cut.top, cut.right, cut.bottom)
    assert all(abs(f - 3 * w) <= 6 for f, w in zip(found, widths)), (found, widths)
