"""``Score`` <-> music21 streams: ``from_music21(stream) -> Score`` and ``to_music21(score) -> music21 Score``.

music21 (a ``music`` extra) is imported only when one of these is called. Positions in music21 are quarter-note
lengths (``Fraction`` or float); here they become whole ticks: ``ticks_per_beat`` is chosen so that every onset
and duration of the stream is exact when it can be (480, times what triplets, quintuplets... need, at most 32767
ticks a beat); anything finer is rounded to the nearest tick. Tied notes become one note, chords
become one note per pitch, grace notes (no duration) are left out.
"""
from __future__ import annotations

import math
from fractions import Fraction

from xmedia.errors import MediaError
from xmedia.score import Key, Metre, Part, Score, Tempo

DEFAULT_TICKS = 480
DEFAULT_VELOCITY = 90  # what music21 writes to MIDI for a note without a dynamic
_MAX_TICKS = 32767


def _m21():
    try:
        import music21
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MediaError("reading and writing MusicXML/ABC/kern scores needs music21: pip install 'xmedia[music]'"
                         ) from exc
    return music21


def _ql(value) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(value).limit_denominator(10_000)


def _ticks_per_beat(positions) -> int:
    """480 times the extra factors the denominators need, when the product stays <= 32767."""
    tpb = DEFAULT_TICKS
    for q in positions:
        den = _ql(q).denominator
        lcm = tpb * den // math.gcd(tpb, den)
        if lcm <= _MAX_TICKS:
            tpb = lcm
    return tpb


def _is_drum(inst) -> bool:
    from music21 import instrument
    return inst is not None and (isinstance(inst, instrument.UnpitchedPercussion) or inst.midiChannel == 9)


def _part_info(p, index: int) -> Part:
    inst = p.getInstrument(returnDefault=False)
    name = getattr(p, "partName", None) or (inst.partName if inst is not None else None) or (inst.instrumentName if inst is not None
                                                                             else None) or f"part {index + 1}"
    program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
    return Part(str(name), int(program), _is_drum(inst))


def _tie(n) -> str | None:
    return n.tie.type if getattr(n, "tie", None) is not None else None


def _events(flat):
    """(offset, quarterLength, midi pitch, velocity) of each sounding note of a flat stream; tied notes are
    joined (a note tied on from the one before at its pitch lengthens it: like ``stripTies``, without a copy)."""
    from music21 import chord, note
    open_ties: dict[int, list] = {}  # pitch -> the event a tie continues
    out = []
    for el in flat.notes:
        ql = _ql(el.duration.quarterLength)
        if ql <= 0:
            continue  # a grace note
        vel = el.volume.velocity if el.volume.velocity is not None else DEFAULT_VELOCITY
        if isinstance(el, chord.Chord):
            heads = [(getattr(n, "pitch", None), _tie(n) or _tie(el)) for n in el.notes]
        elif isinstance(el, note.Unpitched):
            heads = [(el.displayPitch(), None)]
        elif isinstance(el, note.Note):
            heads = [(el.pitch, _tie(el))]
        else:
            continue
        on = _ql(el.offset)
        for pitch, tie in heads:
            if pitch is None:
                continue
            m = int(pitch.midi)
            held = open_ties.get(m)
            if held is not None and tie in ("continue", "stop") and held[0] + held[1] == on:
                held[1] += ql
                if tie == "stop":
                    del open_ties[m]
                continue
            ev = [on, ql, m, int(min(127, max(1, vel)))]
            out.append(ev)
            if tie in ("start", "continue"):
                open_ties[m] = ev
            else:
                open_ties.pop(m, None)
    return [tuple(e) for e in out]


def _key_of(k) -> Key | None:
    from music21 import key
    try:
        kk = k if isinstance(k, key.Key) else k.asKey("major")
        return Key(0, kk.tonic.pitchClass, "minor" if kk.mode == "minor" else "major")
    except Exception:  # noqa: BLE001 - an unusual mode (dorian...) or a non-standard signature: no key
        return None


