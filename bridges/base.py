"""Bridge: a ``Process`` from one space to another (or to a decoder's controls).

A bridge trains on the one trainer through ``xmedia.bridges.training`` (InfoNCE or regression; its defaults in
``bridges/recipe.json``) and mixes the outputs of two different
architectures when blended (``BlendedBridge``); everything else (config recording, ``save_pretrained`` /
``from_pretrained``, ``fine_tune``, weight blending, the model card) comes from ``xmedia.process.Process``.
"""
from __future__ import annotations

import json
from pathlib import Path

from torch.nn import functional as F

from xmedia.blend import build_process, process_spec
from xmedia.errors import ConfigError
from xmedia.process import CARD_NAME, CONFIG_NAME, PROCESS_CLASSES, WEIGHTS_NAME, Process, model_card

from .training import BridgeTask, check_options

RECIPE = Path(__file__).with_name("recipe.json")  # the bridges' training defaults


def bridge_recipe() -> dict:
    """``bridges/recipe.json``: ``{"train": {...}, "fine_tune": {...}}``, the defaults under every bridge recipe."""
    return json.loads(RECIPE.read_text())


__all__ = ["Bridge", "BRIDGE_CLASSES", "BlendedBridge", "output_dim",
           "WEIGHTS_NAME", "CONFIG_NAME", "CARD_NAME", "model_card"]

BRIDGE_CLASSES = PROCESS_CLASSES


class Bridge(Process):
    """Base class of the bridges: set ``src``/``dst``, implement ``forward`` (tensors) and ``run`` (embeddings)."""

    src: str = "space:perceptual"
    dst: str = "space:perceptual"

    # -- training (xmedia.trainer): ``bridge.fit(data, objective=..., max_epochs=...)`` returns a TrainResult ----
    @classmethod
    def training_defaults(cls, fine_tune: bool = False) -> dict:
        """Every bridge class shares ``bridges/recipe.json`` (a zoo recipe's ``"train"`` section goes on top of
        it: ``train_recipe``); ``fine_tune`` keeps the input normalisation the frozen layers were trained with."""
        recipe = bridge_recipe()
        return {**recipe["train"], **(recipe["fine_tune"] if fine_tune else {})}

    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        return check_options(options)

    def training_task(self, data, **options) -> BridgeTask:
        """Pairs (or any data ``as_pairs`` takes) -> the trainer's ``BridgeTask`` (``xmedia.bridges.training``)."""
        return BridgeTask(self, data, **options)

    @classmethod
    def blend_outputs(cls, a: "Bridge", b: "Bridge", t: float) -> "Bridge":
        out = BlendedBridge(process_spec(a), process_spec(b), t)
        out.a.load_state_dict(a.state_dict())
        out.b.load_state_dict(b.state_dict())
        return out


def output_dim(bridge: Bridge) -> int:
    dim = getattr(bridge, "out_dim", None)
    if dim is None:
        raise ConfigError(f"{type(bridge).__name__} does not declare out_dim; cannot stack layers on it")
    return int(dim)


class BlendedBridge(Bridge):
    """Output interpolation of two bridges with different shapes: ``(1 - t) * a(x) + t * b(x)``.

    ``t`` is exactly 0 or 1 at the ends (the other bridge is not even run), so the blend is exactly ``a`` or
    ``b`` there. Two-tower outputs are re-normalised between the ends so they stay unit vectors.
    """

    def __init__(self, a: dict, b: dict, t: float = 0.5):
        super().__init__()
        self.a, self.b, self.t = build_process(a, Bridge), build_process(b, Bridge), float(t)
        if not 0.0 <= self.t <= 1.0:
            raise ConfigError(f"blend t must be in [0, 1], got {t}")
        self.src, self.dst = self.a.src, self.a.dst
        self.in_dim, self.out_dim = getattr(self.a, "in_dim", None), output_dim(self.a)
        if output_dim(self.b) != self.out_dim:
            raise ConfigError(f"cannot blend outputs of different sizes ({self.out_dim} vs {output_dim(self.b)})")
        self.two_tower = all(hasattr(m, "encode_b") and getattr(m, "two_tower", True) for m in (self.a, self.b))
        if self.two_tower:
            self.b_dim = self.a.b_dim

    @property
    def logit_scale(self):
        if not self.two_tower:
            raise AttributeError("logit_scale")
        return self._mix(lambda _: self.a.logit_scale, lambda _: self.b.logit_scale, None, False)

    def _mix(self, fa, fb, x, renormalize: bool):
        if self.t == 0.0:
            return fa(x)
        if self.t == 1.0:
            return fb(x)
        y = (1 - self.t) * fa(x) + self.t * fb(x)
        return F.normalize(y, dim=-1) if renormalize else y

    def encode_a(self, x):
        return self._mix(self.a.encode_a, self.b.encode_a, x, True)

    def encode_b(self, y):
        return self._mix(self.a.encode_b, self.b.encode_b, y, True)

    def forward(self, x):
        return self._mix(self.a, self.b, x, self.two_tower)
