"""CLIP image / video / text encoder through transformers ``CLIPModel`` (Radford et al. 2021).

Weights: a transformers folder (``config.json``, ``model.safetensors``, tokenizer and image-processor files),
e.g. ``openai/clip-vit-base-patch32``; found by ``adapters.weights`` under the name ``clip``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .foundation import VisionTextEncoder, backend_steps, load_backend

NAME = "clip"
SPACES = ("clip",)  # the route node "space:clip"


class HFClipEncoder(VisionTextEncoder):
    """Unit-norm CLIP embeddings of images, video frames and text from a transformers CLIPModel."""

    def __init__(self, model, image_processor, tokenizer, device: str):
        self.model, self.image_processor, self.tokenizer, self.device = model, image_processor, tokenizer, device
        self.dtype = model.dtype
        self.max_length = model.config.text_config.max_position_embeddings

    @classmethod
    def from_pretrained(cls, path=None, device=None, dtype=None) -> "HFClipEncoder":
        return load_backend(NAME, path, device, dtype, cls._load)

    @classmethod
    def _load(cls, folder: Path, device: str, torch_dtype) -> "HFClipEncoder":
        from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

        model = CLIPModel.from_pretrained(folder, dtype=torch_dtype, local_files_only=True)
        image_processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        return cls(model.to(device).eval(), image_processor, tokenizer, device)

    def encode_images(self, images: list[np.ndarray]) -> np.ndarray:
        import torch

        pixels = self.image_processor(images=[np.array(im) for im in images], return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            out = self.model.get_image_features(pixel_values=pixels.to(self.device, self.dtype)).pooler_output
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu().numpy()

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="pt").to(self.device)
        with torch.inference_mode():
            out = self.model.get_text_features(input_ids=tokens["input_ids"],
                                               attention_mask=tokens["attention_mask"]).pooler_output
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu().numpy()


def encode(x, rate_hz=2, max_side: int | None = 448, device=None, dtype=None):
    """Image / Text -> a CLIP vector; Video -> a row per ``1 / rate_hz`` s (frames at most ``max_side`` px)."""
    return HFClipEncoder.from_pretrained(device=device, dtype=dtype).encode(x, rate_hz=rate_hz, max_side=max_side)


def provide_steps():
    steps = [(f"hf_clip-{kind}", kind, cost) for kind, cost in (("image", 21.0), ("video", 26.0), ("text", 21.0))]
    return backend_steps(NAME, steps, "space:clip", encode, "encoder", "CLIP encoder")
