"""The timbre and sound-effect route steps (a provider; light: torch loads only when a timbre plays).

- ``pitch-loudness`` (encoder, ``audio -> controls:timbre``): the input's f0, loudness and voicing.
- ``timbre`` (decoder, ``controls:timbre -> audio``): a trained timbre plays the performance (the imprint).
  Selected by the ``timbre=`` option (a folder, a zoo name or a blend ``"violin:0.7,flute:0.3"``).
- ``motion-performance`` (bridge, ``motion -> controls:timbre``): a picture's motion "plays" a timbre (pitch
  from a motion channel, loudness from the motion energy). Selected by ``timbre=`` too, so
  ``translate(video, "audio", timbre="violin")`` runs video -> motion -> performance -> audio.
- ``sfx`` (decoder, ``motion -> audio``): procedural fire, water or wind sound driven by the motion. Selected
  by ``style="sfx"`` or a ``preset`` (without ``timbre``; a preset with a timbre is refused, saying why), so ``translate(video, "audio", style="sfx")`` runs
  video -> [flow-motion] motion -> [sfx] audio instead of the composer.

The ``when=`` predicates (``xmedia.routing.Step``) keep these steps out of every other translation.
"""
from __future__ import annotations

from xmedia.errors import ConfigError
from xmedia.media import Audio, Motion
from xmedia.routing import Step, step

from .motion_play import motion_to_performance
from .performance import Performance, analyse
from .sfx import PRESETS, motion_to_sfx


def wants_timbre(options: dict) -> bool:
    return options.get("timbre") is not None


def wants_sfx(options: dict) -> bool:
    asked = options.get("style") == "sfx" or options.get("preset") is not None
    return asked and options.get("timbre") is None


@step("audio", "controls:timbre", name="pitch-loudness", cost=0.5, kind="encoder",
      description="f0 (torchcrepe tiny, or YIN), loudness and voicing every 5 ms: what a timbre model plays")
def encode_performance(audio: Audio, pitch: str = "auto") -> Performance:
    """The performance of a recording (``pitch``: ``auto``, ``crepe`` or ``yin``)."""
    return analyse(audio, pitch=pitch)


timbre = Step("timbre", "controls:timbre", "audio", "xmedia.adapters.timbre.blend:imprint_step", cost=0.5,
              kind="decoder", when=wants_timbre,
              description="a trained timbre (DDSP: harmonics + noise + reverb) plays the performance; "
                          "timbre=folder|zoo name|'violin:0.7,flute:0.3'")


@step("motion", "controls:timbre", name="motion-performance", cost=0.5, kind="bridge", when=wants_timbre,
      description="a picture's motion plays a timbre: pitch from a motion channel, loudness from motion energy")
def play_motion(motion: Motion, style: str | None = None, pitch_from: str = "rising",
                scale: str = "pentatonic", preset: str | None = None) -> Performance:
    """Motion -> ``Performance`` (``style`` may be ``"sfx"``: a trained timbre as the sound effect).

    ``preset`` is taken only to refuse it with the reason: a preset is a procedural sound (fire, water, wind),
    and with ``timbre=`` the sound is the trained instrument instead; the two are alternatives."""
    if preset is not None:
        raise ConfigError(f"preset={preset!r} (--preset) picks a procedural sound effect and timbre= (--timbre) "
                          "a trained instrument played by the motion: they are two different sounds, not one to "
                          f"combine. Drop --timbre for the procedural {preset}, or drop --preset to hear the motion "
                          "played by the timbre")
    if style not in (None, "sfx"):
        raise ConfigError(f"a timbre played by motion takes style='sfx' or no style, got {style!r}")
    return motion_to_performance(motion, pitch_from=pitch_from, scale=scale)


@step("motion", "audio", name="sfx", cost=1.0, kind="decoder", when=wants_sfx,
      description=f"procedural sound effects driven by motion ({', '.join(PRESETS)}): roar follows motion "
                  "energy, lapping at the flicker rate, crackles on sudden local motion")
def sound_effects(motion: Motion, style: str = "sfx", preset: str = "fire", seed: int | None = None,
                  sample_rate_hz: int = 48000) -> Audio:
    """Motion -> stereo ``Audio`` of the motion's exact duration (``preset``: fire, water or wind)."""
    if style != "sfx":
        raise ConfigError(f"the sfx step renders style='sfx', got {style!r}")
    return motion_to_sfx(motion, preset=preset, seed=0 if seed is None else int(seed),
                         sample_rate_hz=int(sample_rate_hz))

