"""Easing curves: ends fixed, rising, the shapes each name promises, and a one-line refusal of an unknown one."""
from __future__ import annotations

import pytest

from live.core.curves import apply_curve


@pytest.mark.parametrize("curve", ["linear", "exp", "log", "smooth"])
def test_curves_keep_their_ends_and_rise(curve):
    points = [apply_curve(i / 20, curve) for i in range(21)]
    assert points[0] == pytest.approx(0.0) and points[-1] == pytest.approx(1.0)
    assert all(b > a for a, b in zip(points, points[1:]))
    assert apply_curve(-0.5, curve) == pytest.approx(0.0) and apply_curve(1.5, curve) == pytest.approx(1.0)


def test_curve_shapes():
    assert apply_curve(0.5, "linear") == 0.5
    assert apply_curve(0.5, "exp") < 0.2  # slow start
    assert apply_curve(0.5, "log") > 0.8  # fast start
    assert apply_curve(0.5, "smooth") == 0.5 and apply_curve(0.1, "smooth") < 0.1
    for x in (0.1, 0.3, 0.7):
        assert apply_curve(apply_curve(x, "exp"), "log") == pytest.approx(x)
    with pytest.raises(ValueError, match="unknown curve 'cubic'"):
        apply_curve(0.5, "cubic")
