"""The style models' data, from the installed registry packages: the paintings, the film and scikit-image's
samples split into content and held-out pictures that never meet, each with its source and licence."""
from __future__ import annotations

import json

from PIL import Image

from trainers.style.gallery_data import CONTENT_SIDE, HELDOUT_SIDE, LATER_STYLES, STYLES, main


def test_content_and_held_out_pictures_never_meet_and_each_names_its_licence(tmp_path, capsys):
    assert main(["-o", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path}: 4 styles, 197 content, 24 heldout"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    content = {path.split("/")[1] for path in manifest if path.startswith("content/")}
    held = {path.split("/")[1] for path in manifest if path.startswith("heldout/")}
    assert not content & held
    assert sorted(path.name for path in (tmp_path / "content").iterdir()) == sorted(content)
    # the film's held-out frames come after a gap: no training frame is a neighbour of one
    film_train = [int(name[6:9]) for name in content if name.startswith("bunny-")]
    film_held = [int(name[6:9]) for name in held if name.startswith("bunny-")]
    assert len(film_train) == 34 and min(film_held) - max(film_train) >= 10
    # the style paintings kept out of the content; the later one stays in it (see LATER_STYLES)
    for object_id in STYLES.values():
        assert f"painting-{object_id}.jpg" not in content | held
    for name, object_id in LATER_STYLES.items():
        assert f"painting-{object_id}.jpg" in content and (tmp_path / "styles" / f"{name}.jpg").is_file()
    assert "CC0" in manifest["styles/cezanne-card-players.jpg"]["licence"]
    assert "The Card Players" in manifest["styles/cezanne-card-players.jpg"]["source"]
    assert "CC BY 3.0" in manifest["content/bunny-000.jpg"]["licence"]
    assert max(Image.open(tmp_path / "content" / "bunny-000.jpg").size) == CONTENT_SIDE
    assert max(Image.open(tmp_path / "heldout" / "bunny-120.jpg").size) == HELDOUT_SIDE
