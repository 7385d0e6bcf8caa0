"""The control bus: declared parameters, aliases for the scene on screen, held values and release."""
from __future__ import annotations

import threading

import pytest

from live.control.bus import ControlBus
from live.control.parameters import ControlError, Parameter, show_parameters
from tests.live.control.conftest import SCENES

def test_standard_parameters_have_units_and_defaults(bus):
    names = [parameter.name for parameter in bus.parameters()]
    assert names == ["scene", "scene.next", "scene.previous", "go", "beat", "tempo", "fade", "hud", "mirror", "learn",
                     "capture", "capture.name", "mirror.scale", "mirror.speed", "mirror.jitter", "bloom.scale", "bloom.speed", "bloom.jitter",
                     "snow.canny.sigma", "snow.style.strength", "snow.style.preserve_colour",
                     "cppn.scale", "cppn.speed", "cppn.jitter", "canny.sigma", "style.strength",
                     "style.preserve_colour"]
    assert all(parameter.description for parameter in bus.parameters())
    assert bus.get("scene") == "mirror"
    assert bus.get("fade") == 1.0 and bus.get("cppn.speed") == 1.0
    assert bus.declaration("cppn.scale").minimum == 0.1 and bus.declaration("cppn.scale").maximum == 64
    assert bus.declaration("cppn.speed").minimum == -8
    with pytest.raises(ControlError):
        show_parameters([])


def test_numbers_coerce_between_int_and_float(bus):
    assert bus.set("cppn.scale", 12) == 12.0 and isinstance(bus.get("cppn.scale"), float)
    bus.declare(Parameter("cppn.keyframe", "int", 0, 0, 10, description="keyframe index"))
    assert bus.set("cppn.keyframe", 3.6) == 4 and isinstance(bus.get("cppn.keyframe"), int)
    assert bus.set("cppn.keyframe", 2.0) == 2


@pytest.mark.parametrize("value", ["12", None, True, float("nan"), float("inf"), [1.0]])
def test_numbers_refuse_other_types(bus, value):
    with pytest.raises(ControlError, match="mirror.scale"):  # the parameter the alias stands for
        bus.set("cppn.scale", value)
    assert bus.get("cppn.scale") == 8.0 and bus.version("cppn.scale") == 0


@pytest.mark.parametrize("value", [0.05, 64.01, -1])
def test_out_of_range_is_an_error_not_a_clamp(bus, value):
    with pytest.raises(ControlError, match="minimum|maximum"):
        bus.set("cppn.scale", value)
    assert bus.get("cppn.scale") == 8.0
    assert bus.set("cppn.scale", 64) == 64.0 and bus.set("cppn.scale", 0.1) == 0.1  # the ends are inside


@pytest.mark.parametrize("value, expected", [(1, True), (0.0, False), ("true", True), ("OFF", False),
                                             ("1", True), ("no", False), (True, True)])
def test_bool_accepts_numbers_and_words(bus, value, expected):
    bus.set("hud", not expected)
    assert bus.set("hud", value) is expected


@pytest.mark.parametrize("value", [0.5, 2, "maybe", None])
def test_bool_refuses_anything_else(bus, value):
    with pytest.raises(ControlError, match="hud"):
        bus.set("hud", value)


def test_choices_by_name_or_index(bus):
    assert bus.set("scene", "snow") == "snow"
    assert bus.set("scene", 1) == "bloom"
    assert bus.set("scene", 0.0) == "mirror"  # a controller's float index
    for bad in ("sn0w", 3, -1, 1.5, True):
        with pytest.raises(ControlError, match="scene"):
            bus.set("scene", bad)
    assert bus.get("scene") == "mirror"


def test_a_listed_number_is_a_name_before_it_is_an_index():
    bus = ControlBus([Parameter("preset", "str", "2", choices=("1", "2", "3"), description="preset number")])
    assert bus.set("preset", 1) == "1"  # the choice named "1", not the one at index 1
    assert bus.set("preset", 0) == "1"  # "0" is not listed: index 0
    free = ControlBus([Parameter("title", "str", "", description="a caption")])
    assert free.set("title", "anything") == "anything"
    with pytest.raises(ControlError):
        free.set("title", 3)


def test_triggers_count_presses_and_ignore_values(bus):
    assert bus.count("scene.next") == 0
    assert bus.set("scene.next") == 1
    assert bus.set("scene.next", 0) == 2  # value ignored
    assert bus.set("scene.next", "whatever") == 3
    assert bus.count("scene.next") == 3 and bus.get("scene.next") == 3 and bus.version("scene.next") == 3
    with pytest.raises(ControlError, match="not a trigger"):
        bus.count("fade")


def test_versions_count_changes_only(bus):
    assert bus.version("fade") == 0
    bus.set("fade", 2.0)
    bus.set("fade", 2)  # the same value as a float
    assert bus.version("fade") == 1
    bus.set("fade", 3.0)
    assert bus.version("fade") == 2 and bus.values()["fade"] == 3.0


def test_unknown_parameters_and_bad_declarations(bus):
    with pytest.raises(ControlError, match="unknown parameter 'cppn.scal'.*cppn.scale"):
        bus.set("cppn.scal", 1.0)
    with pytest.raises(ControlError, match="unknown"):
        bus.get("nope")
    with pytest.raises(ControlError, match="twice"):
        bus.declare(Parameter("fade", "float", 0.0))
    with pytest.raises(ControlError, match="name"):
        Parameter("Cppn Scale", "float", 1.0)
    with pytest.raises(ControlError, match="kind"):
        Parameter("x", "double", 1.0)
    with pytest.raises(ControlError, match="maximum"):
        Parameter("x", "float", 5.0, 0.0, 1.0)
    with pytest.raises(ControlError, match="choices"):
        Parameter("x", "int", 0, choices=("a",))


