"""The pyglet renderer: two layer textures crossfaded by a shader onto a window or an offscreen surface.

Textures are allocated once per image size and updated in place each frame;
the crossfade, fit and mirror happen on the GPU. The same renderer draws a
fullscreen window live and an invisible headless surface (EGL) in rehearsal,
so both give the same pictures. pyglet is imported only once `open_renderer`
has chosen windowed or headless, because pyglet fixes that at first import.
"""
from __future__ import annotations

import ctypes
import logging
import os
import sys

import numpy as np
from pydantic import Field

from live.core.config import Settings
from live.core.imaging import FitMode
from live.output.picture import Picture, ShaderPicture
from live.output.shaders import ShaderLayers

log = logging.getLogger("latentstage.render")


class RenderConfig(Settings):
    fullscreen: bool = False
    screen: int = Field(0, ge=0)  # which monitor, counted from 0 as the display lists them
    width: int = Field(1280, ge=16)  # window size when not fullscreen
    height: int = Field(720, ge=16)
    vsync: bool = True
    fit: FitMode = "contain"
    mirror: bool = False  # flip left-right, as a mirror installation wants
    hud: bool = False  # frame rate and health overlay; 'h' toggles it
    hide_cursor: bool = True
    # False: no program window on screen (the operator window alone, live.output.operator_window); the
    # program still renders, into a window never shown, for the recording, screenshots and outputs
    visible: bool = True


VERTEX_SHADER = """#version 330 core
in vec2 position;
in vec2 tex_coords;
out vec2 uv;
uniform vec2 fit_scale;
uniform int mirror;
void main() {
    uv = vec2(mirror == 1 ? 1.0 - tex_coords.x : tex_coords.x, tex_coords.y);
    gl_Position = vec4(position * fit_scale, 0.0, 1.0);
}
"""

FRAGMENT_SHADER = """#version 330 core
in vec2 uv;
out vec4 colour;
uniform sampler2D previous_layer;
uniform sampler2D current_layer;
uniform float mix_current;  // 1 shows only the current layer
void main() {
    vec3 previous = texture(previous_layer, uv).rgb;
    vec3 current = texture(current_layer, uv).rgb;
    // rounded to whole levels here: surfaces convert floats to 8 bits their own way (an X window's
    // and an offscreen one's differ by a level on a crossfade), whole levels convert the same
    colour = vec4(floor(mix(previous, current, mix_current) * 255.0 + 0.5) / 255.0, 1.0);
}
"""


def fit_scale(image_size: tuple[int, int], target_size: tuple[int, int], fit: FitMode) -> tuple[float, float]:
    """How much of the target (in each axis, 1 = all of it) the image quad covers."""
    if fit == "stretch":
        return 1.0, 1.0
    image_aspect = image_size[0] / image_size[1]
    target_aspect = target_size[0] / target_size[1]
    wider = image_aspect > target_aspect
    if (fit == "contain") == wider:
        return 1.0, target_aspect / image_aspect
    return image_aspect / target_aspect, 1.0


