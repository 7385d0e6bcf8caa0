"""The `latentstage` command: run, rehearse, check and demo shows; doctor; and the trainers' commands.

Live commands import no torch. `latentstage cppn ...` hands over to the CPPN
trainer, which needs the `train` extra (torch); without it the command says so.
Bad input (a broken show, a missing model) is one clear line and exit code 2.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.resources
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from live.core.logs import configure_logging

# commands that need the train extra (torch): name -> (module with main(argv), help)
TRAINER_COMMANDS = {
    "cppn": ("trainers.cppn.cli", "CPPN stills, walks, fits and exports"),
    "train": ("trainers.train_cli", "train a pix2pix, style, GAN or super-resolution model"),
    "data": ("trainers.data_cli", "training data: video frames, pix2pix pairs, GAN paintings"),
    "stylize": ("trainers.style.stylize", "paint a still in the manner of style pictures (Gatys et al.)"),
}
log = logging.getLogger("latentstage.cli")


def default_show() -> Path:
    return Path(str(importlib.resources.files("shows") / "demo.yaml"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in TRAINER_COMMANDS:
        return _hand_over_to_trainer(argv[0], argv[1:])
    if argv and argv[0] == "doctor":
        from live import doctor

        return doctor.main(argv[1:])
    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    from live.inference.adopt import AdoptError
    from live.inference.engine import EngineError
    from live.inference.model_card import ModelCardError
    from live.output.render import DisplayError
    from live.output.sender import OutputError
    from live.show.event_log import EventLogError
    from live.show.schema import ShowError

    try:
        return args.command(args)
    except (ShowError, EngineError, ModelCardError, DisplayError, EventLogError, AdoptError, OutputError) as error:
        print(f"latentstage: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latentstage", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="play the bundled demo show: in a window if there is a display, "
                                            "else rehearsed into a video file")
    demo.add_argument("-o", "--output", type=Path, default=Path("out/demo.mp4"),
                      help="video file when there is no display (default out/demo.mp4)")
    demo.add_argument("--seconds", type=float, help="how long (default: the show's length)")
    demo.set_defaults(command=_demo)

    run = commands.add_parser("run", help="perform a show live in a window")
    _add_show_options(run)
    run.add_argument("--fullscreen", action="store_true", default=None)
    run.add_argument("--screen", "--program-screen", dest="screen", type=int,
                     help="the program window's monitor number, from 0")
    run.add_argument("--operator", action="store_true", default=None,
                     help="also open the operator window: program monitor, preview, HUD and cue list")
    run.add_argument("--operator-screen", type=int, metavar="N",
                     help="the operator window's monitor number, from 0 (implies --operator)")
    run.add_argument("--no-program", action="store_true", default=None,
                     help="no program window on screen: the operator window alone (implies --operator)")
    run.add_argument("--hud", action="store_true", default=None, help="start with the HUD on ('h' toggles)")
    run.add_argument("--mirror", action="store_true", default=None, help="flip left-right")
    run.add_argument("--seconds", type=float, help="stop after this long (default: run until Esc)")
    run.add_argument("--screenshots", type=Path, help="save the screen as PNGs into this folder")
    run.add_argument("--screenshot-every", type=float, default=1.0, help="seconds between screenshots")
    run.add_argument("--record", type=Path, help="also record what is shown into this .mp4 (frames the encoder "
                                                 "cannot keep up with are dropped and counted, never waited for)")
    run.add_argument("--headless", action="store_true", help="no window: draw offscreen (benchmarks, soak tests)")
    run.add_argument("--stats-json", type=Path, help="write the run's figures (fps, latency, memory, audio, "
                                                     "parameter ranges) here at the end")
    run.add_argument("--status-file", type=Path, help="keep the HUD's text in this file, rewritten four times a "
                                                      "second, for watching an unattended show")
    run.add_argument("--record-events", type=Path, metavar="LOG",
                     help="append every control event (OSC, keys, GO, sound features, cues, reloads) to LOG as it "
                          "happens, for `rehearse --replay LOG` (about 7 MB an hour, 25 MB with sound)")
    run.add_argument("--send", action="append", default=[], metavar="TARGET",
                     help="also send the picture (without the HUD) to other programs, as often as given: "
                          "udp://HOST:PORT or tcp://HOST:PORT (MPEG-TS, H.264), ndi:NAME, vcam[:/dev/videoN]")
    run.add_argument("--resume", action="store_true",
                     help="start where this show was when it last stopped (a crash, a kill, a power cut): its "
                          "time, cues, held values and latents, from the state every live run keeps (README)")
    run.set_defaults(command=_run)

    rehearse = commands.add_parser("rehearse", help="render a show offline on a virtual clock into a video")
    _add_show_options(rehearse)
    rehearse.add_argument("-o", "--output", type=Path, required=True, help="video file (.mp4)")
    rehearse.add_argument("--seconds", type=float, help="how much of the show (default: its length)")
    rehearse.add_argument("--frames", type=Path, help="also save every frame, exactly as rendered, as PNGs here")
    rehearse.add_argument("--audio", type=Path, help="a WAV/FLAC (or a video's sound) standing in for the show's "
                                                     "audio input")
    rehearse.add_argument("--camera", type=Path, help="a video file standing in for every camera (looping)")
    rehearse.add_argument("--osc-script", type=Path, help="a YAML list of timed OSC messages standing in for the "
                                                          "controllers: [{at: 4.0, address: /latentstage/scene, "
                                                          "args: [bloom]}]")
    rehearse.add_argument("--replay", type=Path, metavar="LOG",
                          help="render a live run again from its --record-events LOG: the show as it ran, its "
                               "controls and sound, frame for frame (the last run in LOG)")
    rehearse.add_argument("--ladder", action="append", type=_rung_choice, default=[], metavar="SCENE=RUNG",
                          help="rehearse SCENE on rung RUNG of its ladder (0 the top): how it looks where the "
                               "venue's machine steps it down (repeatable; a replay takes the night's own rungs)")
    rehearse.set_defaults(command=_rehearse)

    render = commands.add_parser("render", help="a whole video through a pix2pix or style model, sound kept")
    render.add_argument("video", type=Path, help="video file to render")
    render.add_argument("--model", type=Path, required=True, help="image model (.onnx with a latentstage card)")
    render.add_argument("-o", "--output", type=Path, required=True, help="video file to write (.mp4)")
    render.add_argument("--triptych", action="store_true", help="model input | output | original side by side")
    render.add_argument("--providers", choices=("auto", "tensorrt", "cuda", "cpu"), default="auto",
                        help="execution providers (default auto)")
    render.set_defaults(command=_render)

    upscale = commands.add_parser("upscale", help="a picture made larger and sharp through a super-resolution model",
                                  description="Upscale a picture through an sr model (.onnx with a latentstage "
                                              "card), tile by tile so memory stays bounded (1024 -> 4096 in well "
                                              "under 1 GB).")
    upscale.add_argument("image", type=Path, help="picture to upscale (PNG, JPEG, ...)")
    upscale.add_argument("-o", "--output", type=Path, required=True, help="picture to write (.png, .jpg, ...)")
    upscale.add_argument("--model", type=Path, required=True, help="super-resolution model (sr .onnx)")
    upscale.add_argument("--scale", type=int, help="1 up to the model's scale (default: its scale, 4); a smaller "
                                                   "one runs the model and shrinks its output by area averaging; "
                                                   "a larger one is refused (run the command twice: 4x, then 4x)")
    upscale.add_argument("--tile", type=int, help="input pixels per tile side (default 256); smaller uses less memory")
    upscale.add_argument("--providers", choices=("auto", "tensorrt", "cuda", "cpu"), default="auto",
                         help="execution providers (default auto)")
    upscale.set_defaults(command=_upscale)

    osc = commands.add_parser("osc", help="the OSC address space: `latentstage osc list [SHOW]`")
    osc.add_argument("action", choices=("list",))
    osc.add_argument("show", type=Path, nargs="?", help="show file (default: the bundled demo)")
    osc.set_defaults(command=_osc)

    midi = commands.add_parser("midi", help="MIDI ports and learn: `latentstage midi list`, "
                                            "`latentstage midi learn SHOW PARAM`")
    midi.add_argument("action", choices=("list", "learn"))
    midi.add_argument("show", type=Path, nargs="?", help="learn: the show file to write the mapping into")
    midi.add_argument("parameter", nargs="?", help="learn: the parameter the next control moved drives (drift.scale)")
    midi.add_argument("--timeout", type=float, default=60.0, help="learn: seconds to wait for a control (default 60)")
    midi.set_defaults(command=_midi)

    check = commands.add_parser("check", help="validate a show file and the models it names")
    check.add_argument("show", type=Path)
    check.add_argument("--bench", action="store_true",
                       help="also time every scene and crossfade on this machine, on the providers and at the sizes "
                            "the show runs at, and exit 1 if a cue cannot hold the show's frame rate")
    check.add_argument("--json", action="store_true", help="with --bench: print the figures as JSON")
    check.add_argument("--camera", type=Path, help="with --bench: a video file standing in for every camera "
                                                   "(default: the bundled clip)")
    check.set_defaults(command=_check)

    model = commands.add_parser("model", help="model files: `latentstage model adopt FILE.onnx -o OUT.onnx` gives "
                                              "an image model from elsewhere our card, its conventions found by "
                                              "running it")
    model.add_argument("action", choices=("adopt",))
    model.add_argument("file", type=Path, help="an ONNX style or pix2pix network without a latentstage card")
    model.add_argument("-o", "--output", type=Path, required=True,
                       help="the carded copy to write (.onnx); its contact sheet goes beside it (.png)")
    model.add_argument("--kind", choices=("style", "pix2pix"),
                       help="what it does (default: style for a colour input, pix2pix for one channel)")
    model.add_argument("--samples", type=Path, help="a folder of pictures to probe with (default: built-in ones)")
    model.set_defaults(command=_model)

    _add_gan_commands(commands)

    commands.add_parser("doctor", help="what this machine can run: providers, display, audio, cameras, OSC")
    for name, (_, summary) in TRAINER_COMMANDS.items():
        commands.add_parser(name, help=f"{summary} (`latentstage {name} --help`; needs the train extra)")
    return parser


def _add_gan_commands(commands) -> None:
    gan = commands.add_parser("gan", help="a GAN file's pictures: `gan sample MODEL -o GRID.png`, "
                                          "`gan walk MODEL -o OUT.mp4 [--audio SONG]`")
    actions = gan.add_subparsers(title="actions", required=True, metavar="ACTION")
    sample = actions.add_parser("sample", help="a grid of seeded pictures at one truncation")
    sample.add_argument("model", type=Path, help="GAN generator (.onnx, card kind gan)")
    sample.add_argument("-o", "--output", type=Path, required=True, help="the grid (.png)")
    sample.add_argument("--n", type=int, default=16, help="how many pictures (default 16)")
    sample.add_argument("--psi", type=float, default=0.7, help="truncation: 0 the mean picture, 1 none (default 0.7)")
    sample.add_argument("--seed", type=int, default=0, help="which latents (default 0)")
    sample.add_argument("--upscale", type=Path, metavar="SR_MODEL", help="each picture through this super-resolution "
                                                                         "model (kind sr, 4x)")
    sample.add_argument("--aspects", type=Path, metavar="MANIFEST",
                        help="each picture at the aspect ratio of a painting drawn from this `data paintings` "
                             "manifest (MachineRay's shapes), fitted as --fit says")
    sample.add_argument("--fit", choices=("cover", "contain", "stretch"), default="cover",
                        help="with --aspects: cover crops the square (default), stretch unsquashes it")
    sample.set_defaults(command=_gan, action="sample")
    walk = actions.add_parser("walk", help="a video of a slerp walk through seeded keyframes; with --audio it "
                                           "moves with the song's energy, jumps on its onsets and keeps its tempo")
    walk.add_argument("model", type=Path, help="GAN generator (.onnx, card kind gan)")
    walk.add_argument("-o", "--output", type=Path, required=True, help="the video (.mp4)")
    walk.add_argument("--audio", type=Path, help="a song (WAV, FLAC, MP3, a video's sound) the walk dances to; "
                                                 "muxed into the video, whose length it sets")
    walk.add_argument("--seconds", type=float, help="length (default: the song's, else one loop of the keyframes)")
    walk.add_argument("--fps", type=float, default=30.0, help="frames a second (default 30)")
    shape = walk.add_mutually_exclusive_group()
    shape.add_argument("--size", help="WIDTHxHEIGHT in even pixels (default 512x512)")
    shape.add_argument("--aspect", help="width:height (16:9, 3:4) or a number, short side 512 pixels")
    walk.add_argument("--fit", choices=("cover", "contain", "stretch"), default="cover",
                      help="the square picture onto that aspect: cover crops (default), contain letterboxes, "
                           "stretch unsquashes (MachineRay)")
    walk.add_argument("--keyframes", type=int, default=6, help="seeded keyframes the walk loops through (default 6)")
    walk.add_argument("--period", type=float, default=4.0, help="seconds from one keyframe to the next (default 4)")
    walk.add_argument("--beats", type=float, default=8.0,
                      help="with --audio, once the song's tempo is found: beats from one keyframe to the next")
    walk.add_argument("--jitter", type=float, default=0.35,
                      help="with --audio: an onset's kick, as a fraction of a typical latent's length")
    walk.add_argument("--psi", type=float, default=0.7, help="truncation (default 0.7)")
    walk.add_argument("--seed", type=int, default=0, help="which keyframes (default 0)")
    walk.add_argument("--upscale", type=Path, metavar="SR_MODEL", help="each picture through this super-resolution "
                                                                       "model (kind sr, 4x) before the fit")
    walk.set_defaults(command=_gan, action="walk")


def _gan(args: argparse.Namespace) -> int:
    from live.show import gan_media

    try:
        if args.action == "sample":
            grid = gan_media.sample_grid(args.model, args.output, args.n, args.psi, args.seed, upscale=args.upscale,
                                         aspects=args.aspects, fit=args.fit)
            print(f"{args.n} pictures at psi {args.psi:g} in {args.output} ({grid.shape[1]}x{grid.shape[0]})")
            return 0
        size = gan_media.aspect_size(args.aspect) if args.aspect else gan_media.parse_size(args.size or "512x512")
        result = gan_media.walk_video(args.model, args.output, size, args.seconds, args.fps, args.keyframes,
                                      args.psi, args.seed, args.period, args.fit, args.audio, args.beats, args.jitter,
                                      args.upscale)
    except gan_media.GanMediaError as error:
        print(f"latentstage: {error}", file=sys.stderr)
        return 2
    tempo = f", tempo {result.tempo_bpm:.1f} BPM" if result.tempo_bpm else ""
    sound = f"; sound: {result.sound} ({result.onsets} onsets{tempo})" if args.audio else ""
    print(f"walked {result.frames} frames at {result.size[0]}x{result.size[1]} into {args.output} in "
          f"{result.seconds:.1f} s{sound}")
    return 0


def _add_show_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("show", type=Path, nargs="?", help="show file (default: the bundled demo)")
    parser.add_argument("--size", help="output size WIDTHxHEIGHT, overriding the show's")
    parser.add_argument("--providers", choices=("auto", "tensorrt", "cuda", "cpu"), help="execution providers")
    parser.add_argument("--require-gpu", action="store_true", default=None,
                        help="refuse to start unless a GPU provider loads")


OVERRIDES = ("size", "providers", "require_gpu", "fullscreen", "screen", "hud", "mirror",  # options a show takes
             "operator", "operator_screen", "no_program")


def _overrides(args: argparse.Namespace) -> dict:
    """The command line's changes to the show: those of OVERRIDES given, by name."""
    return {name: value for name in OVERRIDES if (value := getattr(args, name, None)) is not None}


