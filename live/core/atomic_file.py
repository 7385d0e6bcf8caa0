"""Atomic file writes: a file is either its previous self or complete, never half written.

A writer (torch.save, Pillow, matplotlib) fills a temporary file in the
target's own folder, which is flushed and fsynced and then moved over the
target with os.replace. The folder is the same file system, so the rename is
atomic; a crash, a Ctrl-C or a full disk mid-write leaves the previous file as
it was and removes the temporary one.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_file(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s new content into; it replaces `path` only when the block ends cleanly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a plain open (not tempfile) so the file gets the umask's permissions, like any other output;
    # the leading dot hides it from folder listings and image-folder datasets
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    # the rename lives in the folder's entry table: sync it too, or a power cut can undo it
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a folder; NTFS journals the rename
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
