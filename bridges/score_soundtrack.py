"""A composed soundtrack: the picture's controls -> a ``Score`` written by a learned music style -> audio.

Route (``style="score"``, CLI ``--style score``): ``video -> [perceptual-video] space:perceptual ->
[perceptual-to-composer] controls:composer -> [score-soundtrack] score -> [play-soundtrack] audio``. The picture
sets the frame, a composition style (``adapters/music``, default ``bach-chorales``) writes the notes, the
built-in synth (``adapters/score/synth.py``) plays them. What comes from where (``docs/soundtrack.md``):

- **tempo**: ``60 + 80 x`` the median tempo control (the picture's pace, some energy): 60-140 bpm; ``tempo=``
  overrides it;
- **length**: the clip's duration in whole bars of the style's commonest metre; the last bar is cut at the
  clip's end (notes are cut there too, so the score holds exactly what the audio plays);
- **phrases at cuts**: a hard cut (an event of strength >= ``CUT_STRENGTH`` where the perceptual onset axis is
  >= 0.9) starts a new phrase when the whole bars since the previous boundary fit it with a tempo stretched by
  ``STRETCH`` (0.8-1.25x) and a bar is left before the end: each phrase is composed on its own (ending on a
  cadence) at the tempo that puts its last bar line exactly on the cut;
- **mode** from valence (mean >= 0.5: major), **tonic** from the controls' key; ``key=`` overrides both;
- **register**: the melody's range an octave up (mean register control > 0.62) or down (< 0.38);
- **dynamics**: velocities ``52 + 60 x`` intensity at each note (bass 0.85x, chords 0.7x);
- **density**: a bar with intensity < ``SPARSE`` holds one chord; above ``BUSY`` a drum pulse joins (kick on
  the strong beats, hats on each beat);
- **accents**: only salient events: events of strength >= ``ACCENT_MIN_STRENGTH``, strongest first, each at
  least ``ACCENT_GAP_S`` from an accent already taken (so at most about one a second); an accent is a crash
  and a kick (drums) and the sounding chord restruck loud (part ``hits``), at the event's exact time.

The audio is the sum of one stem per part (each rendered by the synth, normalised, weighted by
``PART_GAINS``), then normalised to -1 dBFS and cut to exactly ``round(duration_s * sample_rate_hz)``
samples; ``render_stems`` gives those stems (``--stems DIR``).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio
from xmedia.routing import step
from xmedia.score import Key, Metre, Part, Score, Tempo, parse_key, parse_metre

STYLE = "score"
DEFAULT_MUSIC_STYLE = "bach-chorales"
TEMPO_RANGE_BPM = (60.0, 140.0)
TICKS = 480
CUT_STRENGTH = 0.9
CUT_ONSET = 0.9
MIN_PHRASE_BARS = 1
STRETCH = (0.8, 1.25)  # the tempo of a phrase ending on a cut: 0.8-1.25x the clip's
ACCENT_MIN_STRENGTH = 0.5
ACCENT_GAP_S = 1.0
SPARSE, BUSY = 0.35, 0.65
PART_GAINS = {"melody": 1.0, "bass": 0.75, "chords": 0.5, "hits": 0.7, "drums": 0.4}
HIT_PROGRAM = 0  # acoustic grand piano: a struck chord
CHORD_PROGRAM = 0  # the chords struck on each beat by a piano (a string pad swells in: no audible pulse)
SAMPLE_RATE_HZ = 48_000


def wants_score(options: dict) -> bool:
    return options.get("style") == STYLE


def _axis(controls, name: str) -> np.ndarray:
    return np.asarray(controls.control(name), np.float64)


def _at(track: np.ndarray, rate: float, t: float) -> float:
    return float(track[min(len(track) - 1, max(0, int(t * rate)))])


def cuts_of(controls) -> list[float]:
    """The hard cuts among the controls' events (strength >= CUT_STRENGTH and, when the perceptual track is
    kept, its onset axis >= CUT_ONSET at that frame), in seconds from the clip's start."""
    from xmedia.adapters.perceptual import AXES

    onset = None if controls.perceptual is None else np.asarray(controls.perceptual)[:, AXES.index("onset")]
    rate, start = float(controls.rate_hz), float(controls.start_s)
    out = []
    for e, s in zip(controls.events_s, controls.event_strengths):
        t = float(e) - start
        if s >= CUT_STRENGTH and (onset is None or _at(onset, rate, t) >= CUT_ONSET):
            out.append(t)
    return out


