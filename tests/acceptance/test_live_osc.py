"""Acceptance: OSC from controllers to a running `latentstage run` (the installed command), over real UDP.

README promises checked here (Control: OSC, audio, keys):
- "`/latentstage/query` replies with the current values", and "`scene` always holds the scene on
  screen, whoever changed it (a cue, `scene.next`, a key)";
- "echoes changed values to a controller (`feedback: host:port`) ... so its labels follow";
- "Controllers set, mappings modulate": an OSC value holds ("*" on the HUD) until "`/latentstage/follow`
  hands a parameter back to the show"; an LFO "never overwrites" it but swings around it, and "Queries and
  feedback report the base value" (after `/latentstage/cppn/scale 12`, 3..9 becomes 9..15);
- the same messages from a second OSC implementation, liblo's `oscsend`.

The show's OSC server binds a free port (`osc: {port: 0}`) and logs it; replies come back to the
sender's own socket. Each test waits for what it expects on the HUD (`--status-file`) or the socket.
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from tests.acceptance.test_window import (
    CHANGE_TIMEOUT,
    START_TIMEOUT,
    LiveShow,
    cppn_scene,
    scene_on_screen,
    write_show,
)
from tests.conftest import wait_for


def osc_port(run: LiveShow) -> int:
    """The port the show's OSC server bound, from its log line on stderr (logged before the first frame;
    waited for all the same, as a busy machine may hand the line over late)."""
    pattern = r"OSC listening on 127\.0\.0\.1:(\d+) under /latentstage"
    assert wait_for(lambda: re.search(pattern, run.stderr_path.read_text()), 30.0), run.errors()
    return int(re.search(pattern, run.stderr_path.read_text()).group(1))


def query(client: SimpleUDPClient, name: str) -> tuple[str, list]:
    """Ask the show for one value; its reply comes back to the client's own socket."""
    client.send_message("/latentstage/query", name)
    data = client.receive(CHANGE_TIMEOUT)
    assert data, f"no reply to /latentstage/query {name}"
    reply = OscMessage(data)
    return reply.address, reply.params


def oscsend(port: int, address: str, *typed_arguments: str) -> None:
    if shutil.which("oscsend") is None:
        pytest.fail("liblo's oscsend is not installed: run `bash .ci/setup` (apt package liblo-tools)")
    subprocess.run(["oscsend", "127.0.0.1", str(port), address, *typed_arguments], check=True, timeout=10,
                   capture_output=True)


def scale_on_hud(hud: str) -> tuple[float, bool] | None:
    """(drift's scale as rendered, whether a performer holds it) from the HUD's parameter line."""
    found = re.search(r"^drift: scale ([\d.]+)(\*?)", hud, re.MULTILINE)
    return (float(found.group(1)), found.group(2) == "*") if found else None


def test_query_answers_the_scene_on_screen_also_after_scene_next(tmp_path):
    show = write_show(tmp_path, [cppn_scene("drift", scale=6.0), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0),
                                 cppn_scene("third", seed=3, scale=3.0)])
    with LiveShow(show, "--headless") as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        client = SimpleUDPClient("127.0.0.1", osc_port(run))
        assert query(client, "scene") == ("/latentstage/scene", ["drift"])
        assert query(client, "/latentstage/cppn/scale") == ("/latentstage/cppn/scale", [6.0])
        client.send_message("/latentstage/scene/next", [])
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "bloom")
        # once bloom is on screen, the query says so (it used to answer the scene before scene.next)
        assert query(client, "scene") == ("/latentstage/scene", ["bloom"])
        assert query(client, "/latentstage/cppn/scale") == ("/latentstage/cppn/scale", [4.0])  # bloom's, now

        # two presses in one bundle arrive within one frame: two scenes on, round past the last to the first
        bundle = OscBundleBuilder(IMMEDIATELY)
        for _ in range(2):
            bundle.add_content(OscMessageBuilder("/latentstage/scene/next").build())
        client.send(bundle.build())
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift")
        assert query(client, "scene") == ("/latentstage/scene", ["drift"])
        assert run.stop() == 0, run.errors()


