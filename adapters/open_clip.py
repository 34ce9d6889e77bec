"""CLIP image / video / text encoder through open_clip (Radford et al. 2021; Cherti et al. 2023, OpenCLIP).

Weights: a folder in the hub layout (``open_clip_config.json`` + ``open_clip_model.safetensors``, as in
``laion/CLIP-ViT-B-32-laion2B-s34B-b79K``) loaded with ``local-dir:``, or a single checkpoint file plus the
architecture name (``model_name="ViT-B-32"``) passed as ``pretrained=``. Found by ``adapters.weights``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .foundation import VisionTextEncoder, backend_steps, load_backend

NAME = "open_clip"
SPACES = ("clip",)  # the route node "space:clip"
PRECISION = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


class OpenClipEncoder(VisionTextEncoder):
    """Unit-norm CLIP embeddings of images, video frames and text from an open_clip model."""

    def __init__(self, model, preprocess, tokenizer, device: str):
        self.model, self.preprocess, self.tokenizer, self.device = model, preprocess, tokenizer, device
        self.dtype = next(model.parameters()).dtype

    @classmethod
    def from_pretrained(cls, path=None, model_name: str = "ViT-B-32", device=None, dtype=None) -> "OpenClipEncoder":
        return load_backend(NAME, path, device, dtype, lambda *a: cls._load(*a, model_name), key=(model_name,))

    @classmethod
    def _load(cls, folder: Path, device: str, torch_dtype, model_name: str) -> "OpenClipEncoder":
        import open_clip

        if folder.is_dir():
            arch, pretrained = f"local-dir:{folder}", None
        else:
            arch, pretrained = model_name, str(folder)
        precision = PRECISION[str(torch_dtype).replace("torch.", "")]
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch, pretrained=pretrained, precision=precision, device=device, require_pretrained=True)
        return cls(model.eval(), preprocess, open_clip.get_tokenizer(arch), device)

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        import torch
        from PIL import Image as PILImage

        batch = torch.stack([self.preprocess(PILImage.fromarray(im)) for im in images])
        with torch.inference_mode():
            out = self.model.encode_image(batch.to(self.device, self.dtype), normalize=True)
        return out.float().cpu().numpy()

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model.encode_text(self.tokenizer(texts).to(self.device), normalize=True)
        return out.float().cpu().numpy()


def encode(x, rate_hz=2, max_side: int | None = 448, device=None, dtype=None):
    """Image / Text -> a CLIP vector; Video -> a row per ``1 / rate_hz`` s (frames at most ``max_side`` px)."""
    return OpenClipEncoder.from_pretrained(device=device, dtype=dtype).encode(x, rate_hz=rate_hz, max_side=max_side)


def provide_steps():
    steps = [(f"open_clip-{kind}", kind, cost) for kind, cost in (("image", 20.0), ("video", 25.0), ("text", 20.0))]
    return backend_steps(NAME, steps, "space:clip", encode, "encoder", "CLIP encoder")
