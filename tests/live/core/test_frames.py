import threading

import numpy as np

from live.core.frames import Frame, Mailbox


def frame(seq: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), captured_at=seq / 30, seq=seq)


def test_newest_frame_wins_and_overwritten_ones_are_counted():
    box = Mailbox()
    for seq in range(5):
        box.put(frame(seq))
    assert box.take_new().seq == 4
    assert box.dropped == 4
    assert box.take_new() is None  # nothing new since
    assert box.newest().seq == 4  # but the renderer can redraw the last good one


def test_a_taken_frame_is_not_counted_as_dropped():
    box = Mailbox()
    box.put(frame(0))
    box.take_new()
    box.put(frame(1))
    assert box.dropped == 0


def test_one_producer_one_consumer_lose_nothing_uncounted():
    box = Mailbox()
    seen = []

    def produce():
        for seq in range(5000):
            box.put(frame(seq))

    producer = threading.Thread(target=produce)
    producer.start()
    while producer.is_alive():
        item = box.take_new()
        if item is not None:
            seen.append(item.seq)
    producer.join()
    last = box.take_new()
    if last is not None:
        seen.append(last.seq)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == 4999
    assert box.dropped + len(seen) == 5000
