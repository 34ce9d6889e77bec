"""Stable Diffusion img2img (Rombach et al. 2022; SDEdit, Meng et al. 2022) as a generative image filter.

``translate(sound, to="filter", via="img2img")`` runs audio -> CLAP -> (trained ``clap-to-clip`` bridge) ->
CLIP -> ``GenerativeFilter``: the CLIP vector picks the nearest style phrases from ``STYLE_PHRASES``
(zero-shot retrieval with the CLIP text encoder, as in CLIP's zero-shot classification), and those phrases
prompt SD's img2img on every image or frame the filter is applied to. Retrieval keeps the conditioning
readable (the filter's ``prompt`` says what the sound became) and works with any SD checkpoint, whose
text encoder has no projection into the joint CLIP space. ``translate(Text(...), to="filter", via="img2img")``
uses the text as the prompt directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import ConfigError, MediaError, WeightsError
from xmedia.media import Image, Text, Video

from . import weights
from .foundation import backend_steps, load_backend
from .hf_clip import HFClipEncoder
from .open_clip import OpenClipEncoder

NAME = "img2img"
STYLE_PHRASES = (
    "warm golden sunset light", "cold blue moonlight", "vivid neon colours", "soft pastel watercolour",
    "dark moody film noir", "gritty grainy film texture", "dreamy soft focus haze", "fiery red and orange glow",
    "calm misty morning", "psychedelic swirling colours", "high-contrast black and white", "sparkling glitter",
    "stormy dramatic sky", "lush green foliage", "underwater caustic light", "rough charcoal sketch",
    "smooth glossy chrome", "thick impasto oil paint", "minimal flat colour blocks", "chaotic abstract splashes",
    "gentle candlelight", "icy crystalline frost", "dusty sepia photograph", "electric lightning sparks",
    "deep purple twilight", "bright cheerful sunshine", "gloomy rainy streets", "glowing embers and smoke",
    "pulsing disco lights", "serene still lake reflections",
)


@dataclass(eq=False)
class GenerativeFilter:
    """``filter(image)`` / ``filter(video)``: SD img2img with a fixed prompt, strength and seed.

    ``strength`` (0..1) is how far from the input the result may move (SDEdit's noise level); each frame of a
    video uses the same seed, so the look stays consistent (the content may still flicker: no temporal model).
    """

    prompt: str
    strength: float = 0.5
    steps: int = 25
    guidance_scale: float = 7.5
    negative_prompt: str | None = None
    seed: int = 0
    max_side: int = 512
    device: str | None = None
    dtype: str | None = None
    path: str | None = None
    scores: dict = field(default_factory=dict, repr=False)  # phrase -> cosine, when chosen by retrieval
    KIND = "filter"

    def __post_init__(self):
        if not 0.0 < float(self.strength) <= 1.0:
            raise ConfigError(f"strength must be in (0, 1], got {self.strength!r}")

    def apply_rgb(self, rgb: np.ndarray) -> np.ndarray:
        import cv2
        import torch

        pipe = load_pipeline(self.path, self.device, self.dtype)
        h, w = rgb.shape[:2]
        s = min(1.0, self.max_side / max(h, w))
        mult = pipe.vae_scale_factor  # latents are 1/8 of the image: sides must be multiples of 8
        ph, pw = max(mult, int(h * s) // mult * mult), max(mult, int(w * s) // mult * mult)
        small = cv2.resize(np.ascontiguousarray(rgb[:, :, :3]), (pw, ph), interpolation=cv2.INTER_AREA)
        generator = torch.Generator("cpu").manual_seed(int(self.seed))
        out = pipe(prompt=self.prompt, image=small.astype(np.float32)[None] / 255.0, strength=float(self.strength),
                   num_inference_steps=int(self.steps), guidance_scale=self.guidance_scale,
                   negative_prompt=self.negative_prompt, generator=generator, output_type="np").images[0]
        out = np.clip(np.round(np.asarray(out) * 255), 0, 255).astype(np.uint8)
        return cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC) if (ph, pw) != (h, w) else out

    def __call__(self, x):
        if isinstance(x, Image):
            return Image(self.apply_rgb(x.rgb_uint8()))
        if isinstance(x, Video):
            from tqdm.auto import tqdm

            frames = [self.apply_rgb(f.rgb) for f in tqdm(x.iter_frames(), total=x.num_frames, desc="img2img", leave=False)]
            return Video(np.stack(frames), fps=x.fps, pts=x.pts, time_base=x.time_base, audio=x.audio)
        raise MediaError(f"a GenerativeFilter applies to Image or Video, not {type(x).__name__}")


def load_pipeline(path=None, device=None, dtype=None):
    def build(folder: Path, device: str, torch_dtype):
        from diffusers import StableDiffusionImg2ImgPipeline

        pipe = StableDiffusionImg2ImgPipeline.from_pretrained(folder, dtype=torch_dtype, local_files_only=True)
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(device)

    return load_backend(NAME, path, device, dtype, build)


def clip_text_encoder(device=None, dtype=None):
    """The CLIP text encoder of whichever CLIP backend has weights (open_clip first, as the router does)."""
    if weights.is_available("open_clip"):
        return OpenClipEncoder.from_pretrained(device=device, dtype=dtype)
    if weights.is_available("clip"):
        return HFClipEncoder.from_pretrained(device=device, dtype=dtype)
    raise WeightsError("choosing a style from a CLIP embedding needs a CLIP text encoder: "
                       + weights.describe("open_clip") + "; or " + weights.describe("clip"))


def prompt_from_clip(emb: Embedding, encoder, phrases=STYLE_PHRASES, top_k: int = 3) -> tuple[str, dict]:
    """The ``top_k`` phrases nearest to a CLIP embedding, joined into a prompt, and every phrase's cosine."""
    if emb.space != "clip":
        raise MediaError(f"expected a CLIP embedding, got space {emb.space!r}")
    table = encoder.encode_texts(list(phrases))
    if table.shape[1] != emb.dim:
        raise ConfigError(f"the CLIP text encoder gives {table.shape[1]}-d vectors but the embedding is {emb.dim}-d: "
                          "the embedding comes from another CLIP checkpoint")
    cos = table @ (emb.vector / max(float(np.linalg.norm(emb.vector)), 1e-12))
    order = np.argsort(-cos)[:top_k]
    return ", ".join(phrases[i] for i in order), {p: float(c) for p, c in zip(phrases, cos)}


def decode(x, prompt: str | None = None, top_k: int = 3, strength: float = 0.5, steps: int = 25,
           guidance_scale: float = 7.5, negative_prompt: str | None = None, seed: int = 0, device=None,
           dtype=None) -> GenerativeFilter:
    """Text or a CLIP Embedding (or ``prompt=``) -> a ``GenerativeFilter``; an embedding picks the ``top_k``
    nearest style phrases."""
    scores = {}
    if prompt is None:
        if isinstance(x, Text):
            prompt = x.text
        elif isinstance(x, Embedding):
            prompt, scores = prompt_from_clip(x, clip_text_encoder(device, dtype), top_k=top_k)
        else:
            raise MediaError(f"img2img builds a filter from Text or a CLIP Embedding, not {type(x).__name__}")
    load_pipeline(device=device, dtype=dtype)  # fail now (WeightsError) rather than when the filter is applied
    return GenerativeFilter(prompt=prompt, strength=strength, steps=steps, guidance_scale=guidance_scale,
                            negative_prompt=negative_prompt, seed=seed, device=device, dtype=dtype, scores=scores)


def provide_steps():
    steps = [("img2img", "space:clip", 40.0), ("img2img-text", "text", 40.0)]
    return backend_steps(NAME, steps, "filter", decode, "decoder", "generative image filter")
