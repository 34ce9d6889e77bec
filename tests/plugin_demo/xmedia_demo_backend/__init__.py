"""A third-party backend, as another package would ship it: one route step and one file format.

Its dist-info (written by the test) names this module in the ``xmedia.providers`` and ``xmedia.formats``
entry-point groups; xmedia itself is not edited.
"""
import numpy as np

from xmedia import Audio, Text
from xmedia.formats import Format
from xmedia.routing import step


@step("text", "audio", name="demo-morse", cost=0.01, kind="decoder")
def morse(text: Text, tone_hz: float = 600.0, dot_s: float = 0.05) -> Audio:
    """Text -> a beep per letter (a dash for a vowel), as a minimal decoder."""
    rate = 16000
    parts = []
    for ch in text.text.lower():
        if not ch.isalpha():
            parts.append(np.zeros(int(3 * dot_s * rate)))
            continue
        n = int((3 if ch in "aeiou" else 1) * dot_s * rate)
        parts += [0.5 * np.sin(2 * np.pi * tone_hz * np.arange(n) / rate), np.zeros(int(dot_s * rate))]
    return Audio(np.concatenate(parts or [np.zeros(1)]).astype(np.float32), rate)


def _read(path, **_):
    return Text(path.read_text().removeprefix("MORSE\n"))


def _write(text, tmp, **_):
    tmp.write_text("MORSE\n" + text.text)


FORMATS = (Format("morse-text", (".morse",), _read, _write, types=(Text,)),)
