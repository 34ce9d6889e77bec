"""MusicGen as a soundtrack decoder (Copet et al. 2023, "Simple and Controllable Music Generation").

A perceptual embedding (a video's, an image's, a sound's) becomes a text prompt whose words follow the
cross-modal correspondences in ../shared/design/crossmodal.md: pace -> tempo (Spence 2011: tempo <->
visual speed), brightness -> register and timbre (Marks 1974/1987: lightness <-> pitch; Grey 1977), valence
-> major/minor mode (Palmer et al. 2013), texture -> rough vs smooth timbre (bouba/kiki, Spence 2011),
energy -> loudness and intensity (Whiteford et al. 2018). A given ``prompt=`` or a ``Text`` is used as is.

Checkpoints with ``model_type: musicgen_melody`` (``facebook/musicgen-melody``) take a ``melody=`` Audio
whose chromagram conditions the generation. The optional audiocraft backend is used only with
``backend="audiocraft"`` and when ``audiocraft`` is importable (it pins an old torch).
"""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio, Text

from .foundation import backend_steps, load_backend
from .perceptual import AXES

NAME = "musicgen"
MAX_CHUNK_S = 30.0  # MusicGen was trained on 30 s excerpts
CROSSFADE_S = 1.0
DEFAULT_DURATION_S = 8.0


def _pick(value: float, low: str, mid: str, high: str) -> str:
    return low if value < 0.35 else high if value > 0.65 else mid


def prompt_from_perceptual(emb: Embedding) -> str:
    """A MusicGen prompt from the eight perceptual axes (see the module docstring for the grounding)."""
    if emb.space != "perceptual":
        raise MediaError(f"a prompt is built from a perceptual embedding, got space {emb.space!r}")
    v = {a: emb[a] if emb.axes and a in emb.axes else 0.5 for a in AXES}
    bpm = int(round(60 + 120 * v["pace"]))
    words = [
        _pick(v["energy"], "soft, gentle", "steady", "energetic, powerful, loud"),
        _pick(v["valence"], "melancholic minor-key", "ambient", "uplifting major-key"),
        "music",
        _pick(v["brightness"], "with dark low-register tones", "with a balanced mix",
              "with bright high-register shimmering tones"),
        _pick(v["warmth"], "cold synthetic timbre", "", "warm analog timbre"),
        _pick(v["texture"], "smooth clean sound", "", "gritty distorted texture"),
        _pick(v["density"], "sparse minimal arrangement", "", "dense layered arrangement"),
        _pick(v["onset"], "sustained pads", "", "punchy percussive hits"),
        f"{bpm} bpm",
    ]
    return ", ".join(w for w in words if w).replace("music, with", "music with")


