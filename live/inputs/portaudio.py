"""PortAudio through sounddevice, kept from a JACK server unless the show's audio device names JACK.

PortAudio 19.6's JACK host API opens a JACK client when PortAudio initialises,
and asserts when it terminates that the client deactivated. With the JACK
server gone since (stopped, restarted, crashed), Pa_Terminate aborts the whole
process (`pa_jack.c:820: Terminate: Assertion 'err == 0' failed`, PortAudio
issue 819): at the audio input's rescan for a replugged device, or at exit. A
show whose MIDI runs through JACK and whose sound comes from the sound card
(ALSA, PulseAudio) never needed that client, so PortAudio initialises with
JACK out of sight (live.core.jack_clients) unless the show's audio device
names JACK (`device: "system, JACK"`; sounddevice matches a device by its name
and its host API's). Where it does, PortAudio keeps its client for the life
of the process: it is never re-initialised (a replugged device is not looked
for) nor terminated at exit, so a JACK server that goes away costs the sound,
never the show.
"""
from __future__ import annotations

import atexit
import contextlib
from types import ModuleType

from live.core.jack_clients import out_of_sight


def names_jack(device: int | str | None) -> bool:
    """Whether a show's `audio.device` asks for a JACK device (by its name or its host API's)."""
    return isinstance(device, str) and "jack" in device.lower()


def sounddevice_for(device: int | str | None) -> ModuleType:
    """sounddevice, its PortAudio initialised as `device` needs (importing it initialises PortAudio);
    raises ImportError, or OSError where libportaudio2 is missing."""
    with _sight_for(device):
        import sounddevice
    _kept_if_jack(sounddevice)
    return sounddevice


def rescan(sounddevice: ModuleType, device: int | str | None) -> bool:
    """Re-initialise PortAudio, which lists its devices only then, to find one plugged in since; False,
    and nothing done, while PortAudio holds a JACK client (terminating it could abort the process)."""
    if holds_jack(sounddevice):
        return False
    sounddevice._terminate()
    with _sight_for(device):
        sounddevice._initialize()
    _kept_if_jack(sounddevice)
    return True


def holds_jack(sounddevice: ModuleType) -> bool:
    """Whether PortAudio's JACK host API came up (it holds a client of the server it found)."""
    return any("JACK" in api["name"] for api in sounddevice.query_hostapis())


def _sight_for(device: int | str | None) -> contextlib.AbstractContextManager:
    return contextlib.nullcontext() if names_jack(device) else out_of_sight()


def _kept_if_jack(sounddevice: ModuleType) -> None:
    """A PortAudio holding a JACK client is never terminated, at exit either: sounddevice's exit handler
    terminates it, which aborts the process if the server has gone (the OS closes the client)."""
    if holds_jack(sounddevice):
        atexit.unregister(sounddevice._exit_handler)
