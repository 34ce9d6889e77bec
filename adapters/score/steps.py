"""The ``score -> audio`` route step (a provider; light: the synth's module loads when a score plays).

``render-score`` (decoder): the built-in synth plays a ``Score`` (``adapters/score/synth.py``), so
``translate(score, to="audio")`` and ``xmedia translate song.mid --to audio -o out.wav`` work with no model.
"""
from __future__ import annotations

from xmedia.media import Audio
from xmedia.routing import step
from xmedia.score import Score


@step("score", "audio", name="render-score", cost=1.0, kind="decoder",
      description="the built-in synth plays the notes (GM program families: additive, plucked, percussive "
                  "voices with ADSR and velocity; notes start on their exact sample)")
def render_score(score: Score, sample_rate_hz: int = 44_100, channels: int = 2, gain_db: float = -1.0) -> Audio:
    """A score played by the built-in synth (``channels``: 1 or 2, the parts spread left to right; the mix is
    normalised to a peak of ``gain_db``). A score with no notes is a MediaError: there is nothing to play."""
    from .synth import render

    return render(score, sample_rate_hz=sample_rate_hz, channels=channels, gain_db=gain_db)