def salient_events(controls, min_strength: float = ACCENT_MIN_STRENGTH, gap_s: float = ACCENT_GAP_S):
    """``[(time_s, strength)]``: the strongest events, greedily, none within ``gap_s`` of one already taken."""
    start = float(controls.start_s)
    cands = sorted(((float(e) - start, float(s)) for e, s in zip(controls.events_s, controls.event_strengths)
                    if s >= min_strength), key=lambda p: (-p[1], p[0]))
    taken: list[tuple[float, float]] = []
    for t, s in cands:
        if all(abs(t - u) >= gap_s for u, _ in taken):
            taken.append((t, s))
    return sorted(taken)


def plan_phrases(duration_s: float, bar_s: float, cuts) -> list[tuple[float, float, int]]:
    """``[(start_s, end_s, bars)]``: phrases between the usable cuts; the last one is cut at the clip's end."""
    bounds = [0.0]
    for c in sorted(cuts):
        seg = (c - bounds[-1]) / bar_s
        n = max(1, round(seg))
        if seg >= MIN_PHRASE_BARS * STRETCH[0] and STRETCH[0] <= n / seg <= STRETCH[1] and duration_s - c >= bar_s:
            bounds.append(c)
    out = [(a, b, max(1, round((b - a) / bar_s))) for a, b in zip(bounds[:-1], bounds[1:])]
    last = bounds[-1]
    out.append((last, duration_s, max(1, math.ceil((duration_s - last) / bar_s - 1e-9))))
    return out


@step("controls:composer", "score", name="score-soundtrack", cost=0.5, kind="decoder", when=wants_score,
      description="a learned music style (music_style=bach-chorales|irish-folk|chinese-folk|a blend) composes a "
                  "score in the picture's tempo, mode, register and dynamics, phrases at its cuts, accents on its "
                  "salient events (style='score')")
def score_soundtrack(controls, style: str = STYLE, music_style: str = DEFAULT_MUSIC_STYLE, seed: int | None = None,
                     tempo: float | None = None, key: str | None = None) -> Score:
    """The controls of a clip -> a composed ``Score`` of exactly the clip's duration (see the module's doc)."""
    from xmedia.adapters.composer import ComposerControls

    if not isinstance(controls, ComposerControls):
        raise ConfigError(f"score-soundtrack takes ComposerControls, got {type(controls).__name__}")
    if style != STYLE:
        raise ConfigError(f"score-soundtrack composes style={STYLE!r}, got {style!r}")
    model = load_style(music_style)
    seed = 0 if seed is None else int(seed)
    duration = float(controls.duration_s)
    if tempo is None:
        lo, hi = TEMPO_RANGE_BPM
        bpm = float(round(lo + (hi - lo) * float(np.median(_axis(controls, "tempo")))))
    else:
        bpm = float(tempo)
        if not (isinstance(tempo, (int, float)) and 40 <= bpm <= 240):
            raise ConfigError(f"tempo must be within 40..240 bpm, got {tempo!r}")
    if key is None:
        mode = "major" if float(_axis(controls, "valence").mean()) >= 0.5 else "minor"
        k = parse_key(controls.key + ("m" if mode == "minor" else ""))
    else:
        try:
            k = parse_key(key)
        except MediaError as exc:
            raise ConfigError(str(exc)) from None
    metres = model.stats.get("metres") or {"4/4": 1}
    metre = parse_metre(max(metres, key=metres.get))
    bar_beats = float(metre.bar_beats)
    phrases = plan_phrases(duration, bar_beats * 60.0 / bpm, cuts_of(controls))
    return _compose(model, controls, phrases, k, metre, bpm, seed, music_style)


def load_style(music_style):
    """A music style by zoo name, folder or blend ``"a:0.5,b:0.5"``; an unknown name lists the music styles."""
    from xmedia.adapters.music.model import MusicModel
    from xmedia.blend import load_process

    return load_process(music_style, MusicModel, "music style",
                        hint="train one with xmedia train music --data corpus:bach -o OUT")


