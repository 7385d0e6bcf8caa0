"""The log loses no line while the audio input retries a missing device.

sounddevice points descriptor 2 at /dev/null each time the audio input
re-initialises PortAudio to rescan for a replugged device; a log written to
descriptor 2 itself lost the lines other threads wrote meanwhile.
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

RESCANS = 4  # failed opens of the missing device; every one after the first re-initialises PortAudio

SCRIPT = textwrap.dedent(f"""
    import logging, time
    from live.core.logs import configure_logging
    from live.inputs.audio import AudioConfig, open_audio

    configure_logging()
    audio = open_audio(AudioConfig(kind="input", device="no such device here"), time.monotonic)
    audio.start()
    log = logging.getLogger("counter")
    written, deadline = 0, time.monotonic() + 120
    while audio.worker.health().failures < {RESCANS} and time.monotonic() < deadline:
        log.info("line %d", written)  # this thread's lines, while the worker thread rescans
        written += 1
        time.sleep(0.0002)
    audio.stop()
    print(written, audio.worker.health().failures)
""")


def test_no_log_line_is_lost_while_the_audio_input_rescans_for_a_missing_device():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    written, failures = map(int, done.stdout.split())
    assert failures >= RESCANS, "the audio input did not retry: nothing was tested"
    numbers = [int(found) for found in re.findall(r"counter: line (\d+)$", done.stderr, re.MULTILINE)]
    missing = sorted(set(range(written)) - set(numbers))
    assert not missing, f"{len(missing)} of {written} log lines lost, first {missing[:5]}"
    assert "no sound: cannot open audio input 'no such device here'" in done.stderr  # the worker's own line too
