"""Image filters between a source and a model: auto-Canny edges, gray, fit to a size.

The math lives in pure functions (`auto_canny`, `to_gray`, `fit_to`) that
trainers, exporters and the live loop share. A `FilterChain` runs a list of
steps written in a show as `[{canny: {sigma: 0.4}}, {fit: {width: 256,
height: 256}}]` and keeps one output buffer per step, so a frame costs few
allocations. Its channel count is decided once, from its steps: edges and gray
stay one channel (H, W), all the way into a model that eats them; otherwise
the source's (H, W, 3) RGB. Mirroring is the renderer's alone (`window:
{mirror: true}`, key m, /latentstage/mirror): one flip of the whole picture,
on the GPU.
"""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
from pydantic import Field, TypeAdapter, field_validator, model_validator

from live.core.config import Settings
from live.core.imaging import FitMode
from live.inference.model_card import ModelCard, ModelCardError
from live.inference.model_io import model_size


def to_gray(image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8 luma of an (H, W, 3) uint8 RGB image; a gray image is returned as it is."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY, dst=out)


def median_level(gray: np.ndarray) -> int:
    """Median of a uint8 image (the lower middle value for an even count), from a histogram: no sort."""
    counts = np.bincount(gray.ravel(), minlength=256)
    return int(np.searchsorted(np.cumsum(counts), (gray.size + 1) // 2))


def canny_thresholds(median: float, sigma: float) -> tuple[int, int]:
    """Hysteresis thresholds around the median: a wider sigma keeps fainter edges."""
    lower = int(max(0.0, (1.0 - sigma) * median))
    upper = int(min(255.0, (1.0 + sigma) * median))
    return lower, upper


def auto_canny(image: np.ndarray, sigma: float = 0.33, blur: int = 3, invert: bool = False,
               out: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8 edges (0 or 255) of an RGB or gray uint8 image, thresholds taken from its median.

    blur is the Gaussian kernel size in pixels (odd; 0 = no blur): it keeps sensor
    noise from turning into speckle edges. invert gives black lines on white, as
    SnowGAN's training pairs have them. The training pairs of a pix2pix model and
    the live filter both call this, so a model sees live what it learned on."""
    return canny_of_gray(blurred_gray(image, blur), sigma, invert, out)


def blurred_gray(image: np.ndarray, blur: int) -> np.ndarray:
    """The (H, W) uint8 luma, Gaussian-blurred with a `blur`-pixel kernel (odd; 0 = as it is)."""
    _check_blur(blur)
    gray = to_gray(image)
    if blur:
        gray = cv2.GaussianBlur(gray, (blur, blur), 0)  # allocates: cv2 cannot blur a read-only input in place
    return gray


def canny_of_gray(gray: np.ndarray, sigma: float, invert: bool = False, out: np.ndarray | None = None) -> np.ndarray:
    """Canny edges of an already blurred (H, W) uint8 luma, hysteresis thresholds around its median."""
    lower, upper = canny_thresholds(median_level(gray), sigma)
    edges = cv2.Canny(gray, lower, upper, edges=out)
    return cv2.bitwise_not(edges, dst=edges) if invert else edges


def fit_to(image: np.ndarray, width: int, height: int, mode: FitMode = "cover",
           out: np.ndarray | None = None) -> np.ndarray:
    """The image resized to exactly (height, width) (plus its channels, if any).

    cover: fill the whole target and crop the overflow around the centre;
    contain: show the whole image, letterboxed with black;
    stretch: ignore the aspect ratio."""
    if out is None:
        out = np.empty((height, width, *image.shape[2:]), dtype=image.dtype)
    source_height, source_width = image.shape[:2]
    if mode == "stretch":
        return cv2.resize(image, (width, height), dst=out, interpolation=_interpolation(image, width))
    if mode == "cover":
        crop_width, crop_height = _cover_crop(source_width, source_height, width, height)
        left = (source_width - crop_width) // 2
        top = (source_height - crop_height) // 2
        crop = image[top:top + crop_height, left:left + crop_width]
        return cv2.resize(crop, (width, height), dst=out, interpolation=_interpolation(crop, width))
    inner_width, inner_height = _contain_size(source_width, source_height, width, height)
    left = (width - inner_width) // 2
    top = (height - inner_height) // 2
    out.fill(0)
    # cv2 writes straight into the window of `out` (a view), so the bars stay black
    cv2.resize(image, (inner_width, inner_height), dst=out[top:top + inner_height, left:left + inner_width],
               interpolation=_interpolation(image, inner_width))
    return out


def _cover_crop(source_width: int, source_height: int, width: int, height: int) -> tuple[int, int]:
    """Size of the centre crop with the target's aspect ratio (pixels, at least 1)."""
    if source_width * height > width * source_height:  # source wider than the target
        return max(1, round(source_height * width / height)), source_height
    return source_width, max(1, round(source_width * height / width))


def _contain_size(source_width: int, source_height: int, width: int, height: int) -> tuple[int, int]:
    """Size of the whole image scaled into the target (pixels, at least 1)."""
    scale = min(width / source_width, height / source_height)
    return max(1, min(width, round(source_width * scale))), max(1, min(height, round(source_height * scale)))


def _interpolation(image: np.ndarray, target_width: int) -> int:
    """Area averaging when shrinking (no aliasing), linear when enlarging."""
    return cv2.INTER_AREA if target_width < image.shape[1] else cv2.INTER_LINEAR


def _check_blur(blur: int) -> None:
    if blur < 0 or (blur and blur % 2 == 0):
        raise ValueError(f"blur is a Gaussian kernel size: 0 (none) or an odd number of pixels, not {blur}")


class CannyConfig(Settings):
    sigma: float = Field(0.33, ge=0, le=1)  # thresholds at (1 -/+ sigma) * median level
    blur: int = Field(3, ge=0, le=31)  # Gaussian kernel size in pixels, odd; 0 = no blur
    invert: bool = False  # black lines on white (pix2pix edge models are trained on those)
    # Share of the previous frames kept in the picture the edges are found in (0 = none):
    # a still visitor's sensor noise then stops flipping faint edges on and off (no "boiling").
    stabilise: float = Field(0.0, ge=0, le=0.95)

    @field_validator("blur")
    @classmethod
    def _odd_or_zero(cls, blur: int) -> int:
        _check_blur(blur)
        return blur


class FitConfig(Settings):
    width: int = Field(ge=1)  # pixels
    height: int = Field(ge=1)  # pixels
    mode: FitMode = "cover"


class GrayConfig(Settings):
    """Luma only, one channel; no settings."""


STEP_NAMES = ("canny", "fit", "gray")
GONE_STEPS = {"mirror": "the renderer mirrors the whole picture: give the show `window: {mirror: true}` "
                        "(key m, /latentstage/mirror)"}


class FilterStep(Settings):
    """One step of a chain, written `{name: settings}`; exactly one field is set."""

    canny: CannyConfig | None = None
    fit: FitConfig | None = None
    gray: GrayConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_known_step(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # an already built FilterStep, or a type error pydantic reports itself
        if len(data) != 1:
            raise ValueError(f"a filter step is one `name: settings` pair, e.g. {{canny: {{sigma: 0.4}}}}; "
                             f"got {len(data)} keys: {', '.join(map(str, data)) or 'none'}")
        (name, settings), = data.items()
        if name in GONE_STEPS:
            raise ValueError(f"there is no {name} step; {GONE_STEPS[name]}")
        if name not in STEP_NAMES:
            raise ValueError(f"unknown filter step {name!r}; the steps are: {', '.join(STEP_NAMES)}")
        return {name: {} if settings is None else settings}  # `- gray:` in YAML reads as None

    @property
    def name(self) -> str:
        return next(name for name in STEP_NAMES if getattr(self, name) is not None)

    @property
    def settings(self) -> CannyConfig | FitConfig | GrayConfig:
        return getattr(self, self.name)


# How much of the past a pix2pix model's edges keep when its card brings them (CannyConfig.stabilise):
# enough that a still visitor does not boil, little enough that a moving one does not smear.
MODEL_EDGE_STABILISE = 0.6


def with_model_inputs(steps: Sequence[FilterStep], card: ModelCard) -> list[FilterStep]:
    """The show's steps made to feed the model: a fit step fits the size the model runs at (the
    nearest its card allows), so the frame is resampled once on its way in; then what the card
    says its training inputs were made with (edges with these Canny settings, or gray), unless the
    show already makes them: a show names only the model file."""
    steps = [_fitting_model(step, card) if step.fit is not None else step for step in steps]
    if card.input == "edges" and not any(step.canny is not None for step in steps):
        extra = card.extra
        try:
            canny = CannyConfig(sigma=float(extra.get("canny_sigma", CannyConfig().sigma)),
                                blur=int(extra.get("canny_blur", CannyConfig().blur)),
                                invert=extra.get("canny_invert", "false") == "true", stabilise=MODEL_EDGE_STABILISE)
        except ValueError as error:
            raise ModelCardError(f"the model card's Canny settings are unusable: {error}") from None
        steps.append(FilterStep(canny=canny))
    elif card.input == "gray" and not any(step.gray is not None or step.canny is not None for step in steps):
        steps.append(FilterStep(gray=GrayConfig()))
    return steps


def _fitting_model(step: FilterStep, card: ModelCard) -> FilterStep:
    width, height = model_size(step.fit.width, step.fit.height, card)
    if (width, height) == (step.fit.width, step.fit.height):
        return step
    return FilterStep(fit=step.fit.replaced(width=width, height=height))


FilterSteps = list[FilterStep]  # what a show embeds: `filters: [{canny: {}}, {fit: {...}}]`

_STEPS_ADAPTER = TypeAdapter(FilterSteps)


class FilterChain:
    """Runs filter steps in order; `apply` returns uint8 (H, W) edges or gray, or (H, W, 3) RGB, as
    `channels` says.

    Each step writes into a buffer it keeps (reallocated only when the input size
    changes), so the returned array belongs to the chain and is valid until the
    next `apply`: copy it before handing it to another thread. With no step that
    changes an RGB input, the input itself comes back. Not thread-safe: one chain
    per pipeline thread."""

    def __init__(self, steps: Sequence[FilterStep | dict] = ()):
        self.steps: list[FilterStep] = _STEPS_ADAPTER.validate_python(list(steps))
        self._buffers: list[np.ndarray | None] = [None] * len(self.steps)  # one per step
        self._averages: list[np.ndarray | None] = [None] * len(self.steps)  # stabilised Canny steps' running luma
        # decided once: a canny or gray step makes one channel, and no step makes three again
        self.channels = 1 if any(step.canny is not None or step.gray is not None for step in self.steps) else 3

    def apply(self, rgb: np.ndarray, canny_sigma: float | None = None, stabilise: float | None = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB in; (H', W') or (H', W', 3) uint8 out, `channels` of them.
        `canny_sigma` (a performer's fader) and `stabilise` (a scene tuning toward its flicker target)
        override the Canny steps' own when given."""
        image = rgb
        for index, step in enumerate(self.steps):
            image = self._run(index, step, image, canny_sigma, stabilise)
        return image

    def stabilise(self) -> float:
        """The stabilise of its first Canny step (0 without one): where a tuned scene starts."""
        return next((step.canny.stabilise for step in self.steps if step.canny is not None), 0.0)

    def _run(self, index: int, step: FilterStep, image: np.ndarray, canny_sigma: float | None,
             stabilise: float | None) -> np.ndarray:
        settings = step.settings
        if isinstance(settings, CannyConfig):
            sigma = settings.sigma if canny_sigma is None else canny_sigma
            keep = settings.stabilise if stabilise is None else stabilise
            gray = blurred_gray(image, settings.blur)
            if keep:
                gray = self._stabilised(index, gray, keep)
            else:
                self._averages[index] = None  # stabilised again later: the average starts from that frame
            return canny_of_gray(gray, sigma, settings.invert, out=self._buffer(index, image.shape[:2]))
        if isinstance(settings, FitConfig):
            shape = (settings.height, settings.width, *image.shape[2:])
            return fit_to(image, settings.width, settings.height, settings.mode, out=self._buffer(index, shape))
        if image.ndim == 2:
            return image  # already gray (edges, or gray twice)
        return to_gray(image, out=self._buffer(index, image.shape[:2]))

    def _stabilised(self, index: int, gray: np.ndarray, keep: float) -> np.ndarray:
        """A one-pole running average of the luma over frames, as uint8; restarts when the size changes."""
        average = self._averages[index]
        if average is None or average.shape != gray.shape:
            average = self._averages[index] = gray.astype(np.float32)
        else:
            cv2.accumulateWeighted(gray, average, 1.0 - keep)  # in place, straight from uint8: no copy a frame
        return cv2.convertScaleAbs(average)  # rounds and saturates to uint8

    def _buffer(self, index: int, shape: tuple[int, ...]) -> np.ndarray:
        buffer = self._buffers[index]
        if buffer is None or buffer.shape != shape:
            buffer = self._buffers[index] = np.empty(shape, dtype=np.uint8)
        return buffer
