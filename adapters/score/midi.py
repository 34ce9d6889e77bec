"""Standard MIDI Files <-> ``Score``, with mido.

Writing: a type-1 file at the score's ``ticks_per_beat``: track 0 is the conductor (the title as its name, every
tempo, time signature and key), then one track per part (its name, a program change, its notes) on its own
channel (drum parts on channel 10, the others on 1-16 skipping 10, reused past 15 parts).

Reading: types 0, 1 and 2. A part is one channel of one track (a type-0 file's channels become parts); its name
is the track's name, its program the channel's first program change, channel 10 makes it a drum part. Note-ons
and note-offs (or note-ons at velocity 0) pair up first in, first out per channel and pitch; a note still
sounding at the end of its track ends there. Tempo, time-signature and key events from any track make the maps.
A file with no notes is a valid, empty Score.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from xmedia import limits
from xmedia.errors import MediaError
from xmedia.score import Key, Metre, Part, Score, Tempo, parse_key

DRUM_CHANNEL = 9
MIDI_EXT = (".mid", ".midi")
_KEY_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")  # what mido's key_signature takes
_MINOR_NAMES = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


def _mido():
    try:
        import mido
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MediaError("reading and writing MIDI needs mido: pip install mido") from exc
    return mido


# ------------------------------------------------------------------------------------------------- reading
def read_midi(path, **_options) -> Score:
    """A ``Score`` from a ``.mid`` file (MediaError naming the file when it is not a readable MIDI file)."""
    mido = _mido()
    path = Path(path)
    try:
        mf = mido.MidiFile(str(path), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        why = str(exc) or "the file ends in the middle of a chunk"
        raise MediaError(f"{path}: not a readable Standard MIDI File ({type(exc).__name__}: {why}); is it "
                         "truncated or another format? Re-export it from the program that made it") from None
    if not mf.ticks_per_beat or mf.ticks_per_beat <= 0 or mf.ticks_per_beat > 32767:
        raise MediaError(f"{path}: SMPTE or invalid time division ({mf.ticks_per_beat}); only ticks-per-beat "
                         "MIDI files are read: re-export with a musical (PPQ) time base")
    try:
        return _score_of(mf, path)
    except MediaError as exc:
        raise MediaError(f"{path}: {exc}") from None


def _score_of(mf, path: Path) -> Score:
    tempos, metres, keys, title = {}, [], [], ""
    parts: dict[tuple[int, int], dict] = {}  # (track, channel) -> {"name", "program", "notes"}
    offset = 0  # type 2: tracks play one after another
    track_names = {}
    for ti, track in enumerate(mf.tracks):
        now = offset if mf.type == 2 else 0
        sounding: dict[tuple[int, int], list] = {}
        programs: dict[int, int] = {}
        for msg in track:
            now += msg.time
            kind = msg.type
            if kind == "track_name" and ti not in track_names:
                track_names[ti] = msg.name.strip()
            elif kind == "set_tempo":
                if msg.tempo <= 0:
                    raise MediaError("a tempo event of 0 microseconds per beat; fix the tempo in a MIDI editor")
                tempos[now] = bpm_of(msg.tempo)
            elif kind == "time_signature":
                metres.append((now, msg.numerator, msg.denominator))
            elif kind == "key_signature":
                keys.append((now, msg.key))
            elif hasattr(msg, "channel"):
                slot = parts.setdefault((ti, msg.channel), {"program": None, "notes": [], "at": len(parts)})
                if kind == "program_change":
                    programs[msg.channel] = msg.program
                    if slot["program"] is None:
                        slot["program"] = msg.program
                elif kind == "note_on" and msg.velocity > 0:
                    sounding.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
                elif kind in ("note_off", "note_on"):
                    started = sounding.get((msg.channel, msg.note))
                    if started:
                        on, vel = started.pop(0)
                        slot["notes"].append((on, max(1, now - on), msg.note, vel))
        for (ch, pitch), started in sounding.items():  # never released: end with the track
            for on, vel in started:
                parts[(ti, ch)]["notes"].append((on, max(1, now - on), pitch, vel))
        if mf.type == 2:
            offset = now
    if mf.type == 1 and 0 in track_names and not any(t == 0 for t, _ in parts):
        title = track_names[0]
    order = sorted(parts, key=lambda k: (k[0], k[1]))
    infos, rows = [], []
    for index, (ti, ch) in enumerate(order):
        slot = parts[(ti, ch)]
        same_track = sum(1 for t, _ in order if t == ti)
        name = track_names.get(ti) or f"part {index + 1}"
        if same_track > 1:
            name = f"{name} ch{ch + 1}"
        infos.append(Part(name, int(slot["program"] or 0), ch == DRUM_CHANNEL))
        rows.extend((on, dur, pitch, vel, index) for on, dur, pitch, vel in slot["notes"])
    limits.check("score_notes", len(rows), f"{path.name}: notes")
    tempo_map = [Tempo(t, bpm) for t, bpm in sorted(tempos.items())]
    if not tempo_map or tempo_map[0].tick != 0:
        tempo_map.insert(0, Tempo(0, Fraction(120)))  # MIDI's default until the first tempo event
    metre_map = _dedupe([Metre(t, n, d) for t, n, d in sorted(metres)])
    key_map = _dedupe([_key(t, k) for t, k in sorted(keys)])
    return Score.from_notes(rows, parts=tuple(infos) or (Part(),), ticks_per_beat=int(mf.ticks_per_beat),
                            tempos=tuple(tempo_map), metres=tuple(metre_map) or (Metre(0),), keys=tuple(key_map),
                            title=title, meta={"source": str(path), "midi_type": int(mf.type)})


def bpm_of(micros: int) -> Fraction:
    """Beats per minute of a MIDI tempo (whole microseconds a beat): the simplest ratio that MIDI would store as
    ``micros`` (so a score written at 96 or 97/2 bpm reads back as 96 or 97/2, not 60e6/618557)."""
    for den in (1, 2, 3, 4, 5, 8, 10, 16, 100, 1000):
        bpm = Fraction(60_000_000, micros).limit_denominator(den)
        if round(60_000_000 / bpm) == micros:
            return bpm
    return Fraction(60_000_000, micros)


def _key(tick: int, name: str) -> Key:
    return parse_key(name, tick)  # mido's names: C, F#, Bb, Am, C#m, Ebm...


def _dedupe(items):
    out = []
    for it in items:
        if out and out[-1].tick == it.tick:
            out[-1] = it  # the last event at a tick wins
        elif not out or str(out[-1]) != str(it):
            out.append(it)
    return out


# ------------------------------------------------------------------------------------------------- writing
def _channels(score: Score) -> list[int]:
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    out, n = [], 0
    for p in score.parts:
        if p.is_drum:
            out.append(DRUM_CHANNEL)
        else:
            out.append(melodic[n % len(melodic)])
            n += 1
    return out


def _delta(events):
    """(tick, order, message) in time order -> messages with delta times."""
    last, out = 0, []
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        out.append(msg.copy(time=tick - last))
        last = tick
    return out


def midi_file(score: Score):
    """The ``mido.MidiFile`` (type 1) that ``write_midi`` saves."""
    mido = _mido()
    mf = mido.MidiFile(type=1, ticks_per_beat=score.ticks_per_beat)
    meta = [(0, 0, mido.MetaMessage("track_name", name=score.title or "conductor"))]
    for t in score.tempos:
        micros = max(1, min(16_777_215, round(60_000_000 / t.bpm)))
        meta.append((t.tick, 1, mido.MetaMessage("set_tempo", tempo=micros)))
    for m in score.metres:
        meta.append((m.tick, 2, mido.MetaMessage("time_signature", numerator=m.numerator, denominator=m.denominator)))
    for k in score.keys:
        name = _MINOR_NAMES[k.tonic] if k.mode == "minor" else _KEY_NAMES[k.tonic]
        meta.append((k.tick, 3, mido.MetaMessage("key_signature", key=name)))
    conductor = mido.MidiTrack(_delta(meta))
    conductor.append(mido.MetaMessage("end_of_track", time=0))
    mf.tracks.append(conductor)
    for index, (part, ch) in enumerate(zip(score.parts, _channels(score))):
        events = [(0, 0, mido.MetaMessage("track_name", name=part.name))]
        events.append((0, 1, mido.Message("program_change", channel=ch, program=part.program)))  # drums: the kit
        notes = score.notes()[score.part == index] if score.num_notes else score.notes()
        for on, dur, pitch, vel, _ in notes.tolist():  # at one tick: note-offs first, so repeats re-strike
            events.append((on, 3, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)))
            events.append((on + dur, 2, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        track = mido.MidiTrack(_delta(events))
        track.append(mido.MetaMessage("end_of_track", time=0))
        mf.tracks.append(track)
    return mf


def write_midi(score: Score, path, **_options) -> None:
    """Write ``score`` as a type-1 Standard MIDI File to ``path`` (``score.save("x.mid")`` does it atomically)."""
    midi_file(score).save(str(path))
