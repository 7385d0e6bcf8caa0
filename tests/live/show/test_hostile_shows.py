"""Show files and OSC scripts from anywhere: every bad one is one clear line, in bounded time.

A show designer's file may be the wrong file, a truncated download or a YAML
alias bomb; none of them may hang the loader or end in a traceback.
"""
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live.control.osc_script import load_osc_script
from live.show.schema import ShowError, load_show, parse_show
from tests.conftest import DEMO_SHOW

DEMO_TEXT = DEMO_SHOW.read_text()


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, previous in zip("bcdefgh", "abcdefg"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    lines.append("scenes: [*h]")  # 10^8 values in eight short lines
    show = tmp_path / "bomb.yaml"
    show.write_text("\n".join(lines) + "\n")
    with pytest.raises(ShowError, match="more than 100000 values once its aliases are expanded"):
        load_show(show)


@pytest.mark.parametrize("content, complaint", [
    (b"\x00" * (2 << 20), "bytes; a show file is at most"),
    (b"scenes: [\xff\xfe]", "UTF-8 text; byte 9 is not"),
])
def test_the_wrong_file_is_one_line(tmp_path, content, complaint):
    show = tmp_path / "wrong.yaml"
    show.write_bytes(content)
    with pytest.raises(ShowError, match=complaint) as refused:
        load_show(show)
    assert "\n" not in str(refused.value)


def test_a_missing_show_names_the_file(tmp_path):
    with pytest.raises(ShowError, match="missing.yaml: cannot read the show file"):
        load_show(tmp_path / "missing.yaml")


def test_an_osc_script_that_is_not_yaml_or_too_big_is_one_line(tmp_path):
    script = tmp_path / "moves.yaml"
    script.write_text("- {at: 1, address: /latentstage/fade, args: [1.0]\n")
    with pytest.raises(ValueError, match="moves.yaml: not valid YAML"):
        load_osc_script(script)
    script.write_bytes(b" " * (17 << 20))
    with pytest.raises(ValueError, match="bytes; an OSC script is at most"):
        load_osc_script(script)


def damaged(rng: random.Random) -> str:
    """The demo show with a few characters deleted, duplicated or replaced."""
    text = list(DEMO_TEXT)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(text))
        action = rng.choice(["delete", "duplicate", "replace"])
        if action == "delete":
            del text[position:position + rng.randint(1, 12)]
        elif action == "duplicate":
            text[position:position] = text[position:position + rng.randint(1, 40)]
        else:
            text[position] = rng.choice(":-[]{}&*!|>#'\"\t\n 0123456789abcxyz")
    return "".join(text)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.builds(damaged, st.randoms(use_true_random=False)))
def test_a_damaged_show_loads_or_is_refused_in_one_clear_message(text):
    try:
        parse_show(text, DEMO_SHOW)  # models resolve next to the real demo
    except ShowError as refused:
        assert str(refused).startswith(str(DEMO_SHOW)) and "Traceback" not in str(refused)
