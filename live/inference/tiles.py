"""A per-pixel model (a CPPN) run over its frame in cache-sized tiles, one worker per physical core.

Run over a whole 1080p frame, each CPPN layer writes H*W*n floats (265 MB at
n = 32) that the next layer reads back from main memory, so even fused into one
Gemm per layer the CPU waits on memory. A CPPN's pixels are independent, so the
frame is cut into tiles of a few thousand pixels whose activations stay in a
core's cache through the whole network; measured on the 2-core development
machine, one thread over tiles was 1.7-2.6x one or two threads over the whole
frame. Each worker runs its own share of the tiles through one ONNX Runtime
session opened with one intra-op thread (ORT's Run is thread-safe, and a
thread pool inside each small Gemm would cost more in synchronisation than it
gains); the workers are the machine's threads: one per physical core.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort

from live.inference.cpu_threads import physical_cores

TILE_ACTIVATION_BYTES = 1 << 20  # one layer's output per tile: 1 MB fits a core's L2 with room for the next


class PixelTiles:
    """(coords (H, W, 3), z (1, z_dim), scale (1,)) -> (H, W, channels) float32, tile by tile on the CPU."""

    def __init__(self, path: str | Path, channels: int, net_size: int, workers: int | None = None):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._output = self._session.get_outputs()[0].name
        self.channels = channels
        self.tile = self.tile_for(net_size)  # pixels per tile
        self.workers = workers or physical_cores()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="cppn-tile") if self.workers > 1 else None
        self._image: np.ndarray | None = None  # (H, W, channels) float32, reused

    @staticmethod
    def tile_for(net_size: int) -> int:
        """Pixels per tile: one layer's float32 activations fill TILE_ACTIVATION_BYTES."""
        return max(256, TILE_ACTIVATION_BYTES // (4 * net_size))

    def run(self, coords: np.ndarray, z: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """The image, in a buffer reused by the next run at the same size."""
        height, width = coords.shape[:2]
        if self._image is None or self._image.shape[:2] != (height, width):
            self._image = np.empty((height, width, self.channels), dtype=np.float32)
        pixels = np.ascontiguousarray(coords, dtype=np.float32).reshape(1, -1, 3)  # (1, H*W, 3): a "row" of pixels
        image = self._image.reshape(1, -1, self.channels)
        starts = range(0, height * width, self.tile)
        z = np.ascontiguousarray(z, dtype=np.float32)
        scale = np.ascontiguousarray(scale, dtype=np.float32)

        def share(worker: int) -> None:  # every workers-th tile: contiguous work, no queue per tile
            for start in starts[worker::self.workers]:
                end = start + self.tile
                feeds = {"coords": pixels[:, start:end], "z": z, "scale": scale}
                image[:, start:end] = self._session.run([self._output], feeds)[0]

        if self._pool is None:
            share(0)
        else:
            for done in [self._pool.submit(share, worker) for worker in range(self.workers)]:
                done.result()  # re-raises a worker's error here
        return self._image

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
