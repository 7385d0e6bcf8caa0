"""Where the picture is sent: the command line's and the show's forms of an output, checked as they are read."""
from pathlib import Path

import pytest

from live.output.ndi_out import NdiOutput
from live.output.sender import OutputError
from live.output.send_targets import SendConfig, outputs_for, parse_send
from live.output.stream_out import StreamOutput, _with_defaults
from live.output.vcam_out import VcamOutput
from live.show.schema import ShowError, parse_show
from tests.conftest import REPO

SHOW = """\
name: sent
output:
  width: 320
  height: 180
  send:
    - ndi: stage left
    - stream: udp://127.0.0.1:5000
      size: [1280, 720]
{extra}scenes:
  - {{name: drift, kind: cppn, model: MODEL}}
""".replace("MODEL", str(REPO / "models" / "cppn-tanh.onnx"))


@pytest.mark.parametrize("text, fields", [
    ("ndi", {"ndi": "latentstage"}), ("ndi:stage left", {"ndi": "stage left"}),
    ("vcam", {"vcam": True}), ("vcam:/dev/video2", {"vcam": "/dev/video2"}),
    ("udp://127.0.0.1:5000", {"stream": "udp://127.0.0.1:5000"}),
    ("tcp://10.0.0.2:9000?listen=0", {"stream": "tcp://10.0.0.2:9000?listen=0"}),
])
def test_the_command_line_forms_name_one_output(text, fields):
    assert parse_send(text) == fields
    assert SendConfig.model_validate(text) == SendConfig(**fields)


def test_a_show_declares_its_outputs_and_each_builds_its_kind():
    show = parse_show(SHOW.format(extra="    - vcam: true\n    - tcp://127.0.0.1:6000\n"), Path("show.yaml"))
    outputs = outputs_for(show.output.send, [], 30.0, (320, 180))  # a show's vcam waits for its device
    assert [type(output) for output in outputs] == [NdiOutput, StreamOutput, VcamOutput, StreamOutput]
    assert [output.label for output in outputs] == ["NDI stage left", "udp://127.0.0.1:5000", "vcam",
                                                    "tcp://127.0.0.1:6000"]
    assert outputs[1].size == (1280, 720) and outputs[0].size is None


@pytest.mark.parametrize("extra, problem", [
    ("    - {ndi: a, vcam: true}\n", "show.yaml:9: output.send[2]: each entry sends to one output: ndi: NAME, "
                                    "stream: URL or vcam: true; not ndi and vcam"),
    ("    - {stream: 'rtp://127.0.0.1:5004'}\n", "show.yaml:9: output.send[2]: 'rtp://127.0.0.1:5004': a stream goes to"),
    ("    - {stream: 'udp://127.0.0.1:1', size: [641, 360]}\n", "show.yaml:9: output.send[2]: size 641x360: even"),
    ("    - {ndi: x, port: 5}\n", "show.yaml:9: output.send[2].port"),
])
def test_a_bad_output_in_a_show_is_refused_at_its_line(extra, problem):
    with pytest.raises(ShowError) as refused:
        parse_show(SHOW.format(extra=extra), Path("show.yaml"))
    assert str(refused.value).startswith(problem), str(refused.value)


def test_one_output_asked_for_twice_is_refused():
    show = parse_show(SHOW.format(extra=""), Path("show.yaml"))
    with pytest.raises(OutputError, match=r"^udp://127.0.0.1:5000 is asked for twice"):
        outputs_for(show.output.send, ["udp://127.0.0.1:5000"], 30.0, (320, 180))


def test_stream_addresses_get_the_options_a_live_stream_needs_unless_they_name_their_own():
    assert _with_defaults("udp://127.0.0.1:5000") == "udp://127.0.0.1:5000?pkt_size=1316"
    assert _with_defaults("udp://127.0.0.1:5000?ttl=4") == "udp://127.0.0.1:5000?ttl=4&pkt_size=1316"
    assert _with_defaults("udp://127.0.0.1:5000?pkt_size=188") == "udp://127.0.0.1:5000?pkt_size=188"
    assert _with_defaults("tcp://127.0.0.1:5000") == "tcp://127.0.0.1:5000?timeout=2000000"
