"""Edits of a running show's file (a capture, a MIDI-learned mapping) made off the frame's thread.

Each edit reads, checks and rewrites the YAML (a few hundred milliseconds of
parsing on a busy CPU): on the thread that composes frames that is a visible
hitch, so the frame thread only submits the edit and this writer's thread makes
it, one at a time in the order they came (live.show.show_edit also keeps two
edits from overlapping). A flood (a MIDI button hammered) is refused and
counted beyond a few waiting edits, and a stop writes what was waiting first:
nothing pressed before the end is lost. What the last edit did is `notice`,
for the HUD; `done` counts edits finished, so the HUD can tell a new notice.
A running show's edits all go through the process's one writer, SHOW_FILE_WRITER
(the conductor's captures and the MIDI controller's learned mappings alike).
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from live.show.schema import ShowError

log = logging.getLogger("latentstage.show_file")

PENDING = 8  # edits waiting to be written at most; more are refused


class ShowFileWriter:
    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=PENDING)
        self._thread: threading.Thread | None = None
        self.notice = ""  # what the last edit did (or why it could not)
        self.done = 0  # edits finished, written or refused by the file's checks
        self.refused = 0  # edits not made: too many were waiting

    def submit(self, what: str, edit: Callable[[], str]) -> None:
        """Make `edit` (it writes the file and returns what it did, in words) soon; `what` names it in the log
        ("capture", "MIDI learn")."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="show-file", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait((what, edit))
        except queue.Full:
            self.refused += 1
            if self.refused == 1 or self.refused % 100 == 0:  # a flood is counted, not logged line by line
                log.warning("%s refused: %d edits of the show file are waiting already (%d refused)", what,
                            PENDING, self.refused)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what was submitted before the stop, then end the thread."""
        if self._thread is not None:
            self._queue.put(None, timeout=timeout)
            self._thread.join(timeout)
            self._thread = None

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            what, edit = item
            try:
                message = edit()
                log.info("%s", message)
            except ShowError as error:  # the edit says what it was ("capture: ...")
                message = str(error)
                log.warning("%s", message)
            except OSError as error:  # a full disk, a read-only folder: the show goes on
                message = f"{what}: cannot write the show file: {error.strerror or error}"
                log.warning("%s", message)
            self.notice = message
            self.done += 1


SHOW_FILE_WRITER = ShowFileWriter()  # the process's: a running show's captures and learned mappings, in order
