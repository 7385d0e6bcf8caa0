"""The governor on made-up times: it steps down when the new pictures miss the target because the scene's work
is too slow, back up once the rung above would fit again, never on noise it cannot help, and a bounce makes it
wait longer rather than oscillate. (Through `latentstage run` with real CPU burners: tests/acceptance/test_ladder.py.)"""
from __future__ import annotations

from live.show.governor import Governor, GovernorConfig

CONFIG = GovernorConfig(window=1.0, dwell=2.0, margin=0.3, tolerance=0.1)
FPS = 30.0  # the show's composing rate in these runs


def governor(rungs=(0, 1, 2), priors=None) -> Governor:
    return Governor(CONFIG, {"drift": 10.0}, {"drift": list(rungs)}, {"drift": priors or {}})  # a 100 ms budget


def play(gov: Governor, start: float, seconds: float, cost, moves: list) -> float:
    """Frames of `drift` from `start` for `seconds`: each takes cost(rung) seconds of work, so a picture comes
    every max(1 / FPS, work); the governor's moves are collected. Returns the time it ended."""
    t = start
    while t < start + seconds:
        step = gov.decide("drift", t)
        if step is not None:
            moves.append((round(t, 2), step.rung))
        work = cost(gov.position["drift"])
        gov.note_step("drift", t, work)
        t += max(1.0 / FPS, work)
        gov.note_picture("drift", t)
    return t


def test_it_steps_down_under_load_and_back_up_after_it_without_oscillating():
    gov = governor(priors={1: 4.0, 2: 4.0})
    moves: list = []
    quiet = {0: 0.040, 1: 0.010, 2: 0.0025}  # seconds of work on each rung: the top holds 10 fps with room
    t = play(gov, 0.0, 10.0, quiet.__getitem__, moves)
    assert moves == [] and gov.position["drift"] == 0
    loaded = {rung: 3.5 * work for rung, work in quiet.items()}  # a burner takes most of the CPU: 140 ms at the top
    t = play(gov, t, 15.0, loaded.__getitem__, moves)
    assert [rung for _, rung in moves] == [1], moves  # one step: rung 1 (35 ms) holds; rung 0 would need 140
    t = play(gov, t, 15.0, quiet.__getitem__, moves)
    assert [rung for _, rung in moves] == [1, 0], moves  # back up once the load is gone, and it stays
    summary = gov.summary()["drift"]
    assert summary["steps_down"] == 1 and summary["steps_up"] == 1 and summary["rung"] == 0
    assert set(summary["seconds_on_rung"]) == {"0", "1"} and summary["seconds_on_rung"]["1"] > 5


def test_a_rung_that_does_not_hold_either_is_stepped_past():
    gov = governor(priors={1: 4.0, 2: 4.0})
    moves: list = []
    heavy = {0: 0.400, 1: 0.150, 2: 0.030}
    play(gov, 0.0, 12.0, heavy.__getitem__, moves)
    assert [rung for _, rung in moves] == [1, 2], moves


def test_a_slow_input_or_a_starved_display_is_no_reason_to_step_down():
    gov = governor()
    moves: list = []
    t = 0.0
    while t < 12.0:  # pictures come 5 a second (a slow camera), but the work takes 5 ms
        assert gov.decide("drift", t) is None
        gov.note_step("drift", t, 0.005)
        t += 0.2
        gov.note_picture("drift", t)
    assert gov.position["drift"] == 0 and gov.last_p95_ms["drift"] > 150


def test_a_step_up_taken_back_waits_twice_as_long_before_the_next_try():
    gov = governor(rungs=(0, 1), priors={1: 4.0})  # the prior is wrong here: the top costs 10x, not 4x
    moves: list = []
    edge = {0: 0.200, 1: 0.020}  # rung 1 predicts 80 ms for the top (0.7 of the budget is 70: no)...
    edge[1] = 0.015  # ...15 ms predicts 60 ms: it tries, and the top misses again
    play(gov, 0.0, 40.0, edge.__getitem__, moves)
    downs = [at for at, rung in moves if rung == 1]
    gaps = [later - earlier for earlier, later in zip(downs, downs[1:])]
    assert len(downs) >= 3 and all(later > earlier * 1.5 for earlier, later in zip(gaps, gaps[1:])), moves
    assert len(moves) <= 9, moves  # 40 s on the edge: four tries, each after twice the wait


def test_a_forced_rung_holds_whatever_the_rate_and_letting_go_returns_to_the_top():
    gov = governor()
    moves: list = []
    gov.force("drift", 2)
    t = play(gov, 0.0, 5.0, lambda rung: 0.001, moves)  # plenty of room: the governor would step up
    assert moves == [(0.0, 2)] and gov.summary()["drift"]["forced"] == 2
    gov.force("drift", None)
    play(gov, t, 5.0, lambda rung: 0.001, moves)
    assert moves[1][1] == 0 and len(moves) == 2, moves


def test_a_scene_with_no_ladder_or_off_screen_is_left_alone():
    gov = governor()
    assert gov.decide("bloom", 10.0) is None  # no target, no ladder
    gov.note_picture("drift", 10.5)  # not on screen: not counted
    assert gov.summary() == {"drift": {"rung": 0, "target_fps": 10.0, "steps_down": 0, "steps_up": 0,
                                       "seconds_on_rung": {"0": 0.0}}}