def _load(args: argparse.Namespace):
    """The show with the command line's overrides, each validated as the show file's own values are."""
    from live.show.schema import load_show

    return _with_overrides(load_show(args.show or default_show()), _overrides(args))


def _with_overrides(show, overrides: dict):
    from pydantic import ValidationError

    from live.show.schema import ShowError

    try:
        return _overridden(show, overrides)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ShowError(f"command-line override refused: {problems}") from None


def _overridden(show, overrides: dict):
    from live.output.operator_window import OperatorConfig
    from live.show.schema import ShowError

    changes = {}
    if "size" in overrides:
        try:
            width, height = (int(v) for v in overrides["size"].lower().split("x"))
        except ValueError:
            raise ShowError(f"--size {overrides['size']!r}: expected WIDTHxHEIGHT, e.g. 640x360") from None
        changes["output"] = show.output.replaced(width=width, height=height)
    engine = {name: overrides[name] for name in ("providers", "require_gpu") if name in overrides}
    if engine:
        changes["engine"] = show.engine.replaced(**engine)
    window = {name: overrides[name] for name in ("fullscreen", "screen", "hud", "mirror") if name in overrides}
    if overrides.get("no_program"):
        window["visible"] = False
    if window:
        changes["window"] = show.window.replaced(**window)
    if any(name in overrides for name in ("operator", "operator_screen", "no_program")):
        operator = show.operator or OperatorConfig()
        if "operator_screen" in overrides:
            operator = operator.replaced(screen=overrides["operator_screen"])
        changes["operator"] = operator
    return show.model_copy(update=changes)