def display_available() -> bool:
    """Whether a window can be asked for: an X or Wayland display on Linux; always elsewhere."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# GL renderers that rasterise on the CPU, as GL_RENDERER names them
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software rasterizer", "swiftshader", "lavapipe")


def is_software_renderer(gl_renderer: str) -> bool:
    """Whether GL_RENDERER names a CPU rasteriser (Mesa's llvmpipe, SwiftShader...) rather than a GPU."""
    name = gl_renderer.lower()
    return any(software in name for software in SOFTWARE_RENDERERS)


class DisplayError(RuntimeError):
    """No display to open a window on, or no such screen; the message says what to do instead."""


def open_renderer(config: RenderConfig, image_size: tuple[int, int], headless: bool,
                  surface_size: tuple[int, int] | None = None) -> Renderer:
    """Open a window, or an invisible headless surface of surface_size (default: the image's),
    ready to present frames of image_size."""
    if not headless and not display_available():
        raise DisplayError("no display to open a window on (DISPLAY is not set); use `run --headless`, "
                           "or `rehearse` to render into a video")
    import pyglet

    pyglet.options["headless"] = headless
    pyglet.options["debug_gl"] = False  # per-call error checks cost real time in a show
    import pyglet.window

    if headless:
        window = pyglet.window.Window(*(surface_size or image_size), visible=False, config=_full_colour(pyglet))
    else:
        screens = pyglet.display.get_display().get_screens()
        if config.screen >= len(screens):
            raise DisplayError(f"screen {config.screen} asked for, but the display has {len(screens)} "
                               f"(screens count from 0)")
        # Fullscreen takes the screen as it is: given a size too, pyglet would switch the monitor's
        # mode to the closest one (a projector changing resolution), or refuse if none is close.
        size = {} if config.fullscreen else {"width": config.width, "height": config.height}
        window = pyglet.window.Window(
            **size, caption="latentstage", fullscreen=config.fullscreen,
            screen=screens[config.screen], vsync=config.vsync, resizable=True, visible=config.visible,
        )
        window.set_mouse_visible(not config.hide_cursor)
    return Renderer(window, config, image_size)


def _full_colour(pyglet):
    """A surface config with at least 8 bits per colour channel, or None for the platform's default.
    Asked for nothing, Mesa's EGL hands out a 16-bit (RGB565) surface: every rehearsed frame
    would lose its low bits and show banding that the live window does not."""
    template = pyglet.gl.Config(red_size=8, green_size=8, blue_size=8, major_version=3, minor_version=3)
    configs = pyglet.display.get_display().get_default_screen().get_matching_configs(template)
    return configs[0] if configs else None


class Renderer:
    def __init__(self, window, config: RenderConfig, image_size: tuple[int, int]):
        from pyglet import gl
        from pyglet.graphics.shader import Shader, ShaderProgram

        self.window = window
        self.config = config
        self.mirror = config.mirror
        self.fit: FitMode = config.fit
        self.image_size = image_size  # (width, height) the frames are shown as (their aspect fits the window)
        self._gl = gl
        self._program = ShaderProgram(Shader(VERTEX_SHADER, "vertex"), Shader(FRAGMENT_SHADER, "fragment"))
        # Top-left of the screen shows the image's first row: numpy's row 0 is uploaded at v = 0.
        self._quad = self._program.vertex_list(
            4, gl.GL_TRIANGLE_STRIP,
            position=("f", (-1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0)),
            tex_coords=("f", (0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0)),
        )
        self._textures = [self._make_texture(*image_size) for _ in range(2)]  # previous, current
        # each layer's storage follows the pictures put in it: a scene on a ladder rung renders smaller,
        # and sampling stretches it over the same quad
        self._texture_sizes = [image_size, image_size]
        self._readback: np.ndarray | None = None
        self._hud_label = None
        self._hud_backing = None
        self.shaders = ShaderLayers(gl)  # shader pictures drawn here rather than uploaded
        self.gl_renderer: str = gl.gl_info.get_renderer()  # e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"

    @property
    def rasterises_on_cpu(self) -> bool:
        """Whether GL here is a CPU rasteriser (Mesa's llvmpipe, SwiftShader...) rather than a GPU: a
        scene that could draw with a shader may then do better computing its pixels itself."""
        return is_software_renderer(self.gl_renderer)

    def _make_texture(self, width: int, height: int) -> int:
        gl = self._gl
        texture = gl.GLuint()
        gl.glGenTextures(1, ctypes.byref(texture))
        gl.glBindTexture(gl.GL_TEXTURE_2D, texture)
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGB8, width, height, 0, gl.GL_RGB, gl.GL_UNSIGNED_BYTE, None)
        for parameter, value in (
            (gl.GL_TEXTURE_MIN_FILTER, gl.GL_LINEAR), (gl.GL_TEXTURE_MAG_FILTER, gl.GL_LINEAR),
            (gl.GL_TEXTURE_WRAP_S, gl.GL_CLAMP_TO_EDGE), (gl.GL_TEXTURE_WRAP_T, gl.GL_CLAMP_TO_EDGE),
        ):
            gl.glTexParameteri(gl.GL_TEXTURE_2D, parameter, value)
        return texture.value

    def upload(self, layer: int, pixels: Picture) -> None:
        """Copy (H, W, 3) uint8 RGB into layer 0 (previous) or 1 (current), in place; a
        ShaderPicture is drawn into the layer by its program instead."""
        gl = self._gl
        if isinstance(pixels, ShaderPicture):
            self._fit_texture(layer, pixels.width, pixels.height)
            self.shaders.draw_into(self._textures[layer], pixels)
            return
        height, width = pixels.shape[:2]
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"frame {pixels.shape} {pixels.dtype} is not (H, W, 3) uint8 RGB")
        pixels = np.ascontiguousarray(pixels)
        self._fit_texture(layer, width, height)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self._textures[layer])
        gl.glPixelStorei(gl.GL_UNPACK_ALIGNMENT, 1)  # rows of odd widths are not 4-byte aligned
        gl.glTexSubImage2D(gl.GL_TEXTURE_2D, 0, 0, 0, width, height, gl.GL_RGB, gl.GL_UNSIGNED_BYTE,
                           pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte)))

    def _fit_texture(self, layer: int, width: int, height: int) -> None:
        """Give the layer's texture storage of (width, height) if it has another size (a ladder step)."""
        if self._texture_sizes[layer] == (width, height):
            return
        gl = self._gl
        gl.glBindTexture(gl.GL_TEXTURE_2D, self._textures[layer])
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGB8, width, height, 0, gl.GL_RGB, gl.GL_UNSIGNED_BYTE, None)
        self._texture_sizes[layer] = (width, height)

    def draw(self, mix_current: float, area: tuple[int, int, int, int] | None = None) -> None:
        """Draw the layers into the window's back buffer: previous faded into current, over the whole
        window (cleared first), or fitted into `area` (x, y, width, height in pixels from the bottom left)."""
        gl = self._gl
        if area is None:
            width, height = self.window.get_framebuffer_size()
            gl.glViewport(0, 0, width, height)
            gl.glClearColor(0.0, 0.0, 0.0, 1.0)
            gl.glClear(gl.GL_COLOR_BUFFER_BIT)
        else:
            gl.glViewport(*area)
            width, height = area[2], area[3]
        program = self._program
        program.use()
        program["fit_scale"] = fit_scale(self.image_size, (width, height), self.fit)
        program["mirror"] = int(self.mirror)
        program["mix_current"] = float(min(max(mix_current, 0.0), 1.0))
        for unit, name in enumerate(("previous_layer", "current_layer")):
            gl.glActiveTexture(gl.GL_TEXTURE0 + unit)
            gl.glBindTexture(gl.GL_TEXTURE_2D, self._textures[unit])
            program[name] = unit
        self._quad.draw(gl.GL_TRIANGLE_STRIP)
        program.stop()
        gl.glActiveTexture(gl.GL_TEXTURE0)

    def present(self, current: Picture, previous: Picture | None = None, mix_current: float = 1.0) -> None:
        self.upload(1, current)
        if previous is not None:
            self.upload(0, previous)
        self.draw(mix_current if previous is not None else 1.0)

    def draw_hud(self, text: str) -> None:
        import pyglet

        width, height = self.window.get_framebuffer_size()
        if self._hud_label is None:
            self._hud_label = pyglet.text.Label(
                "", x=12, y=height - 12, anchor_y="top", multiline=True, width=max(width - 24, 100),
                font_size=12, color=(255, 255, 160, 255),
            )
            # a dark, half-transparent backing so the text reads over any picture
            self._hud_backing = pyglet.shapes.Rectangle(0, 0, 1, 1, color=(0, 0, 0, 150))
        label = self._hud_label
        label.y = height - 12
        label.text = text
        backing = self._hud_backing
        backing.x, backing.width = 4, min(label.content_width + 16, width - 8)
        backing.height = label.content_height + 12
        backing.y = height - 6 - backing.height
        gl = self._gl
        gl.glEnable(gl.GL_BLEND)
        gl.glBlendFunc(gl.GL_SRC_ALPHA, gl.GL_ONE_MINUS_SRC_ALPHA)
        backing.draw()
        label.draw()

    def read_pixels(self) -> np.ndarray:
        """The back buffer as (H, W, 3) uint8 RGB, top row first. The array is reused."""
        gl = self._gl
        width, height = self.window.get_framebuffer_size()
        if self._readback is None or self._readback.shape[:2] != (height, width):
            self._readback = np.empty((height, width, 3), dtype=np.uint8)
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        gl.glReadPixels(0, 0, width, height, gl.GL_RGB, gl.GL_UNSIGNED_BYTE,
                        self._readback.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte)))
        return self._readback[::-1]  # GL's first row is the bottom one

    def close(self) -> None:
        self.window.close()
