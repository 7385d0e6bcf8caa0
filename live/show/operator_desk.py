"""What the operator window shows, and when: the program monitor, the preview, the HUD and the cue list.

The live run hands the desk each new program frame and calls `draw` once per
loop; the desk redraws the operator window at its own `monitor_fps` (uploading
the newest program picture only then), lays its text out again four times a
second at most (pyglet's text layout is the costly part), and takes the
preview's newest picture from its own thread (live.show.preview). Everything
it draws is a copy or a read: the program's frames, bus and director are
untouched.
"""
from __future__ import annotations

from collections.abc import Callable

from live.output.operator_window import OperatorWindow
from live.output.picture import Picture, ShaderPicture
from live.show.conductor import Conductor
from live.show.director import Director
from live.show.preview import Preview
from live.show.run_outputs import Screenshots
from live.show.schema import cue_sheet
from live.show.stage import Layers, Stage

TEXT_EVERY = 0.5  # seconds between text layouts
CUES_SHOWN = 14  # cue lines in the panel: a few fired before the current one, the rest to come


def cue_lines(stage: Stage, t: float) -> list[str]:
    """The cue sheet with the current cue (the last fired) marked `>` and the standby one `SB`."""
    show, director = stage.show, stage.director
    sheet = cue_sheet(show)
    if not show.cues:
        return sheet
    header, cues, footer = sheet[0], sheet[1:1 + len(show.timeline)], sheet[1 + len(show.timeline):]
    current = _current_cue(director, t)
    standby = director.standby
    marked = []
    for index, line in enumerate(cues):
        mark = ">" if index == current else "SB" if index == standby else ""
        marked.append(f"{mark:<2}{line[2:]}")
    first = max(0, min((current or 0) - 2, len(marked) - CUES_SHOWN))
    return [header, *marked[first:first + CUES_SHOWN], *footer]


def _current_cue(director: Director, t: float) -> int | None:
    """Index (file order) of the cue that fired last by t, read without moving the director."""
    number = director.last_fired(t)
    return None if number is None else number - 1


class OperatorDesk:
    def __init__(self, window: OperatorWindow, stage: Stage, conductor: Conductor, preview: Preview,
                 screenshots: Screenshots | None = None):
        self.window = window
        self.stage = stage
        self.conductor = conductor
        self.preview = preview
        self.screenshots = screenshots  # of the operator window, beside the program's
        self._program: tuple[Picture, Picture | None, bool] | None = None  # newest frame not yet on the monitor
        self._scene = ""
        self._preview_title = "PREVIEW"
        self._next_draw = 0.0  # show time of the next redraw
        self._next_text = 0.0  # show time of the next text layout
        self.drawn = 0  # redraws of the operator window

    @property
    def closed(self) -> bool:
        return self.window.closed

    def start(self) -> None:
        self.preview.start()

    def stop(self) -> None:
        self.preview.stop()

    def dispatch_events(self) -> None:
        self.window.dispatch_events()

    def take(self, layers: Layers, mirror: bool, scene_name: str) -> None:
        """A new program frame (its layers are the live run's copies, never written again)."""
        self._program = (layers.current, layers.previous, mirror)
        self._scene = scene_name
        self.preview.on_screen = scene_name
        self.preview.on_screen_picture = None if isinstance(layers.current, ShaderPicture) else layers.current

    def draw(self, mix: float, hud_text: Callable[[], str], now: float) -> None:
        """Redraw the operator window if one is due at `now` (show seconds); `mix`: the program's fade."""
        if now < self._next_draw:
            return
        self._next_draw = now + 1.0 / self.window.config.monitor_fps
        window = self.window
        with window.current():  # one switch of GL context for the whole redraw, and one back
            if self._program is not None:
                window.show_program(*self._program)
                self._program = None
            picture = self.preview.mailbox.take_new()
            if picture is not None:
                window.show_preview(picture.pixels, self.conductor.mirror)
                self._preview_title = f"PREVIEW  {picture.title}"
            if now >= self._next_text:
                window.set_text(f"PROGRAM  {self._scene}", self._preview_title, hud_text(),
                                "\n".join(cue_lines(self.stage, now)))
                self._next_text = now + TEXT_EVERY
            window.draw(mix)
            if self.screenshots is not None:
                self.screenshots.take(now, window.read_pixels, self.drawn)
            window.flip()
        self.drawn += 1
