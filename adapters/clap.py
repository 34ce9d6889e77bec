"""CLAP audio / text encoder through transformers ``ClapModel`` (Wu et al. 2023, LAION-CLAP; Elizalde et al. 2023).

Audio is resampled to the feature extractor's rate (48 kHz for the LAION checkpoints) and cut into windows
of the extractor's ``max_length_s`` (10 s) with 50 % overlap: each window is one row of the track. A video is
encoded through its audio track. Weights: a transformers folder such as ``laion/clap-htsat-unfused``, found
by ``adapters.weights`` under the name ``clap``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xmedia.errors import MediaError
from xmedia.media import Audio, Text, Video

from .foundation import audio_windows, backend_steps, load_backend, static_embedding, timed_embedding

NAME = "clap"
SPACES = ("clap",)  # the route node "space:clap"


class ClapEncoder:
    """Unit-norm CLAP embeddings of audio (a track of windows + pooled vector) and text."""

    space = "clap"
    batch_size = 8

    def __init__(self, model, feature_extractor, tokenizer, device: str):
        self.model, self.feature_extractor, self.tokenizer, self.device = model, feature_extractor, tokenizer, device
        self.dtype = model.dtype
        self.sample_rate_hz = int(feature_extractor.sampling_rate)
        self.window_s = feature_extractor.nb_max_samples / self.sample_rate_hz
        self.truncation = "fusion" if model.config.audio_config.enable_fusion else "rand_trunc"

    @classmethod
    def from_pretrained(cls, path=None, device=None, dtype=None) -> "ClapEncoder":
        return load_backend(NAME, path, device, dtype, cls._load)

    @classmethod
    def _load(cls, folder: Path, device: str, torch_dtype) -> "ClapEncoder":
        from transformers import AutoFeatureExtractor, AutoTokenizer, ClapModel

        model = ClapModel.from_pretrained(folder, dtype=torch_dtype, local_files_only=True)
        feature_extractor = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        return cls(model.to(device).eval(), feature_extractor, tokenizer, device)

    def encode_waveforms(self, waves: list[np.ndarray]) -> np.ndarray:
        """Mono float waveforms at ``sample_rate_hz``, at most ``window_s`` long -> unit rows (N, D)."""
        import torch

        rows = []
        for i in range(0, len(waves), self.batch_size):
            feats = self.feature_extractor(
                [w.astype(np.float32) for w in waves[i : i + self.batch_size]], sampling_rate=self.sample_rate_hz,
                truncation=self.truncation, padding="repeatpad", return_tensors="pt")
            kwargs = {"input_features": feats["input_features"].to(self.device, self.dtype)}
            if self.truncation == "fusion":
                kwargs["is_longer"] = feats["is_longer"].to(self.device)
            with torch.inference_mode():
                rows.append(self.model.get_audio_features(**kwargs).pooler_output.float().cpu().numpy())
        return np.concatenate(rows)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self.tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            out = self.model.get_text_features(input_ids=tokens["input_ids"],
                                               attention_mask=tokens["attention_mask"]).pooler_output
        return out.float().cpu().numpy()

    def encode(self, x, hop_s: float | None = None):
        """Audio (or a Video's audio track) -> track of windows every ``hop_s`` (default half a window) + pooled."""
        if isinstance(x, Text):
            return static_embedding(self.space, self.encode_texts([x.text])[0], "text")
        source = x.KIND if hasattr(x, "KIND") else type(x).__name__
        if isinstance(x, Video):
            if x.audio is None:
                raise MediaError(f"{x.source or 'this video'} has no audio track for CLAP; encode its frames with CLIP")
            x = x.audio
        if not isinstance(x, Audio):
            raise MediaError(f"ClapEncoder encodes Audio, Video (with audio) or Text, not {type(x).__name__}")
        waves, rate = audio_windows(x, self.window_s, hop_s or self.window_s / 2, self.sample_rate_hz)
        return timed_embedding(self.space, self.encode_waveforms(waves), rate, x.duration_s, source)

    def __call__(self, x, **options):
        return self.encode(x, **options)


def encode(x, hop_s: float | None = None, device=None, dtype=None):
    """Audio (or a Video's sound) -> a CLAP window every ``hop_s`` (default half a window); Text -> a vector."""
    return ClapEncoder.from_pretrained(device=device, dtype=dtype).encode(x, hop_s=hop_s)


def has_audio(video) -> bool:
    return video.audio is not None


def provide_steps():
    steps = [(f"clap-{kind}", kind, cost) for kind, cost in (("audio", 20.0), ("video", 25.0), ("text", 20.0))]
    return backend_steps(NAME, steps, "space:clap", encode, "encoder", "CLAP encoder",
                         accepts=lambda src: has_audio if src == "video" else None)
