"""AudioLDM through diffusers, conditioned on CLAP embeddings (Liu et al. 2023, "AudioLDM").

AudioLDM's UNet is conditioned on one unit-norm CLAP vector, so any point of the CLAP space can drive it: a
CLAP text embedding (its own text encoder), a CLAP audio embedding (``ClapEncoder``: "more like this
sound"), or a CLIP embedding mapped into CLAP by a trained ``SpaceMap`` (the V2A-Mapper recipe, Wang et al.
2024): ``translate(video, to="audio", via="audioldm")`` runs video -> CLIP -> CLAP -> AudioLDM once
``$XMEDIA_HOME/bridges/clip-to-clap`` holds a trained bridge. The CLAP space must be the one the AudioLDM
checkpoint was trained with (its text encoder's); a mismatched dimension raises ``ConfigError``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio, Text

from .foundation import backend_steps, load_backend

NAME = "audioldm"
DEFAULT_DURATION_S = 5.0


class AudioLDMDecoder:
    """CLAP embedding or text prompt -> Audio with a diffusers ``AudioLDMPipeline``."""

    def __init__(self, pipe, device: str):
        self.pipe, self.device = pipe, device
        self.sample_rate_hz = int(pipe.vocoder.config.sampling_rate)
        self.clap_dim = int(pipe.unet.config.projection_class_embeddings_input_dim)

    @classmethod
    def from_pretrained(cls, path=None, device=None, dtype=None) -> "AudioLDMDecoder":
        return load_backend(NAME, path, device, dtype, cls._load)

    @classmethod
    def _load(cls, folder: Path, device: str, torch_dtype) -> "AudioLDMDecoder":
        from diffusers import AudioLDMPipeline

        pipe = AudioLDMPipeline.from_pretrained(folder, dtype=torch_dtype, local_files_only=True)
        pipe.set_progress_bar_config(disable=True)
        return cls(pipe.to(device), device)

    def generate(self, clap_vector: np.ndarray | None = None, prompt: str | None = None,
                 duration_s: float = DEFAULT_DURATION_S, steps: int = 10, guidance_scale: float = 2.5,
                 negative_prompt: str | None = None, seed: int | None = 0) -> Audio:
        """``duration_s`` of audio from a CLAP vector (unit-normalised here) or a text prompt."""
        import torch

        if (clap_vector is None) == (prompt is None):
            raise ConfigError("give exactly one of clap_vector= or prompt=")
        if duration_s <= 0:
            raise ConfigError(f"duration_s must be positive, got {duration_s}")
        kwargs = {}
        if clap_vector is not None:
            v = np.asarray(clap_vector, dtype=np.float32).reshape(-1)
            v = v / max(float(np.linalg.norm(v)), 1e-12)  # the pipeline normalises only the embeds it computes
            if v.size != self.clap_dim:
                raise ConfigError(f"this AudioLDM takes {self.clap_dim}-d CLAP embeddings, got {v.size}-d: use the "
                                  "CLAP model AudioLDM was trained with, or bridge into its space")
            kwargs["prompt_embeds"] = torch.as_tensor(v[None], device=self.device, dtype=self.pipe.text_encoder.dtype)
        else:
            kwargs["prompt"] = prompt
        generator = torch.Generator("cpu").manual_seed(int(seed)) if seed is not None else None
        out = self.pipe(audio_length_in_s=float(duration_s), num_inference_steps=int(steps),
                        guidance_scale=guidance_scale, negative_prompt=negative_prompt, generator=generator,
                        output_type="np", **kwargs)
        wave = np.asarray(out.audios[0], dtype=np.float32).reshape(-1)
        n = int(round(float(duration_s) * self.sample_rate_hz))
        wave = np.pad(wave[:n], (0, max(0, n - wave.size)))
        return Audio(np.clip(wave, -1, 1)[:, None], self.sample_rate_hz)

    def __call__(self, x, duration_s: float | None = None, prompt: str | None = None, **options) -> Audio:
        if duration_s is None:
            duration_s = float(x.duration_s) if getattr(x, "duration_s", None) else DEFAULT_DURATION_S
        if prompt is not None or isinstance(x, Text):
            return self.generate(prompt=prompt or x.text, duration_s=duration_s, **options)
        if not isinstance(x, Embedding) or x.space != "clap":
            raise MediaError(f"AudioLDM decodes a CLAP Embedding or Text, not {x!r}")
        return self.generate(clap_vector=x.vector, duration_s=duration_s, **options)


def decode(x, prompt: str | None = None, duration_s: float | None = None, steps: int = 10,
           guidance_scale: float = 2.5, negative_prompt: str | None = None, seed: int | None = 0, device=None,
           dtype=None) -> Audio:
    """A CLAP Embedding or Text (or ``prompt=``) -> ``duration_s`` of sound (default: the input's, else 5 s)."""
    return AudioLDMDecoder.from_pretrained(device=device, dtype=dtype)(
        x, duration_s=duration_s, prompt=prompt, steps=steps, guidance_scale=guidance_scale,
        negative_prompt=negative_prompt, seed=seed)


def provide_steps():
    steps = [("audioldm", "space:clap", 40.0), ("audioldm-text", "text", 40.0)]
    return backend_steps(NAME, steps, "audio", decode, "decoder", "sound decoder")
