"""The operator window: a pyglet window beside the program, with a program monitor, a preview and text panels.

The program (the audience's picture) goes full-screen on one screen; this
window goes on another (or beside it on one screen) and shows the operator, at
a glance: a small monitor of the program, the preview of what comes on next,
the HUD and the cue list. It knows nothing of shows: it is handed pictures and
text (live.show.operator_desk decides what). Each monitor is a Renderer of its
own on this window's GL context, drawn into its part of the window, so the
program window's renderer, textures and draws are never touched. The window
never waits for vsync: its flip must not hold back the program's.
"""
from __future__ import annotations

import textwrap

import numpy as np
from pydantic import Field

from live.core.config import Settings
from live.output.picture import Picture
from live.output.render import DisplayError, Renderer, RenderConfig

MARGIN = 8  # pixels around and between the panels
TITLE = 20  # pixels of a monitor's title line
FONT = 9  # points of the text
MONOSPACE = ("DejaVu Sans Mono", "Liberation Mono", "Noto Mono", "monospace")  # the cue sheet lines up in columns


class OperatorConfig(Settings):
    """The show's `operator:` block (or `run --operator`): the operator window and how often it draws."""

    screen: int | None = Field(None, ge=0)  # None: the second screen if there is one, else the first
    width: int = Field(800, ge=320)
    height: int = Field(540, ge=240)
    fullscreen: bool = False
    preview_fps: float = Field(5.0, gt=0, le=30)  # new preview pictures a second (rendered off the program's thread)
    # redraws of this window a second: on a CPU rasteriser each costs the program a window's worth of copying
    monitor_fps: float = Field(10.0, gt=0, le=60)