def test_subscribers_hear_changes_with_their_source(bus):
    heard = []
    unsubscribe = bus.subscribe(lambda name, value, source: heard.append((name, value, source)))
    bus.set("cppn.scale", 10.0, source="osc:127.0.0.1:5000")
    bus.set("cppn.scale", 10.0)  # unchanged: silent
    bus.set("scene.next")
    with pytest.raises(ControlError):
        bus.set("cppn.scale", 100.0)
    unsubscribe()
    bus.set("cppn.scale", 11.0)
    assert heard == [("mirror.scale", 10.0, "osc:127.0.0.1:5000"), ("scene.next", 1, "api")]


def test_a_failing_subscriber_does_not_stop_the_others(bus):
    heard = []

    def broken(name, value, source):
        raise RuntimeError("feedback socket gone")
    bus.subscribe(broken)
    bus.subscribe(lambda *change: heard.append(change))
    assert bus.set("fade", 5.0) == 5.0
    assert heard == [("fade", 5.0, "api")]


def test_callbacks_run_outside_the_lock(bus):
    """A subscriber may read and write the bus (the director answering scene.next) without deadlock."""
    def follow(name, value, source):
        if name == "scene.next":
            bus.set("scene", (SCENES.index(bus.get("scene")) + 1) % len(SCENES), source="director")
    bus.subscribe(follow)
    bus.set("scene.next")
    assert bus.get("scene") == "bloom"


def test_concurrent_writers_lose_no_presses(bus):
    def press():
        for _ in range(500):
            bus.set("scene.next")
            bus.set_input("osc:/1/fader1", 0.5)
    threads = [threading.Thread(target=press) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert bus.count("scene.next") == 2000


def test_inputs_are_plain_floats(bus):
    assert bus.input("osc:/1/fader1") == 0.0 and bus.input("key:j", default=-1.0) == -1.0
    bus.set_input("osc:/1/fader1", 1)
    assert bus.input("osc:/1/fader1") == 1.0
    with pytest.raises(ControlError):
        bus.set_input("osc:/1/fader1", float("nan"))
    with pytest.raises(ValueError):
        bus.set_input("osc:/1/fader1", "loud")


def test_an_alias_means_the_scene_on_screen(bus):
    bus.set("cppn.scale", 12.0)  # mirror is on screen
    assert bus.get("mirror.scale") == 12.0 and bus.get("bloom.scale") == 8.0
    bus.set("scene", "bloom")
    assert bus.get("cppn.scale") == 8.0 and bus.resolve("cppn.scale") == "bloom.scale"
    bus.set("bloom.scale", 3.0)  # a scene's own address, whatever is on screen
    assert bus.get("cppn.scale") == 3.0 and bus.aliases_of("bloom.scale") == ["cppn.scale"]
    with pytest.raises(ControlError, match="the scene on screen \\(bloom\\) has no such parameter"):
        bus.set("canny.sigma", 0.5)
    assert bus.targets("cppn.scale") == ["mirror.scale", "bloom.scale"] and bus.is_alias("canny.sigma")


def test_a_performer_value_holds_until_released(bus):
    assert not bus.held("mirror.scale")
    bus.set("hud", True, source="show")  # the show's own starting values are not a performer's
    assert not bus.held("hud")
    heard = []
    bus.subscribe(lambda *change: heard.append(change))
    bus.set("cppn.scale", 20.0, source="osc:127.0.0.1:5000")
    assert bus.held("mirror.scale") and bus.held("cppn.scale")
    assert bus.release("cppn.scale", source="osc:127.0.0.1:5000") == 8.0  # back to the scene's own value
    assert not bus.held("mirror.scale") and bus.get("mirror.scale") == 8.0
    assert heard[-1] == ("mirror.scale", 8.0, "osc:127.0.0.1:5000")  # feedback moves the knob back


def test_outside_writes_are_journaled_in_order_and_a_tick_holds_them_off(bus):
    journal = []
    bus.keep_journal(lambda *entry: journal.append(entry))
    bus.set("cppn.scale", 3.0, source="osc")  # an alias: journaled as the parameter it meant
    bus.set_input("key:j", 1.0)
    bus.set("go", source="key")
    bus.release("mirror.scale", source="osc")
    assert journal == [(1, "set", "mirror.scale", 3.0, "osc"), (2, "input", "key:j", 1.0, "input"),
                       (3, "set", "go", None, "key"), (4, "release", "mirror.scale", None, "osc")]
    with pytest.raises(ControlError):
        bus.set("cppn.scale", float("nan"), source="osc")
    assert len(journal) == 4, "a refused write changed nothing and is not journaled"

    written = threading.Event()
    writer = threading.Thread(target=lambda: (bus.set("bloom.scale", 5.0, source="osc"), written.set()))
    with bus.tick() as seen:
        assert seen == 4
        bus.set("mirror.speed", 2.0, source="show")  # the frame's own write (a cue): not an outside one
        writer.start()
        assert not written.wait(0.2), "an outside write landed while a frame was reading the bus"
        assert bus.get("bloom.scale") != 5.0
    assert written.wait(5.0) and bus.get("bloom.scale") == 5.0
    writer.join()
    assert [entry[:3] for entry in journal[4:]] == [(5, "set", "bloom.scale")]
    with bus.tick() as seen:
        assert seen == 5
