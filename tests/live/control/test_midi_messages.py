"""The MIDI byte parser: what controllers send becomes events; whatever else arrives is counted, never raised.

Hypothesis throws arbitrary bytes (and values outside 0..255) at it: it never raises, every event it makes is
in range, and the counts account for it; valid messages buried among garbage, SysEx and real-time bytes still
come out whole."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from live.control.midi_messages import MidiEvent, MidiParser, MidiSource, input_keys

CONTROL = st.one_of(
    st.tuples(st.sampled_from([*range(0x80, 0xA0), *range(0xB0, 0xC0)]), st.integers(0, 127),
              st.integers(0, 127)).map(list),  # notes, CCs
    st.tuples(st.integers(0xE0, 0xEF), st.integers(0, 127), st.integers(0, 127)).map(list),  # pitch bend
    st.tuples(st.integers(0xC0, 0xCF), st.integers(0, 127)).map(list),  # program change
)


def test_messages_become_events_in_0_to_1():
    parser = MidiParser()
    events = parser.feed([0xB0, 70, 127, 0x91, 36, 100, 0x81, 36, 0, 0xE0, 0, 64, 0xC0, 5])
    assert events == [MidiEvent("cc", 1, 70, 1.0), MidiEvent("note", 2, 36, 100 / 127), MidiEvent("note", 2, 36, 0.0),
                      MidiEvent("pitchbend", 1, 0, 8192 / 16383), MidiEvent("program", 1, 5, 1.0)]
    assert parser.counts.as_dict() == {"events": 5, "ignored": 0, "malformed": 0}


def test_running_status_and_real_time_bytes_inside_a_message():
    parser = MidiParser()
    # one status byte, then three CCs of data; a clock byte (F8) between a CC's number and its value
    events = parser.feed([0xB3, 7, 10, 7, 0xF8, 20])
    events += parser.feed([7, 30])  # running status carries over to the port's next delivery
    assert [(e.channel, e.number, e.raw) for e in events if e.kind == "cc"] == [(4, 7, 10), (4, 7, 20), (4, 7, 30)]
    assert parser.counts.ignored == 1 and parser.counts.malformed == 0


def test_a_14_bit_pair_msb_then_lsb():
    parser = MidiParser()
    fine = [e for e in parser.feed([0xB0, 1, 64, 33, 5]) if e.kind == "cc14"]
    assert [e.raw for e in fine] == [64 * 128, 64 * 128 + 5]
    assert [e for e in parser.feed([0xB0, 40, 9]) if e.kind == "cc14"] == []  # an LSB with no MSB before it


def test_sysex_garbage_stray_data_and_cut_messages_are_counted_and_the_next_message_is_whole():
    parser = MidiParser()
    garbage = [0xF0, 0x7E, 1, 2, 3, 0xF7,  # a SysEx: skipped whole
               5, 6,  # data bytes with no status (a SysEx cancels running status)
               0x90, 60,  # a note cut short by the next status byte
               0xF4, 0xF7,  # undefined status, a stray SysEx end
               300, -1]  # not bytes at all
    events = parser.feed(garbage + [0xB0, 81, 64])
    assert events == [MidiEvent("cc", 1, 81, 64 / 127)]
    assert parser.counts.as_dict() == {"events": 1, "ignored": 1, "malformed": 7}


def test_a_sysex_cut_short_by_a_status_byte_ends_there_as_midi_says():
    # rtmidi hands an unterminated SysEx over with whatever followed it, up to the next F7
    parser = MidiParser()
    assert parser.feed([0xF0, 1, 2, 0x90, 60, 100, 0xF7]) == [MidiEvent("note", 1, 60, 100 / 127)]
    assert parser.counts.as_dict() == {"events": 1, "ignored": 1, "malformed": 1}  # the F7 closed no SysEx


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(-300, 600), max_size=40), max_size=20))
def test_any_bytes_never_raise_and_every_event_is_in_range(deliveries):
    parser = MidiParser()
    for data in deliveries:
        for event in parser.feed(data):
            assert 1 <= event.channel <= 16 and 0 <= event.number <= 127 and 0.0 <= event.value <= 1.0
            assert event.kind in ("note", "cc", "cc14", "pitchbend", "program")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(st.integers(0, 255), max_size=12), CONTROL), max_size=10))
def test_a_valid_message_after_garbage_and_a_sysex_reset_always_comes_out(pairs):
    parser = MidiParser()
    for garbage, message in pairs:
        parser.feed(garbage)
        parser.feed([0xF0, 0xF7])  # any SysEx end resynchronises, whatever the garbage left half read
        events = [e for e in parser.feed(message) if e.kind != "cc14"]
        assert len(events) == 1 and events[0].channel == (message[0] & 0x0F) + 1


def test_a_mapping_source_reads_the_keys_an_event_sets():
    event = MidiEvent("cc", 3, 21, 0.5)
    keys = input_keys("nano", event)
    assert MidiSource(cc=21).input_key in keys and MidiSource(cc=21, channel=3, device="nano").input_key in keys
    assert MidiSource(cc=21, channel=4).input_key not in keys and MidiSource(note=21).input_key not in keys