def _show_seconds(show, seconds: float | None) -> float:
    if seconds is not None:
        return seconds
    if show.length:
        return show.length
    fired, last_cue = 0.0, 0.0  # when each cue fires if nobody presses GO, and when its fade is over
    previous = None
    for cue in show.timeline:
        if cue.at is not None:
            fired = max(fired, cue.at)
        else:
            fired += cue.wait or (previous.lasts if cue.follow and previous is not None else 0.0)
        last_cue = max(last_cue, fired + cue.lasts)
        previous = cue
    return last_cue + 10.0


def _rehearse(args: argparse.Namespace) -> int:
    from live.control.osc_script import load_osc_script
    from live.show.preflight import preflight
    from live.show.rehearsal import rehearse, with_camera_stand_in
    from live.show.schema import ShowError

    replay = _replayed_run(args) if args.replay is not None else None
    show = _replayed_show(args, replay) if replay is not None else _load(args)
    if args.camera is not None:
        show = with_camera_stand_in(show, args.camera)
    try:
        script = load_osc_script(args.osc_script) if args.osc_script else None
    except ValueError as error:
        raise ShowError(str(error)) from None
    if replay is not None and args.ladder:
        raise ShowError("--ladder with --replay: a replay puts each scene on the rungs the live run chose")
    preflight(show)  # what `check` checks (with the stand-in camera's clip in place), before any frame
    report = rehearse(show, args.output, _show_seconds(show, args.seconds), frames_dir=args.frames,
                      audio_file=args.audio, osc_script=script, replay=replay, rungs=dict(args.ladder))
    sound = f", sound from {report.sound}" if report.sound != "none" else ""
    print(f"wrote {report.path}: {report.frames} frames, {report.seconds:.1f} s of show "
          f"in {report.wall_seconds:.1f} s{sound}; contact sheet {report.contact_sheet}")
    return 0


