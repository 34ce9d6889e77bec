"""The composer as a route step: ``controls:composer -> audio``."""
from __future__ import annotations

import warnings

import numpy as np

from xmedia.errors import ConfigError
from xmedia.media import Audio
from xmedia.routing import step

from .arrange import Piece, arrange_foley, arrange_music
from .bank import SampleBank, arrange_from_bank
from .controls import (
    CONTROL_NAMES,
    SAMPLE_RATES_HZ,
    STYLES,
    ComposerControls,
    parse_key,
)
from .render import render_score
from .voices import Voices


@step("controls:composer", "audio", name="composer", cost=1.0, kind="decoder",
      description="the embedded composer: DSP drums, bass, pads, plucks, textures and impacts (no weights); "
                  "style music|foley, bank=folder/ to remix your own samples")
def compose(controls: ComposerControls, style: str = "music", seed: int | None = None, tempo: float | None = None,
            key: str | None = None, bank=None, sample_rate_hz: int = 48000, progress: bool = False,
            instrument=None) -> Audio:
    """Render ``controls`` to stereo ``Audio`` of exactly ``round(duration_s * sample_rate_hz)`` samples.

    ``style``: ``"music"`` or ``"foley"``. ``tempo`` (bpm) and ``key`` (``"A"``, ``"F#m"``, ``"Bb minor"``)
    override the controls' global choices. ``bank``: a folder of audio samples to compose from (remix mode).
    ``instrument``: a trained timbre (zoo name or folder, e.g. ``"violin"``) that plays the melodic notes (and,
    in remix mode, joins the bank as a sustained note).
    The same controls and seed give the same samples.
    """
    if not isinstance(controls, ComposerControls):
        raise ConfigError(f"the composer takes ComposerControls, got {type(controls).__name__}")
    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r}; choose one of {STYLES}")
    if int(sample_rate_hz) not in SAMPLE_RATES_HZ:
        raise ConfigError(f"sample_rate_hz must be one of {SAMPLE_RATES_HZ}, got {sample_rate_hz}")
    sr = int(sample_rate_hz)
    root, mode = parse_key(controls.key)
    mode = mode or controls.mode
    if key is not None:
        root, key_mode = parse_key(key)
        mode = key_mode or mode
    tempo_bpm = controls.tempo_bpm
    if tempo is not None:
        tempo_bpm = float(tempo)
        if not (40 <= tempo_bpm <= 240):
            raise ConfigError(f"tempo must be within 40..240 bpm, got {tempo}")
    n = int(round(controls.duration_s * sr))
    seed = 0 if seed is None else int(seed)
    piece = Piece(controls, sr, n, np.random.default_rng(seed), root, mode, tempo_bpm)
    if bank is not None:
        sample_bank = SampleBank.load(bank, sr)
        if instrument is not None:  # the timbre joins the bank as a sustained note (a pad, pitched to the key)
            note = _instrument(instrument).sustained(48 + root, sr)
            sample_bank = sample_bank.with_audio(f"timbre {instrument}", note)
        score = arrange_from_bank(piece, sample_bank, style, follow_pace=tempo is None)
        reverb = {"pad": 0.3, "hits": 0.25}
    elif style == "foley":
        if not controls.events_s:
            warnings.warn("no visual events (cuts, impacts, sudden motion) were found: the foley track is silent; "
                          "style='music' scores the whole clip", UserWarning, stacklevel=2)
        score = arrange_foley(piece, Voices(sr, piece.rng))
        reverb = {"fx": 0.15}
    else:
        if tempo is not None:
            piece.controls = controls.replace(track=_flat_tempo(controls))
        score = arrange_music(piece, Voices(sr, piece.rng, instrument=_instrument(instrument)), progress=progress)
        reverb = {"pad": 0.5, "pluck": 0.6, "drums": 0.12, "fx": 0.35}
    out = render_score(score, reverb, duck_at=[s for s, _ in piece.event_samples()])
    assert out.shape == (n, 2)
    return Audio(out, sr)


def _flat_tempo(controls: ComposerControls) -> np.ndarray:
    """A tempo override means a steady tempo: hold the tempo control constant."""
    track = np.array(controls.track)
    track[:, CONTROL_NAMES.index("tempo")] = float(np.median(track[:, CONTROL_NAMES.index("tempo")]))
    return track


def _instrument(name):
    """A trained timbre as the composer's melodic instrument (torch loads only when one is asked for)."""
    if name is None:
        return None
    from xmedia.adapters.timbre.instrument import TimbreInstrument

    return TimbreInstrument(name)
