"""Encode latency of the foundation backends next to the embedded perceptual encoder, measured in one run.

CLIP/CLAP use tiny random models built here (real checkpoints are not downloadable in this environment:
the numbers measure the adapters' own overhead: frame sampling, preprocessing, batching, not ViT-B cost);
MiniLM uses its real weights. Run: ``python benchmarks/bench_foundation.py``.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
MEDIA = ROOT.parent / "shared" / "media"


def timed(fn, repeat: int = 3) -> float:
    fn()  # warm-up: model load, caches
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def main() -> None:
    import test_foundation as tiny  # the same tiny builders the tests use

    import xmedia
    from xmedia.adapters import perceptual
    from xmedia.adapters.clap import ClapEncoder
    from xmedia.adapters.hf_clip import HFClipEncoder
    from xmedia.adapters.minilm import MiniLMEncoder
    from xmedia.adapters.open_clip import OpenClipEncoder
    from xmedia.bridges.foundation import minilm_axis_anchors

    video = xmedia.load(MEDIA / "video" / "fire_a.mp4")
    audio = xmedia.load(MEDIA / "audio" / "loop_amen.flac")
    image = xmedia.load(MEDIA / "image" / "fruits.jpg")
    text = xmedia.Text("a slow, dark, rumbling drone")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tiny.build_hf_clip(tmp / "clip")
        tiny.build_open_clip(tmp / "open_clip", tmp)
        tiny.build_clap(tmp / "clap")
        hf = HFClipEncoder.from_pretrained(tmp / "clip", device="cpu")
        oc = OpenClipEncoder.from_pretrained(tmp / "open_clip", device="cpu")
        clap = ClapEncoder.from_pretrained(tmp / "clap", device="cpu")
        minilm = MiniLMEncoder.from_pretrained(device="cpu")
        bridge = minilm_axis_anchors(device="cpu")
        rows = [
            ("video fire_a 25.8 s", "perceptual (160 px, every frame)", timed(lambda: perceptual.encode(video), 1)),
            ("", "open_clip tiny, 2 Hz", timed(lambda: oc.encode(video, rate_hz=2), 1)),
            ("", "hf_clip tiny, 2 Hz", timed(lambda: hf.encode(video, rate_hz=2), 1)),
            ("image fruits.jpg", "perceptual", timed(lambda: perceptual.encode(image))),
            ("", "open_clip tiny", timed(lambda: oc.encode(image))),
            ("", "hf_clip tiny", timed(lambda: hf.encode(image))),
            ("audio loop_amen 1.75 s", "perceptual", timed(lambda: perceptual.encode(audio))),
            ("", "clap tiny (48 kHz, 1 s windows)", timed(lambda: clap.encode(audio))),
            ("text (one phrase)", "perceptual (lexicon)", timed(lambda: perceptual.encode(text))),
            ("", "minilm real + anchors", timed(lambda: bridge(minilm.encode(text)))),
        ]
    print(f"{'input':24} {'encoder':36} {'ms':>9}")
    for what, enc, s in rows:
        print(f"{what:24} {enc:36} {s * 1000:9.1f}")


if __name__ == "__main__":
    main()