def _rung_choice(text: str) -> tuple[str, int]:
    """`drift=2` -> ("drift", 2), for rehearse --ladder."""
    scene, _, rung = text.partition("=")
    if not scene or not rung.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: give SCENE=RUNG, e.g. drift=2 (rung 0 is the top)")
    return scene, int(rung)


def _replayed_run(args: argparse.Namespace):
    from live.show.event_log import read_run
    from live.show.schema import ShowError

    given = [option for option in ("audio", "osc_script", "seconds") if getattr(args, option) is not None]
    if given:
        raise ShowError("--replay brings the night's own sound, controls and length; "
                        f"leave out --{given[0].replace('_', '-')}")
    run = read_run(args.replay)
    if not run.frames:
        raise ShowError(f"{args.replay}: its last run stopped before its first frame; nothing to replay")
    return run


def _replayed_show(args: argparse.Namespace, run):
    """The show as the recorded run performed it (its text then, its command-line overrides), its models
    found beside SHOW if given (the show may have moved since), else where the show was."""
    from live.show.schema import parse_show

    path = args.show or run.show_path
    if args.show is not None and (not args.show.is_file() or args.show.read_bytes() != run.show_text.encode()):
        print(f"replaying {path} as it was that night ({run.path} keeps its text); the file has changed since")
    print(f"replaying {run.frames} frames of the last of {run.runs} run(s) in {run.path}")
    return _with_overrides(parse_show(run.show_text, path), {**run.overrides, **_overrides(args)})


