"""Acceptance: `latentstage run SHOW --resume` comes back where a killed show was.

README promises checked here ("Running unattended"): a live run keeps a resume state (one per show file, in
$XDG_STATE_HOME/latentstage/resume/) about once a second, written whole; after SIGKILL, `run --resume` starts
at that moment: the cue list's scene and standby, the performer's held values, each latent walk's place, and
the HUD and status file say "resumed at cue 3 after N s"; an edited show resumes at the cue that shows the same
scene, or starts from the top and says why; without a state it starts from the top, in one line.
"""
from __future__ import annotations

import json
import signal
from pathlib import Path

from pythonosc.udp_client import SimpleUDPClient

from tests.acceptance.test_live_osc import osc_port
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, cppn_scene, scene_on_screen, write_show
from tests.conftest import wait_for

CUES = [{"go": True, "scene": "drift"},
        {"go": True, "scene": "bloom", "fade": 0.5},
        {"go": True, "scene": "portrait", "fade": 0.5, "set": {"scale": 3.0}},
        {"go": True, "scene": "drift"}]


def cue_list(folder: Path, cues: list[dict] = CUES) -> Path:
    portrait = {**cppn_scene("portrait", "cppn-astronaut.onnx", seed=3, scale=2.5)}
    portrait["cppn"]["wander"] = 0.04
    return write_show(folder, [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", seed=2, scale=4.0),
                               portrait], cues=cues)


def fresh(show: Path, *options: str, env: dict) -> LiveShow:
    """The show run live, the last run's status file gone first (its HUD must not answer for this one)."""
    (show.parent / "status.txt").unlink(missing_ok=True)
    return LiveShow(show, "--headless", *options, env=env)


def state_file(folder: Path) -> Path | None:
    found = sorted((folder / "latentstage" / "resume").glob("*.json"))
    return found[0] if found else None


def saved(folder: Path) -> dict:
    return json.loads(state_file(folder).read_text())


def killed_after_go(show: Path, state_home: Path, presses: int, scene: str, messages: tuple = (),
                    written=lambda state: True) -> dict:
    """The show run live, GO pressed `presses` times over UDP until `scene` is on screen, `messages` sent, then
    SIGKILL once its resume state shows `scene` and `written(state)` holds; that last state."""
    with fresh(show, env={"XDG_STATE_HOME": str(state_home)}) as run:
        run.wait_for_hud(lambda hud: "standby: cue 1 (GO) -> drift" in hud, timeout=START_TIMEOUT)
        client = SimpleUDPClient("127.0.0.1", osc_port(run))
        for _ in range(presses):
            client.send_message("/latentstage/go", [])
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == scene)
        for address, value in messages:
            client.send_message(address, value)
        assert wait_for(lambda: state_file(state_home) is not None and saved(state_home)["scene"] == scene
                        and written(saved(state_home)), 10.0), run.errors()
        run.process.send_signal(signal.SIGKILL)
        run.process.wait(timeout=30)
    return saved(state_home)


def test_a_killed_cue_list_show_resumes_at_its_cue_with_its_held_values_and_latent(tmp_path):
    state_home = tmp_path / "state"
    env = {"XDG_STATE_HOME": str(state_home)}
    show = cue_list(tmp_path)
    before = killed_after_go(show, state_home, 3, "portrait",
                             [("/latentstage/portrait/speed", 0.25),  # a performer's value: held; slows the walk
                              ("/latentstage/tempo", 128.0)],  # the tempo pin
                             lambda state: state["held"].get("portrait.speed") == 0.25
                             and state["held"].get("tempo") == 128.0)
    assert before["scene"] == "portrait" and before["cue"]["number"] == 3 and len(before["fired"]) == 3

    with fresh(show, "--resume", env=env) as run:
        hud = run.wait_for_hud(lambda hud: "resumed at cue 3 after" in hud, timeout=START_TIMEOUT)
        assert scene_on_screen(hud) == "portrait", hud
        assert "standby: cue 4 (GO) -> drift" in hud
        assert "speed 0.25*" in hud and "scale 3.00" in hud, hud  # held by the performer; set by cue 3
        assert "resumed at cue 3 after" in run.errors()  # the log says it too
        # its first state: the show clock and the portrait's walk carry on from where they were
        assert wait_for(lambda: saved(state_home)["written_at"] > before["written_at"], 10.0)
        after = saved(state_home)
        assert after["held"]["tempo"] == 128.0
        lost = after["t"] - before["t"]
        assert 0 <= lost < 3.0, (before["t"], after["t"])  # the first state comes within a second or so
        walk_before, walk_after = before["scenes"]["portrait"]["walk"], after["scenes"]["portrait"]["walk"]
        travelled = 0.25 * lost / 2.0  # keyframes at speed 0.25, a keyframe per 2 s
        assert abs(walk_after["position"] - walk_before["position"] - travelled) < 0.25 / 2.0, (walk_before,
                                                                                               walk_after)
        assert run.stop() == 0


def test_an_edited_show_resumes_at_the_cue_of_the_same_scene_or_starts_from_the_top(tmp_path):
    state_home = tmp_path / "state"
    env = {"XDG_STATE_HOME": str(state_home)}
    show = cue_list(tmp_path)
    killed_after_go(show, state_home, 2, "bloom")

    # a cue put in front of it: bloom is cue 3 now
    cue_list(tmp_path, [CUES[0], {"go": True, "scene": "portrait"}, *CUES[1:]])
    with fresh(show, "--resume", env=env) as run:
        hud = run.wait_for_hud(lambda hud: "resumed at cue 3 after" in hud, timeout=START_TIMEOUT)
        assert "the show was edited: it was cue 2, 'bloom'" in hud and scene_on_screen(hud) == "bloom", hud
        assert run.stop() == 0

    # no cue shows bloom any more: from the top, said once
    cue_list(tmp_path, [CUES[0], {"go": True, "scene": "portrait"}])
    with fresh(show, "--resume", env=env) as run:
        hud = run.wait_for_hud(lambda hud: "standby: cue 1 (GO) -> drift" in hud, timeout=START_TIMEOUT)
        assert "resumed" not in hud
        assert run.errors().count("no cue shows 'bloom' any more") == 1, run.errors()
        assert run.stop() == 0


def test_resume_without_a_state_or_with_a_broken_one_starts_from_the_top_in_one_line(tmp_path):
    state_home = tmp_path / "state"
    show = cue_list(tmp_path)
    with fresh(show, "--resume", env={"XDG_STATE_HOME": str(state_home)}) as run:
        run.wait_for_hud(lambda hud: "standby: cue 1 (GO) -> drift" in hud, timeout=START_TIMEOUT)
        assert "no resume state for this show yet" in run.errors()
        assert wait_for(lambda: state_file(state_home) is not None, 10.0)  # and it keeps one from now on
        assert run.stop() == 0
    state_file(state_home).write_text('{"version": 1, "t": ')  # cut off mid-write by something else
    with fresh(show, "--resume", env={"XDG_STATE_HOME": str(state_home)}) as run:
        run.wait_for_hud(lambda hud: "standby: cue 1 (GO) -> drift" in hud, timeout=START_TIMEOUT)
        assert "cannot be read" in run.errors() and "Traceback" not in run.errors()
        assert run.stop() == 0