class MusicGenDecoder:
    """Text (or a perceptual embedding) -> Audio with a transformers MusicGen / MusicGen-Melody model."""

    def __init__(self, model, tokenizer, feature_extractor, device: str, melody: bool):
        self.model, self.tokenizer, self.feature_extractor = model, tokenizer, feature_extractor
        self.device, self.melody = device, melody
        self.sample_rate_hz = int(model.config.audio_encoder.sampling_rate)
        self.frame_rate_hz = float(model.config.audio_encoder.frame_rate)

    @classmethod
    def from_pretrained(cls, path=None, device=None, dtype=None) -> "MusicGenDecoder":
        return load_backend(NAME, path, device, dtype, cls._load)

    @classmethod
    def _load(cls, folder: Path, device: str, torch_dtype) -> "MusicGenDecoder":
        import transformers

        melody = json.loads((folder / "config.json").read_text()).get("model_type") == "musicgen_melody"
        klass = (transformers.MusicgenMelodyForConditionalGeneration if melody
                 else transformers.MusicgenForConditionalGeneration)
        model = klass.from_pretrained(folder, dtype=torch_dtype, local_files_only=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        feature_extractor = chroma_config(folder) if melody else None
        return cls(model.to(device).eval(), tokenizer, feature_extractor, device, melody)

    def generate(self, prompt: str, duration_s: float = DEFAULT_DURATION_S, seed: int | None = 0,
                 guidance_scale: float = 3.0, melody: Audio | None = None, temperature: float = 1.0) -> Audio:
        """``duration_s`` of music for ``prompt``; clips longer than 30 s are tiled from one 30 s generation
        with a 1 s crossfade (MusicGen's context is 30 s)."""
        import torch

        if duration_s <= 0:
            raise ConfigError(f"duration_s must be positive, got {duration_s}")
        if melody is not None and not self.melody:
            raise ConfigError("melody= needs a MusicGen-Melody checkpoint (model_type musicgen_melody, e.g. "
                              "facebook/musicgen-melody); this one is a plain MusicGen")
        inputs = self.tokenizer([prompt], padding=True, return_tensors="pt")
        kwargs = {"input_ids": inputs["input_ids"].to(self.device), "attention_mask": inputs["attention_mask"].to(self.device)}
        if melody is not None:
            chroma = melody_chroma(melody, **self.feature_extractor)
            kwargs["input_features"] = torch.as_tensor(chroma[None], device=self.device, dtype=self.model.dtype)
        chunk_s = min(float(duration_s), MAX_CHUNK_S)
        tokens = max(1, int(np.ceil(chunk_s * self.frame_rate_hz)))
        with torch.random.fork_rng(devices=[] if self.device == "cpu" else None), torch.inference_mode():
            if seed is not None:
                torch.manual_seed(int(seed))
            out = self.model.generate(**kwargs, do_sample=True, guidance_scale=guidance_scale,
                                      temperature=temperature, max_new_tokens=tokens)
        wave = out[0].float().cpu().numpy().T  # (samples, channels)
        return Audio(np.clip(_fit_length(wave, float(duration_s), self.sample_rate_hz), -1, 1), self.sample_rate_hz)

    def __call__(self, x, prompt: str | None = None, duration_s: float | None = None, **options) -> Audio:
        if prompt is None:
            if isinstance(x, Text):
                prompt = x.text
            elif isinstance(x, Embedding):
                prompt = prompt_from_perceptual(x)
            else:
                raise MediaError(f"MusicGen decodes Text or a perceptual Embedding, not {type(x).__name__}")
        if duration_s is None:
            duration_s = float(x.duration_s) if getattr(x, "duration_s", None) else DEFAULT_DURATION_S
        return self.generate(prompt, duration_s=duration_s, **options)


def chroma_config(folder: Path) -> dict:
    """The melody chromagram settings from ``preprocessor_config.json`` (MusicgenMelodyFeatureExtractor's)."""
    cfg_path = folder / "preprocessor_config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
    return {"sample_rate_hz": int(cfg.get("sampling_rate", 32000)), "n_fft": int(cfg.get("n_fft", 16384)),
            "hop_length": int(cfg.get("hop_length", 4096)), "chunk_length_s": float(cfg.get("chunk_length", 30)),
            "num_chroma": int(cfg.get("num_chroma", 12))}


def melody_chroma(melody: Audio, sample_rate_hz: int, n_fft: int, hop_length: int, chunk_length_s: float,
                  num_chroma: int = 12) -> np.ndarray:
    """One-hot dominant pitch class per frame ``(T, num_chroma)``, as MusicgenMelodyFeatureExtractor computes it
    (power STFT, librosa chroma filter bank, argmax), with torch.stft so torchaudio is not needed."""
    import torch
    from transformers.audio_utils import chroma_filter_bank

    wave = torch.as_tensor(melody.resample(sample_rate_hz).mono()[: int(chunk_length_s * sample_rate_hz)])
    if wave.numel() < n_fft:
        pad = n_fft - wave.numel()
        wave = torch.nn.functional.pad(wave, (pad // 2, pad - pad // 2))
    spec = torch.stft(wave, n_fft, hop_length, n_fft, torch.hann_window(n_fft), center=True, pad_mode="reflect",
                      return_complex=True).abs() ** 2  # the extractor's window normalisation cannot change the argmax
    filters = torch.as_tensor(chroma_filter_bank(num_frequency_bins=n_fft, num_chroma=num_chroma,
                                                 sampling_rate=sample_rate_hz, tuning=0), dtype=torch.float32)
    best = (filters @ spec).argmax(0)
    return torch.nn.functional.one_hot(best, num_chroma).float().numpy()


def _fit_length(wave: np.ndarray, duration_s: float, sample_rate_hz: int) -> np.ndarray:
    """Exactly ``duration_s`` of audio: trimmed, or tiled with an equal-power crossfade when too short."""
    n = int(round(Fraction(duration_s).limit_denominator(1_000_000) * sample_rate_hz))
    if wave.shape[0] == 0:
        raise MediaError("MusicGen produced no audio")
    fade = min(int(CROSSFADE_S * sample_rate_hz), wave.shape[0] // 4)
    out = wave
    while out.shape[0] < n:
        if fade:
            t = np.linspace(0, np.pi / 2, fade)[:, None]
            seam = out[-fade:] * np.cos(t) + wave[:fade] * np.sin(t)
            out = np.concatenate([out[:-fade], seam, wave[fade:]])
        else:
            out = np.concatenate([out, wave])
    return out[:n]


def _audiocraft_generate(prompt: str, duration_s: float, seed, model_id: str = "facebook/musicgen-small") -> Audio:
    """Optional audiocraft backend (only when the package imports; its weights come from its own cache)."""
    try:
        from audiocraft.models import MusicGen
    except ImportError:
        raise ConfigError("backend='audiocraft' needs the audiocraft package, which pins an older torch; "
                          "use the default transformers backend") from None
    import torch

    model = MusicGen.get_pretrained(model_id)
    model.set_generation_params(duration=min(duration_s, MAX_CHUNK_S))
    if seed is not None:
        torch.manual_seed(int(seed))
    wav = model.generate([prompt])[0].cpu().numpy().T
    return Audio(np.clip(_fit_length(wav, duration_s, model.sample_rate), -1, 1), model.sample_rate)


def decode(x, prompt: str | None = None, duration_s: float | None = None, seed: int | None = 0,
           guidance_scale: float = 3.0, melody: Audio | None = None, temperature: float = 1.0,
           backend: str = "transformers", device=None, dtype=None) -> Audio:
    """Text or a perceptual Embedding (or ``prompt=``) -> ``duration_s`` of music (default: the input's)."""
    if backend == "audiocraft":
        prompt = prompt or (x.text if isinstance(x, Text) else prompt_from_perceptual(x))
        duration = duration_s or float(getattr(x, "duration_s", None) or DEFAULT_DURATION_S)
        return _audiocraft_generate(prompt, duration, seed)
    if backend != "transformers":
        raise ConfigError(f"backend must be 'transformers' or 'audiocraft', got {backend!r}")
    return MusicGenDecoder.from_pretrained(device=device, dtype=dtype)(
        x, prompt=prompt, duration_s=duration_s, seed=seed, guidance_scale=guidance_scale, melody=melody,
        temperature=temperature)


def provide_steps():
    steps = [("musicgen", "space:perceptual", 40.0), ("musicgen-text", "text", 40.0)]
    return backend_steps(NAME, steps, "audio", decode, "decoder", "soundtrack decoder")