class Layout:
    """Where the panels go in a window of `size` (width, height) for a program of `aspect` (width / height);
    areas are (x, y, width, height) in pixels from the bottom left, as GL counts."""

    def __init__(self, size: tuple[int, int], aspect: float):
        self.size = size
        width, height = size
        monitor_width = (width - 3 * MARGIN) // 2
        monitor_height = min(round(monitor_width / aspect), height // 2)
        monitor_width = min(monitor_width, round(monitor_height * aspect))
        bottom = height - MARGIN - TITLE - monitor_height
        self.program = (MARGIN, bottom, monitor_width, monitor_height)
        self.preview = (2 * MARGIN + monitor_width, bottom, monitor_width, monitor_height)
        self.text_top = bottom - MARGIN  # the HUD and the cue list hang from here
        self.column = (width - 3 * MARGIN) // 2  # width of each text column

    @property
    def preview_size(self) -> tuple[int, int]:
        return self.preview[2], self.preview[3]


class OperatorWindow:
    def __init__(self, window, program_size: tuple[int, int], config: OperatorConfig):
        """`window`: a pyglet window whose GL context is current; `program_size`: (width, height) of the
        program's pictures."""
        import pyglet

        self.window = window
        self.config = config
        self._aspect = program_size[0] / program_size[1]
        self.layout = Layout(window.get_framebuffer_size(), self._aspect)
        shown = RenderConfig(fit="contain", hud=False)
        self.program = Renderer(window, shown, program_size)  # the program monitor, at the program's size
        # The preview's pictures are made at its first size; a window made larger (f) scales them up.
        self.preview = Renderer(window, shown, self.layout.preview_size)
        self._has_preview = False
        self._batch = pyglet.graphics.Batch()
        label = dict(font_size=FONT, color=(230, 230, 230, 255), anchor_y="top", batch=self._batch)
        self._program_title = pyglet.text.Label("PROGRAM", **label)
        self._preview_title = pyglet.text.Label("PREVIEW", **label)
        self._hud = TextPanel(self._batch)
        self._cues = TextPanel(self._batch)
        self._place_labels()

    def _place_labels(self) -> None:
        layout = self.layout
        top = layout.program[1] + layout.program[3] + TITLE - 4
        self._program_title.position = (layout.program[0], top, 0)
        self._preview_title.position = (layout.preview[0], top, 0)
        self._hud.place(MARGIN, layout.text_top, layout.column)
        self._cues.place(2 * MARGIN + layout.column, layout.text_top, layout.column)

    @property
    def closed(self) -> bool:
        """Whether the operator closed the window or pressed Esc in it."""
        return bool(self.window.has_exit)

    @property
    def preview_size(self) -> tuple[int, int]:
        """(width, height) the preview's pictures are made at (drawn 1:1 at the window's first size)."""
        return self.preview.image_size

    def show_program(self, current: Picture, previous: Picture | None, mirror: bool) -> None:
        """A new program picture (and the one it fades from) for the monitor."""
        with self.current():
            self.program.upload(1, current)
            if previous is not None:
                self.program.upload(0, previous)
            self.program.mirror = mirror

    def show_preview(self, picture: np.ndarray | None, mirror: bool) -> None:
        """(H, W, 3) uint8 RGB at `preview_size`, or None: nothing to preview (the preview goes black)."""
        with self.current():
            if picture is not None:
                self.preview.upload(1, picture)
            self.preview.mirror = mirror
        self._has_preview = picture is not None

    def set_text(self, program_title: str, preview_title: str, hud: str, cues: str) -> None:
        """The titles and the text panels (pyglet lays a changed line out again: call it sparingly)."""
        with self.current():  # a layout makes vertex arrays, which belong to the context current then
            for label, text in ((self._program_title, program_title), (self._preview_title, preview_title)):
                if label.text != text:
                    label.text = text
            self._hud.show(hud)
            self._cues.show(cues)

    def draw(self, program_mix: float) -> None:
        """Draw everything into the back buffer (the program monitor at `program_mix` of its fade)."""
        with self.current():
            gl = self.program._gl
            width, height = self.window.get_framebuffer_size()
            if (width, height) != self.layout.size:  # made fullscreen (f) or back
                self.layout = Layout((width, height), self._aspect)
                self._place_labels()
            gl.glViewport(0, 0, width, height)
            gl.glClearColor(0.08, 0.08, 0.08, 1.0)
            gl.glClear(gl.GL_COLOR_BUFFER_BIT)
            self.program.draw(program_mix, self.layout.program)
            if self._has_preview:
                self.preview.draw(1.0, self.layout.preview)
            else:
                gl.glEnable(gl.GL_SCISSOR_TEST)
                gl.glScissor(*self.layout.preview)
                gl.glClearColor(0.0, 0.0, 0.0, 1.0)
                gl.glClear(gl.GL_COLOR_BUFFER_BIT)
                gl.glDisable(gl.GL_SCISSOR_TEST)
            gl.glViewport(0, 0, width, height)  # the labels draw in window coordinates
            gl.glEnable(gl.GL_BLEND)
            gl.glBlendFunc(gl.GL_SRC_ALPHA, gl.GL_ONE_MINUS_SRC_ALPHA)
            self._batch.draw()

    def read_pixels(self) -> np.ndarray:
        """The back buffer as (H, W, 3) uint8 RGB, top row first (after `draw`, before `flip`)."""
        with self.current():
            return self.program.read_pixels()

    def flip(self) -> None:
        with self.current():
            self.window.flip()

    def dispatch_events(self) -> None:
        self.window.dispatch_events()

    def close(self) -> None:
        self.window.close()

    def current(self):
        """A block with this window's GL context current (nested blocks switch nothing): wrap a whole
        redraw in one, since a switch costs a millisecond or two on a CPU rasteriser."""
        return _CurrentContext(self.window)


class TextPanel:
    """Lines of monospaced text hanging from a point, one label a line, wrapped to a width: only the
    lines that changed are laid out again (a multi-line label lays all of itself out on any change,
    tens of milliseconds a time for the HUD)."""

    def __init__(self, batch):
        self._batch = batch
        self._labels: list = []
        self._x, self._top, self._width = 0, 0, 100
        self._char: float | None = None  # pixels a character takes

    def place(self, x: int, top: int, width: int) -> None:
        self._x, self._top, self._width = x, top, width
        for row, label in enumerate(self._labels):
            label.position = (x, top - row * self._line_height(), 0)

    def show(self, text: str) -> None:
        lines = self._wrapped(text)
        while len(self._labels) < len(lines):
            self._labels.append(self._label(len(self._labels)))
        for label, line in zip(self._labels, lines + [""] * (len(self._labels) - len(lines))):
            if label.text != line:
                label.text = line

    def _wrapped(self, text: str) -> list[str]:
        if self._char is None:
            probe = self._label(0, "M" * 20)
            self._char = probe.content_width / 20
            probe.delete()
        columns = max(8, int(self._width / self._char))
        return [piece for line in text.splitlines()
                for piece in textwrap.wrap(line, columns, subsequent_indent="    ") or [""]]

    def _line_height(self) -> int:
        return round(FONT * 1.7)

    def _label(self, row: int, text: str = ""):
        import pyglet

        return pyglet.text.Label(text, x=self._x, y=self._top - row * self._line_height(), anchor_y="top",
                                 font_name=MONOSPACE, font_size=FONT, color=(230, 230, 230, 255), batch=self._batch)


class _CurrentContext:
    """This window's GL context current inside the block, and the one current before it after (the
    program's: its loop never switches contexts itself)."""

    def __init__(self, window):
        self.window = window
        self._before = None

    def __enter__(self) -> None:
        from pyglet import gl

        self._before = gl.current_context
        if self._before is not self.window.context:
            self.window.switch_to()

    def __exit__(self, *exc_info) -> None:
        if self._before is not None and self._before is not self.window.context:
            self._before.set_current()


def open_operator_window(config: OperatorConfig, program_size: tuple[int, int]) -> OperatorWindow:
    """The operator window on its screen (pyglet imported and told windowed already: open the program's
    renderer first, with `live.output.render.open_renderer`)."""
    import pyglet

    screens = pyglet.display.get_display().get_screens()
    index = config.screen if config.screen is not None else min(1, len(screens) - 1)
    if index >= len(screens):
        raise DisplayError(f"operator screen {index} asked for, but the display has {len(screens)} "
                           f"(screens count from 0)")
    size = {} if config.fullscreen else {"width": config.width, "height": config.height}
    window = pyglet.window.Window(**size, caption="latentstage operator", fullscreen=config.fullscreen,
                                  screen=screens[index], vsync=False, resizable=False)
    return OperatorWindow(window, program_size, config)