def _run(args: argparse.Namespace) -> int:
    from live.core.clock import ShowClock
    from live.output.recorder import Recorder
    from live.output.render import open_renderer
    from live.output.send_targets import outputs_for
    from live.output.sending import Sending
    from live.output.video import even_size
    from live.show.conductor import Conductor
    from live.show.event_log import EventRecorder
    from live.show.live_run import LiveRun
    from live.show.preflight import preflight
    from live.show.schema import ShowError, parse_show, show_text
    from live.show.show_reload import ShowReloader
    from live.show.stage import Stage

    show_path = args.show or default_show()
    text = show_text(show_path)
    show = _with_overrides(parse_show(text, show_path), _overrides(args))
    preflight(show)  # what `check` checks, refused before anything opens
    outputs = outputs_for(show.output.send, args.send, show.output.fps, (show.output.width, show.output.height))
    if args.headless and show.operator is not None:
        raise ShowError("the operator window needs a display: leave out --headless, or the operator window")
    clock = ShowClock()  # one clock for the sources' stamps, the audio input and the show's time
    events = None
    if args.record_events is not None:  # opened first: a log that cannot be written is refused at once
        events = EventRecorder(args.record_events)
        events.start(show_path, text, _overrides(args), show.output.fps)
    stage = Stage.build(show, clock=clock, warm_up=False)
    stage.warm_up_between_frames()  # the first frame sooner (a resume after a crash most of all)
    renderer = open_renderer(show.window, stage.size, headless=args.headless, surface_size=stage.output_size)
    recorder = None
    desk = None
    try:
        stage.attach_renderer(renderer)  # CPPN scenes' shaders compile on this thread, which owns GL
    except Exception:
        renderer.close()
        raise
    if args.record:
        # H.264 wants even sizes: an odd window loses its last row or column in the file
        recorder = Recorder(args.record, *even_size(*renderer.window.get_framebuffer_size()), show.output.fps)
        recorder.start()
    try:
        conductor = Conductor.build(show, stage.scenes, clock=clock)
        reloader = ShowReloader(args.show or default_show(), stage, clock)  # edits of the file go on stage
        live_run = LiveRun(stage, renderer, conductor, clock, reloader)
        if show.operator is not None:
            desk = live_run.operator = _operator_desk(show, live_run, args)
        _keep_resume_state(live_run, show, show_path, text, args.resume)
        live_run.sending = Sending(outputs, clock) if outputs else None
        with _stopping_on_signals(live_run.request_stop):
            stats = live_run.run(args.seconds, args.screenshots, args.screenshot_every, recorder, args.status_file,
                                 events)
    finally:
        if desk is not None:
            desk.window.close()
        renderer.close()
        if recorder is not None:
            recorder.close()
        if events is not None:
            events.close(clock())
    print(f"presented {stats.presented} frames ({stats.new_frames} new, {stats.dropped} dropped), "
          f"{stats.fps():.1f} fps at the end")
    if recorder is not None:
        stats.recording = recorder.figures()
        print(f"recorded {recorder.written} frames into {args.record} ({recorder.dropped} dropped)"
              + (f"; the recording stopped early: {recorder.error}" if recorder.error is not None else ""))
    for label, figures in stats.outputs.items():
        print(f"sent {figures['sent']} frames to {label} ({figures['dropped']} dropped, {figures['errors']} errors)")
    if args.stats_json:
        args.stats_json.write_text(json.dumps(stats.summary(), indent=2))
    return 0