def from_music21(stream, ticks_per_beat: int | None = None, title: str | None = None) -> Score:
    """A music21 ``Score`` (or ``Part``, or any stream of notes) as a ``Score``.

    Parts keep their names and MIDI programs (a percussion part is a drum part); tempo marks, time signatures and
    keys come from the first part (and the score's own level); a stream without a tempo mark plays at 120 bpm.
    An ``Opus`` (a collection of tunes) is a MediaError: convert each of ``opus.scores``."""
    m21 = _m21()
    from music21 import key, meter, tempo
    from music21 import stream as m21stream
    if isinstance(stream, m21stream.Opus):
        raise MediaError(f"from_music21 got an Opus of {len(stream.scores)} tunes: convert each of opus.scores "
                         "(read_scores(path) does that)")
    if not isinstance(stream, m21stream.Stream):
        raise MediaError(f"from_music21 needs a music21 stream, got {type(stream).__name__}")
    parts = list(stream.parts) if isinstance(stream, m21stream.Score) and len(stream.parts) else [stream]
    flats, infos = [], []
    for i, p in enumerate(parts):
        flats.append(p.flatten())
        infos.append(_part_info(p, i))
    events = [[*ev, i] for i, f in enumerate(flats) for ev in _events(f)]
    top = stream.flatten()
    marks = [(_ql(m.offset), m) for m in top.getElementsByClass(tempo.MetronomeMark)]
    metres = [(_ql(t.offset), t) for t in top.getElementsByClass(meter.TimeSignature)]
    keys = [(_ql(k.offset), k) for k in top.getElementsByClass(key.KeySignature)]
    tpb = ticks_per_beat or _ticks_per_beat([x for e in events for x in e[:2]] + [o for o, _ in marks + metres + keys])

    def tick(q: Fraction) -> int:
        return int(round(q * tpb))

    rows = []
    for on, ql, pitch, vel, part in events:
        start, stop = tick(on), tick(on + ql)
        rows.append((start, max(1, stop - start), pitch, vel, part))
    tempos = {}
    for off, m in marks:
        bpm = m.getQuarterBPM()
        if bpm is not None and bpm > 0:
            tempos.setdefault(tick(off), Tempo(tick(off), _ql(bpm)))
    tempo_map = sorted(tempos.values(), key=lambda t: t.tick)
    if not tempo_map or tempo_map[0].tick != 0:
        tempo_map.insert(0, Tempo(0, Fraction(120)))  # music21's and MIDI's default
    metre_map = _changes(Metre(tick(off), ts.numerator, ts.denominator) for off, ts in metres
                         if ts.denominator in (1, 2, 4, 8, 16, 32, 64) and 1 <= ts.numerator <= 64)
    key_map = _changes(Key(tick(off), k.tonic, k.mode) for off, k in ((o, _key_of(ks)) for o, ks in keys)
                       if k is not None)
    md = getattr(stream, "metadata", None)
    name = title if title is not None else ((md.title or md.movementName or "") if md is not None else "")
    del m21
    return Score.from_notes(rows, parts=tuple(infos), ticks_per_beat=tpb, tempos=tuple(tempo_map),
                            metres=tuple(metre_map) or (Metre(0),), keys=tuple(key_map), title=str(name or ""))


def _changes(items):
    """Sorted by tick; one per tick (the first); a repeat of the one in force left out."""
    out = []
    for it in sorted(items, key=lambda x: x.tick):
        if out and (out[-1].tick == it.tick or str(out[-1]) == str(it)):
            continue
        out.append(it)
    return out


def to_music21(score: Score):
    """A music21 ``Score``: one ``Part`` per part (name, instrument from the GM program, percussion for a drum
    part), tempo marks, time signatures and keys at their places, notes at their exact quarter-note positions.
    Notes of a part that sound together with the same length become a chord; other overlaps go to voices."""
    _m21()
    from music21 import chord, instrument, key, meter, note, stream, tempo
    from music21.metadata import Metadata
    tpb = score.ticks_per_beat
    out = stream.Score()
    if score.title:
        out.insert(0, Metadata(title=score.title))
    for index, info in enumerate(score.parts):
        p = stream.Part(id=f"P{index + 1}")
        p.partName = info.name
        if info.is_drum:
            inst = instrument.UnpitchedPercussion()
            inst.midiChannel = 9
        else:
            try:
                inst = instrument.instrumentFromMidiProgram(info.program)
            except Exception:  # noqa: BLE001 - a program music21 has no class for
                inst = instrument.Instrument()
            inst.midiProgram = info.program
        inst.partName = info.name
        p.insert(0, inst)
        for m in score.metres:
            p.insert(Fraction(m.tick, tpb), meter.TimeSignature(f"{m.numerator}/{m.denominator}"))
        for k in score.keys:
            p.insert(Fraction(k.tick, tpb), key.Key(_tonic_name(k.tonic), k.mode))
        if index == 0:
            for t in score.tempos:
                bpm = float(t.bpm) if t.bpm.denominator != 1 else int(t.bpm)
                p.insert(Fraction(t.tick, tpb), tempo.MetronomeMark(number=bpm, referent=note.Note(type="quarter")))
        notes = score.notes()[score.part == index] if score.num_notes else score.notes()
        groups: dict[tuple[int, int, int], list[int]] = {}
        for on, dur, pitch, vel, _ in notes.tolist():
            groups.setdefault((on, dur, vel), []).append(pitch)
        voices: list[list] = []  # [end tick, items] per voice
        for (on, dur, vel), pitches in sorted(groups.items()):
            el = note.Note(pitches[0]) if len(pitches) == 1 else chord.Chord(sorted(pitches))
            el.duration.quarterLength = Fraction(dur, tpb)
            el.volume.velocity = vel
            for v in voices:
                if v[0] <= on:
                    break
            else:
                v = [0, []]
                voices.append(v)
            v[0] = on + dur
            v[1].append((Fraction(on, tpb), el))
        for i, (_, items) in enumerate(voices):
            target = p if i == 0 else stream.Voice(id=str(i + 1))
            for off, el in items:
                target.insert(off, el)
            if i:
                p.insert(0, target)
        out.insert(0, p)
    return out


def _tonic_name(pc: int) -> str:
    return ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")[pc]