def _compose(model, controls, phrases, key: Key, metre: Metre, bpm: float, seed: int, name) -> Score:
    rate = float(controls.rate_hz)
    intensity, register = _axis(controls, "intensity"), _axis(controls, "register")
    s = model.stats
    ref = 60 + key.tonic
    bar_ticks = int(metre.bar_beats * TICKS)
    rows, tempos, tick, programs = [], [], 0, None
    for i, (a, b, bars) in enumerate(phrases):
        last = i == len(phrases) - 1
        local = bpm if last else bars * float(metre.bar_beats) * 60.0 / (b - a)
        tempos.append(Tempo(tick, Fraction(local).limit_denominator(1000)))
        reg = float(register[int(a * rate):max(int(a * rate) + 1, int(b * rate))].mean())
        shift = 12 if reg > 0.62 else -12 if reg < 0.38 else 0
        low, high = ref + int(s.get("low", -5)) + shift, ref + int(s.get("high", 12)) + shift
        piece = model.compose(bars, key=str(key), metre=str(metre), tempo=local, seed=seed + 7919 * i,
                              low=max(24, low), high=min(108, high), phrase_bars=min(4, bars))
        programs = programs or [p.program for p in piece.parts[:2]] + [CHORD_PROGRAM]
        rows += [(int(o) + tick, int(d), int(p), int(v), int(q)) for o, d, p, v, q in piece.notes()]
        tick += bars * bar_ticks
    score = Score.from_notes(rows, parts=tuple(Part(n, int(p)) for n, p in zip(("melody", "bass", "chords"),
                                                                                 programs)),
                             ticks_per_beat=TICKS, tempos=tuple(tempos), metres=(Metre(0, metre.numerator,
                                                                                      metre.denominator),),
                             keys=(Key(0, key.tonic, key.mode),))
    return _perform(score, controls, intensity, rate, name, seed)


def _tick_at(score: Score, t: float) -> int:
    """The tick sounding at ``t`` seconds (inverse of the tempo map)."""
    marks = list(score.tempos)
    for j, m in enumerate(marks):
        start = float(score.seconds_at(m.tick))
        end = float(score.seconds_at(marks[j + 1].tick)) if j + 1 < len(marks) else math.inf
        if t < end:
            return int(round(m.tick + (t - start) * float(m.bpm) / 60.0 * score.ticks_per_beat))
    return 0


