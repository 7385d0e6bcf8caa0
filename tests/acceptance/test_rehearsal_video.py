"""Acceptance: the same show rehearses to the same video file, byte for byte.

README promise checked here ("Rehearse"): the same show and seed give the same frames, run after run: the
MP4 a designer watches, not only the `--frames` PNGs. x264's macroblock-tree rate control read heap
memory it never wrote (in its AVX-512 code), so two rehearsals of the demo parted from frame 8 on whenever
the heap held other garbage: after Mesa's shader cache was cleared, or on a busy machine. Each rehearsal
here starts with a cold shader cache (a private HOME) beside two processes spinning on the CPU, and the
second also has glibc fill the memory it hands out with another byte (MALLOC_PERTURB_), so any byte of the
file that depends on memory nobody wrote shows as a difference, on a machine with AVX-512 or without.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import latentstage


def rehearsed(tmp_path: Path, run: int, perturb: str) -> bytes:
    home = tmp_path / f"home-{run}"
    cache = home / ".cache" / "mesa_shader_cache"
    home.mkdir()
    out = tmp_path / f"demo-{run}.mp4"
    result = latentstage("rehearse", "shows/demo.yaml", "-o", str(out), "--seconds", "2", timeout=600,
                         env={"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
                              "MESA_SHADER_CACHE_DIR": str(cache), "MALLOC_PERTURB_": perturb})
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def test_two_rehearsals_with_a_cold_shader_cache_on_a_busy_machine_write_the_same_mp4(tmp_path):
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        first, second = rehearsed(tmp_path, 1, "0"), rehearsed(tmp_path, 2, "85")
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert len(first) > 100_000  # 60 frames of the demo, not an empty container
    assert first == second, "two rehearsals of the same show wrote different video files"