def test_feedback_echoes_scene_changes_made_by_a_cue_and_by_scene_next(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as controller:
        controller.bind(("127.0.0.1", 0))  # the controller's own port, where its labels are updated
        show = write_show(tmp_path, [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0),
                                     cppn_scene("third", seed=3, scale=3.0)],
                          cues=[{"at": 0, "scene": "drift"}, {"at": 1.0, "scene": "bloom"}],
                          osc={"port": 0, "feedback": f"127.0.0.1:{controller.getsockname()[1]}"})
        heard: list[str] = []

        def hear_scene(name: str) -> None:
            deadline = time.monotonic() + START_TIMEOUT
            while name not in heard:
                controller.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    message = OscMessage(controller.recv(65536))
                except TimeoutError:
                    pytest.fail(f"no feedback /latentstage/scene {name}; heard {heard}:\n{run.errors()}")
                if message.address == "/latentstage/scene":
                    heard.extend(message.params)

        with LiveShow(show, "--headless") as run:
            hear_scene("bloom")  # the cue at 1 s
            SimpleUDPClient("127.0.0.1", osc_port(run)).send_message("/latentstage/scene/next", [])
            hear_scene("third")  # scene.next, from a controller on the feedback host: the new scene still goes out
            assert heard == ["bloom", "third"]
            run.wait_for_hud(lambda hud: scene_on_screen(hud) == "third")  # what the labels say is on screen
            assert run.stop() == 0, run.errors()


def test_a_controller_sets_a_parameter_until_follow_hands_it_back_from_python_osc_and_oscsend(tmp_path):
    show = write_show(tmp_path, [cppn_scene("drift", scale=6.0)])
    with LiveShow(show, "--headless") as run:
        hud = run.wait_for_hud(lambda hud: scale_on_hud(hud) is not None, START_TIMEOUT)
        assert scale_on_hud(hud) == (6.0, False), hud
        port = osc_port(run)
        client = SimpleUDPClient("127.0.0.1", port)
        client.send_message("/latentstage/cppn/scale", 12.0)
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (12.0, True))
        assert query(client, "cppn.scale") == ("/latentstage/cppn/scale", [12.0])
        client.send_message("/latentstage/follow", "cppn.scale")
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (6.0, False))  # the scene's own value, not held
        assert query(client, "drift.scale") == ("/latentstage/drift/scale", [6.0])

        # the same from liblo: a float to the scene's own address, then follow by address
        oscsend(port, "/latentstage/drift/scale", "f", "9.5")
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (9.5, True))
        oscsend(port, "/latentstage/follow", "s", "/latentstage/drift/scale")
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (6.0, False))
        assert run.stop() == 0, run.errors()


def test_an_lfo_swings_around_the_performers_value_without_overwriting_it(tmp_path):
    """`{lfo: triangle, to: cppn.scale, out: [3, 9]}`: 3..9 alone; after /latentstage/cppn/scale 12, 9..15,
    and the query still answers 12, the base a controller's knob should show."""
    show = write_show(tmp_path, [cppn_scene("drift", scale=6.0)],
                      mappings=[{"lfo": {"shape": "triangle", "period": 2.0}, "to": "cppn.scale", "out": [3.0, 9.0]}])

    def swing(run: LiveShow, held: bool, timeout: float) -> list[float]:
        """Scale values on the HUD (held or not) until they have spread over at least half the LFO's width."""
        values: list[float] = []

        def wide(hud: str) -> bool:
            shown = scale_on_hud(hud)
            if shown is not None and shown[1] == held:
                values.append(shown[0])
            return len(values) >= 2 and max(values) - min(values) >= 3.0

        run.wait_for_hud(wide, timeout)
        return values

    with LiveShow(show, "--headless") as run:
        alone = swing(run, held=False, timeout=START_TIMEOUT)
        assert all(3.0 - 0.01 <= value <= 9.0 + 0.01 for value in alone), alone  # out, exactly as written
        client = SimpleUDPClient("127.0.0.1", osc_port(run))
        client.send_message("/latentstage/cppn/scale", 12.0)
        around = swing(run, held=True, timeout=CHANGE_TIMEOUT)
        assert all(9.0 - 0.01 <= value <= 15.0 + 0.01 for value in around), around  # the same swing around 12
        assert query(client, "cppn.scale") == ("/latentstage/cppn/scale", [12.0])  # modulation never overwrote it
        assert run.stop() == 0, run.errors()
