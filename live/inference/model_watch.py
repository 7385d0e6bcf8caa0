"""Watching a running show's model file: a replaced file is loaded and warmed off the render path, a bad one refused.

An operator copies a retrained model over the old one while the installation
runs, or a disk goes bad under it. The loaded ONNX Runtime session never
notices: it read the whole file when it opened. A `ModelWatcher` looks at the
file's inode, size and modification time every POLL_EVERY seconds on its own
supervised thread, never in the render loop. Once a change has stood still for
one look (so a copy in progress is not read half-written) it loads the file,
checks that it eats and gives what the running model does (same card
contract) and warms it at the shapes the show runs it at. A good model waits
in a single slot until the stage takes it at a frame boundary; a file that is
garbage, truncated, of another kind or gone is one log line and a health
message, counted, and the loaded model keeps running. After each swap or refusal
the freed sessions' memory is handed back to the system, so an installation
whose model is replaced every night keeps a flat footprint.
"""
from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import threading
from pathlib import Path

import numpy as np

from live.core.clock import Clock
from live.core.worker import SupervisedWorker
from live.inference.engine import Engine, EngineConfig, EngineError
from live.inference.model_card import ModelCard

log = logging.getLogger("latentstage.models")

POLL_EVERY = 0.5  # seconds between looks at the file: a change is loaded 0.5 to 1 s after it stops
# Card fields that may differ between a running model and its replacement: how it was made and
# its defaults. Everything else (kind, inputs, ranges, layout, sizes) must match, or the scene
# would feed it the wrong tensors.
PROVENANCE = {"scale", "arch", "latent", "command", "data", "steps", "seed", "date", "extra"}

FileVersion = tuple[int, int, int]  # (inode, size in bytes, mtime in ns)


def file_version(path: Path) -> FileVersion | None:
    """What tells one version of the file from the next; None while there is no file."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def release_freed_memory() -> None:
    """Hand memory freed by a dropped ONNX Runtime session back to the system. glibc keeps it for reuse, and
    each reload leaves differently sized holes: without this, resident memory climbs by tens of MB over the
    first dozen reloads. Nothing where the C library has no malloc_trim (not glibc)."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # None: this process's own C library
    if trim is not None:
        trim(0)


def contract_difference(running: ModelCard, new: ModelCard) -> str | None:
    """Why `new` cannot stand in for `running` (the first field that differs), or None if it can."""
    for field in dataclasses.fields(ModelCard):
        if field.name not in PROVENANCE and getattr(running, field.name) != getattr(new, field.name):
            return f"its {field.name} is {getattr(new, field.name)!r}, the running model's is " \
                   f"{getattr(running, field.name)!r}"
    return None


class ModelWatcher:
    """Loads each new version of the file behind `engine`; `take()` hands over a warmed replacement once."""

    def __init__(self, engine: Engine, config: EngineConfig, clock: Clock, poll: float = POLL_EVERY):
        self.path = engine.path
        self.config = config
        self.poll = poll  # seconds
        self._card = engine.card  # what a replacement must match (the engine itself is not kept)
        self._shapes = engine.input_shapes()  # the shapes the show runs it at, to warm a replacement
        self._tried = file_version(self.path)  # the version running, or the last one tried
        self._changed_to: FileVersion | None = self._tried  # the version seen at the last look
        self._lock = threading.Lock()  # guards the slot and the figures below
        self._ready: Engine | None = None  # loaded and warmed, not yet taken
        self.reloads = 0  # replacements taken
        self.refused = 0  # versions of the file that could not be used
        self.problem = ""  # why the newest version is not running; "" when it is
        self._taken = False  # a replacement was taken: the old session is gone by the next look
        self.worker = SupervisedWorker(f"model {self.path.name}", self._work, clock)

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def take(self) -> Engine | None:
        """The replacement loaded since the last call, or None; the caller swaps it in."""
        with self._lock:
            engine, self._ready = self._ready, None
            if engine is not None:
                self.reloads += 1
                self._taken = True
            return engine

    # ---- the watcher's thread

    def _work(self, worker: SupervisedWorker) -> None:
        worker.mark_healthy("watching")
        while not worker.wait(self.poll):
            if self._taken:  # the renderer swapped and dropped the old session: free its memory here, not there
                self._taken = False
                release_freed_memory()
            version = file_version(self.path)
            if version == self._tried:
                continue
            if version != self._changed_to:  # still changing (a copy in progress): look again later
                self._changed_to = version
                continue
            self._tried = version  # each version is tried once: a bad file is not reloaded every poll
            self._try(version)
            release_freed_memory()  # what a refused load allocated

    def _try(self, version: FileVersion | None) -> None:
        if version is None:
            self._refuse(f"{self.path}: the file is gone")
            return
        try:
            engine = self._load()
        except EngineError as error:  # its message names the file
            self._refuse(str(error))
            return
        except Exception as error:  # ONNX Runtime's own errors, from a warm-up at the show's shapes
            self._refuse(f"{self.path}: does not run at the show's sizes "
                         f"({type(error).__name__}: {' '.join(str(error).split())})")
            return
        with self._lock:
            self._ready, self.problem = engine, ""

    def _refuse(self, reason: str) -> None:
        with self._lock:
            self.refused += 1
            self.problem = f"{reason}; running the model loaded before"
        log.warning("model file changed but cannot be used: %s; the loaded model keeps running", reason)

    def _load(self) -> Engine:
        engine = Engine.load(self.path, self.config)
        difference = contract_difference(self._card, engine.card)
        if difference is not None:
            raise EngineError(f"{self.path}: not a stand-in for the running model: {difference}")
        for shapes in self._shapes:
            engine.warm_up({name: np.zeros(shape, np.float32) for name, shape in shapes.items()})
        return engine