def _operator_desk(show, live_run, args: argparse.Namespace):
    """The operator window beside the program's, its preview and its screenshots (into the program's
    screenshot folder's `operator/`)."""
    from live.output.operator_window import open_operator_window
    from live.show.operator_desk import OperatorDesk
    from live.show.preview import Preview
    from live.show.run_outputs import Screenshots

    stage, renderer = live_run.stage, live_run.renderer
    window = open_operator_window(show.operator, stage.size)
    renderer.window.switch_to()  # the program's GL context stays the loop's own
    preview = Preview(stage, live_run.conductor, live_run.clock, window.preview_size, show.operator.preview_fps)
    shots = Screenshots(args.screenshots / "operator", args.screenshot_every) if args.screenshots else None
    return OperatorDesk(window, stage, live_run.conductor, preview, shots)


def _keep_resume_state(live_run, show, show_path: Path, text: str, resume: bool) -> None:
    """The run keeps where it is in the show's resume state; with --resume it first starts from there."""
    from live.show.resume_state import ResumeWriter, resumption, state_path

    path = state_path(show_path)
    if resume:
        resumed, message = resumption(path, show, text)
        if resumed is None:
            log.warning("%s", message)
        else:
            stage = live_run.stage
            refused = resumed.apply(stage.director, live_run.conductor.bus, stage.scenes)
            if refused:
                message += f"; held values that no longer fit: {', '.join(refused)}"
            log.info("%s", message)
            live_run.resume_at(resumed.t, message)
    log.info("resume state: %s", path)
    live_run.resume_writer = ResumeWriter(path, show_path)