def _perform(score: Score, controls, intensity, rate, name, seed) -> Score:
    """Dynamics and density from the intensity, accents on salient events, everything cut at the clip's end."""
    duration = float(controls.duration_s)
    end = _tick_at(score, duration)
    bar = int(score.metre.bar_beats * TICKS)
    on_s = score.onset_s()
    notes = score.notes()
    level = np.array([_at(intensity, rate, float(t)) for t in on_s]) if len(notes) else np.zeros(0)
    rows = []
    for (o, d, p, v, q), lv in zip(notes, level):
        if q == 2 and _at(intensity, rate, float(score.seconds_at(o - o % bar))) < SPARSE:  # a quiet bar: one chord
            if o % bar:
                continue
            d = bar
        vel = (52 + 60 * lv) * (1.0, 0.85, 0.7)[q]
        rows.append([o, d, p, int(np.clip(round(vel), 1, 127)), q])
    accents = salient_events(controls)
    accent_ticks = [_tick_at(score, t) for t, _ in accents]
    beat = TICKS * 3 // 2 if score.metre.denominator == 8 and score.metre.numerator % 3 == 0 else TICKS
    for b in range(0, end, beat):  # the drum pulse of busy bars: kick on the downbeat (and mid-bar), hats
        t = float(score.seconds_at(b))
        lv = _at(intensity, rate, t)
        if lv <= BUSY or any(abs(t - a) < 0.1 for a, _ in accents):
            continue
        if b % bar == 0 or (bar % (2 * beat) == 0 and b % bar == bar // 2):
            rows.append([b, TICKS // 8, 36, int(70 + 30 * lv), 4])
        rows.append([b, TICKS // 8, 42, int(40 + 30 * lv), 4])
    for (t, strength), at in zip(accents, accent_ticks):
        if at >= end:
            continue
        vel = int(np.clip(round(95 + 30 * strength), 1, 127))
        rows += [[at, TICKS // 4, 49, vel, 4], [at, TICKS // 4, 36, vel, 4]]
        sounding = sorted({int(r[2]) for r in rows if r[4] in (0, 1, 2) and r[0] <= at < r[0] + r[1]})
        hit_len = min(TICKS, _tick_at(score, t + 0.8) - at)
        rows += [[at, max(1, hit_len), p, vel, 3] for p in sounding]
    kept, last = [], {}
    for o, d, p, v, q in sorted(tuple(int(x) for x in r) for r in rows if r[0] < end):
        j = last.get((q, p))  # one pitch of one part never overlaps itself (MIDI could not tell the two apart)
        if j is not None and kept[j][0] + kept[j][1] > o:
            if kept[j][0] == o:
                continue
            kept[j] = (kept[j][0], o - kept[j][0]) + kept[j][2:]
        last[(q, p)] = len(kept)
        kept.append((o, max(1, min(d, end - o)), p, v, q))
    kept.sort()
    parts = tuple(score.parts) + (Part("hits", HIT_PROGRAM), Part("drums", 0, is_drum=True))
    return score.replace(**dict(zip(("onset_ticks", "duration_ticks", "pitch", "velocity", "part"),
                                    (np.asarray(c, np.int64) for c in zip(*kept)))), parts=parts,
                         title=f"soundtrack in {name}, seed {seed}",
                         meta={"clip_duration_s": str(controls.duration_s), "music_style": str(name),
                               "seed": int(seed), "accents_s": [round(t, 4) for t, _ in accents],
                               "end_tick": int(end)})


def clip_duration(score: Score) -> Fraction:
    """The clip's duration a soundtrack score was composed for (its own duration when it does not say)."""
    d = score.meta.get("clip_duration_s") if isinstance(score.meta, dict) else None
    return Fraction(d) if d is not None else Fraction(score.duration_s)


def render_stems(score: Score, sample_rate_hz: int = SAMPLE_RATE_HZ, duration_s=None) -> dict[str, np.ndarray]:
    """One (samples, 2) float32 array per part that has notes, weighted by ``PART_GAINS`` and scaled so that
    their sum peaks at -1 dBFS; each is exactly ``round(duration_s * sample_rate_hz)`` samples long."""
    from xmedia.adapters.score.synth import render

    sr = int(sample_rate_hz)
    n = int(round((clip_duration(score) if duration_s is None else Fraction(duration_s)) * sr))
    stems = {}
    for i, part in enumerate(score.parts):
        sub = score.part_notes(i)
        if sub.num_notes == 0:
            continue
        x = render(sub, sample_rate_hz=sr, channels=2, gain_db=0.0).samples[:n].astype(np.float64)
        x = np.pad(x, ((0, n - len(x)), (0, 0)))
        stems[part.name] = x * PART_GAINS.get(part.name, 0.6)
    if not stems:
        raise MediaError("the soundtrack score has no notes: there is nothing to play")
    total = sum(stems.values())
    fade = min(n, int(0.02 * sr))
    ramp = np.ones(n)
    ramp[n - fade:] = np.linspace(1.0, 0.0, fade)
    g = 10 ** (-1 / 20) / max(float(np.abs(total * ramp[:, None]).max()), 1e-9)
    return {k: (v * ramp[:, None] * g).astype(np.float32) for k, v in stems.items()}


@step("score", "audio", name="play-soundtrack", cost=0.5, kind="decoder", when=wants_score,
      description="the built-in synth plays a soundtrack score part by part, mixed and cut to the clip's length "
                  "(style='score')")
def play_soundtrack(score: Score, style: str = STYLE, sample_rate_hz: int = SAMPLE_RATE_HZ) -> Audio:
    """A soundtrack score played: the sum of ``render_stems``, exactly the clip's duration long."""
    if not isinstance(score, Score):
        raise ConfigError(f"play-soundtrack takes a Score, got {type(score).__name__}")
    stems = render_stems(score, sample_rate_hz)
    return Audio(sum(stems.values()).astype(np.float32), int(sample_rate_hz))