@contextlib.contextmanager
def _stopping_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM (systemd, Docker, supervisors), SIGHUP (a closed terminal) and Ctrl-C end a live run
    as Esc does: the summary, the statistics and the recording are all written. The previous
    handlers come back after."""
    def handle(signal_number, frame):
        log.info("%s: stopping the show", signal.Signals(signal_number).name)
        stop()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _render(args: argparse.Namespace) -> int:
    from live.inference.engine import EngineConfig
    from live.show.video_render import render_video

    result = render_video(args.video, args.model, args.output, args.triptych, EngineConfig(providers=args.providers))
    print(f"rendered {result.frames} frames into {args.output} in {result.seconds:.1f} s "
          f"({result.frames / max(result.seconds, 1e-9):.1f} frames/s); sound: {result.audio}")
    return 0


def _upscale(args: argparse.Namespace) -> int:
    import time

    from live.core.picture_files import read_picture, write_picture
    from live.inference.engine import EngineConfig
    from live.inference.upscaler import Upscaler, upscale_to

    try:
        picture = read_picture(args.image)
        if args.tile is not None and args.tile < 16:
            raise ValueError(f"--tile {args.tile}: at least 16 pixels")
        tiling = {"tile": args.tile} if args.tile is not None else {}
        upscaler = Upscaler.load(args.model, EngineConfig(providers=args.providers, warmup_runs=1), **tiling)
        started = time.perf_counter()
        larger = upscale_to(upscaler, picture, args.scale or upscaler.scale)
        seconds = time.perf_counter() - started
        write_picture(args.output, larger)
    except ValueError as error:
        print(f"latentstage upscale: {error}", file=sys.stderr)
        return 2
    print(f"{args.image} {picture.shape[1]}x{picture.shape[0]} -> {args.output} {larger.shape[1]}x{larger.shape[0]} "
          f"in {seconds:.1f} s ({upscaler.engine.path.name}, {', '.join(upscaler.engine.providers)})")
    return 0


def _osc(args: argparse.Namespace) -> int:
    from live.control.mappings import MODULATION_RULE
    from live.control.osc import address_table
    from live.show.schema import load_show

    show = load_show(args.show or default_show())
    bus = show.control_bus()  # the scenes' parameters with their own defaults, from the cards: no model loaded
    print(f"OSC on udp://{show.osc.host}:{show.osc.port}; query {show.osc.prefix}/query, list {show.osc.prefix}/list")
    print(address_table(bus, show.osc.prefix))
    print()
    print(MODULATION_RULE)
    return 0


def _midi(args: argparse.Namespace) -> int:
    from live.control.midi_ports import MidiUnavailable, api_name, port_names
    from live.show.schema import ShowError

    if args.action == "list":
        try:
            inputs, outputs = port_names("input"), port_names("output")
        except MidiUnavailable as error:
            print(f"latentstage: {error}", file=sys.stderr)
            return 2
        print(f"MIDI through {api_name().upper()}; a show names a port by part of its name or by its index")
        for title, names in (("inputs (midi.inputs: controllers to read)", inputs),
                             ("outputs (midi.feedback: where values are echoed)", outputs)):
            print(title + ":" + ("" if names else " none"))
            for index, name in enumerate(names):
                print(f"  {index}  {name}")
        return 0
    if args.show is None or args.parameter is None:
        raise ShowError("midi learn needs a show file and a parameter: latentstage midi learn SHOW drift.scale")
    from live.show.midi_learning import learn_once
    from live.show.schema import load_show

    show = load_show(args.show)
    bus = show.control_bus()  # the scenes' parameters, for the bus to check against: no model loaded
    parameter = learn_once(show, bus, args.parameter, args.timeout)
    print(f"{args.show}: the control moved now drives {parameter}; `latentstage check` accepts the show")
    return 0


def _check(args: argparse.Namespace) -> int:
    from live.show.preflight import preflight
    from live.show.schema import cue_sheet, load_show
    from live.show.stage import Stage

    if not args.verbose:  # what the models are is printed below: their loading lines would say it twice
        logging.getLogger().setLevel(logging.WARNING)
    if (args.json or args.camera) and not args.bench:
        from live.show.schema import ShowError

        raise ShowError(f"--{'json' if args.json else 'camera'} goes with --bench: check SHOW --bench "
                        f"{'--json' if args.json else '--camera CLIP'}")
    show = load_show(args.show)
    preflight(show)
    if args.bench:
        return _bench(show, args)
    # The stage as `run` builds it (each scene refuses a model it cannot use), on the CPU: a show is
    # checked at home, where the venue's GPU may not be.
    on_cpu = show.model_copy(update={"engine": show.engine.replaced(providers="cpu", require_gpu=False)})
    stage = Stage.build(on_cpu, rehearsal=True)
    for scene in stage.scenes:
        model = f"{scene.engine.path.name} ({scene.engine.card.describe()})" if scene.engine is not None else \
            f"{scene.kind} with no model"
        print(f"  scene {scene.name!r}: {model}")
    for spec in show.scenes:
        if spec.ladder:
            rungs = "; ".join(f"{number} {rung.describe()}" for number, rung in enumerate(spec.ladder, start=1))
            print(f"  scene {spec.name!r} holds {spec.target_fps:g} new pictures/s, stepping down to: {rungs}")
    print("\n".join(cue_sheet(show)))
    print(f"{args.show}: ok, {len(show.scenes)} scenes, {len(show.cues)} cues")
    return 0


def _bench(show, args: argparse.Namespace) -> int:
    """`check --bench`: the show timed as it will run here; exit 1 when a cue cannot hold its rate."""
    from live.show.rehearsal import with_camera_stand_in
    from live.show.venue_bench import bench_show

    clip = args.camera or Path(str(importlib.resources.files("shows") / "media" / "snow-walk.mp4"))
    report = bench_show(with_camera_stand_in(show, clip))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print("\n".join(report.lines()))
        print(report.verdict())
    return 0 if report.holds else 1


def _model(args: argparse.Namespace) -> int:
    from live.inference.adopt_copy import adopt, summary

    command = " ".join(["latentstage model adopt", str(args.file), "-o", str(args.output)]
                       + (["--kind", args.kind] if args.kind else [])
                       + (["--samples", str(args.samples)] if args.samples else []))
    adopted = adopt(args.file, args.output, args.kind, args.samples, command, progress=print)
    print("\n".join(summary(adopted)))
    return 0


def _demo(args: argparse.Namespace) -> int:
    # the demo is `run --hud` or `rehearse -o OUTPUT` on the bundled show, with those commands' defaults
    seconds = ["--seconds", str(args.seconds)] if args.seconds is not None else []
    from live.output.render import display_available

    if display_available():
        print("display found: playing the demo show in a window (Esc quits, h shows the HUD)")
        command = ["run", "--hud", *seconds]
    else:
        print(f"no display: rehearsing the demo show into {args.output}")
        command = ["rehearse", "-o", str(args.output), *seconds]
    chosen = _parser().parse_args(command)
    return chosen.command(chosen)


def _hand_over_to_trainer(name: str, argv: list[str]) -> int:
    try:
        module = importlib.import_module(TRAINER_COMMANDS[name][0])
    except ImportError as error:
        if error.name != "torch" and "torch" not in str(error):
            raise
        print(f"latentstage {name}: needs PyTorch; install the train extra: pip install -e '.[train]'",
              file=sys.stderr)
        return 2
    return module.main(argv)
