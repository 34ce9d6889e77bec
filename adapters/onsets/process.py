"""``VisualOnsets``: the trainable visual-onset model (a ``Process``), trained in torch, run in numpy.

A 1-D convolution over ``2 * radius + 1`` frames of local-motion features (``features.sequence_features``), a
ReLU, a per-frame linear read-out and a sigmoid: the probability that the frame makes a sound. Labels are the
clip's own sound onsets (``data.ClipData.label_s``): 1 at each one's nearest frame, 0.5 on its neighbours (plain
BCE, so the output stays a calibrated probability and the threshold can tell busy clips from quiet ones; weighting
the rare positives up saturates it and the tuned threshold then fires at the maximum rate). The detection
threshold, the sub-frame offset and the calibration (Platt ``calib_a``/``calib_b`` and ``count_scale``, identity
by default and when loading weights saved before them) are buffers, set at the end of ``fit`` (tuned on held-out
clips of the training data, ``evaluate.tune_detection``) and saved with the weights, so ``model.OnsetModel`` reads
everything it needs with ``xmedia.pretrained.load_arrays``.
"""
from __future__ import annotations

import torch
from torch import nn

from xmedia.process import Process

from .features import FEATURE_NAMES
from .model import CALIBRATION, MIN_GAP_S, OnsetModel
from .task import clip_targets, frame_targets  # noqa: F401 - the labels, beside the model that learns them


class VisualOnsets(Process):
    recipe = "recipe.json"
    src, dst = "video", "space:perceptual"  # run() is the perceptual encoder with this model's events

    def __init__(self, n_features: int = len(FEATURE_NAMES), radius: int = 3, hidden: int = 32,
                 min_gap_s: float = MIN_GAP_S, valley: float = 0.5):
        super().__init__()
        k = 2 * int(radius) + 1
        self.hidden = nn.Conv1d(n_features, hidden, k, padding=radius, padding_mode="replicate")
        self.out = nn.Conv1d(hidden, 1, 1)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        self.register_buffer("threshold", torch.tensor(0.5))
        self.register_buffer("offset_s", torch.tensor(0.0))
        for name, default in CALIBRATION.items():  # Platt scaling and the expected-count scale (identity)
            self.register_buffer(name, torch.tensor(default))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Weights saved before the calibration buffers existed load unchanged (identity calibration)."""
        for name, default in CALIBRATION.items():
            state_dict.setdefault(prefix + name, torch.tensor(default))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(T, F) or (B, T, F) features -> logits of the same leading shape."""
        single = features.dim() == 2
        x = (features.float() - self.mean) / self.std
        x = (x[None] if single else x).transpose(1, 2)
        y = self.out(torch.relu(self.hidden(x)))[:, 0]
        return y[0] if single else y

    def onset_model(self) -> OnsetModel:
        """This process's numpy twin (what the encoder runs)."""
        arrays = {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}
        return OnsetModel(self.config, arrays, type(self).__name__)

    def run(self, video, **options):
        """Events of a video: the perceptual embedding, its events and strengths from this model."""
        from ..perceptual.video import encode_video

        return encode_video(video, onset_model=self, **options)

    # -- training (xmedia.trainer): ``VisualOnsets().fit("clips/")`` returns a TrainResult -------------------
    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        from .task import check_options

        return check_options(options)

    def training_task(self, data, **options):
        """Clips (``data.ClipData``, a ``train.Gathered``, or a folder / ``.jsonl`` manifest of videos with their
        own sound) -> the trainer's ``task.OnsetTask``: full-batch epochs, then the threshold tuned on inner
        folds and, with ``folds``, the recipe cross-validated by clip (``result.extra["cv"]``)."""
        from .task import OnsetTask

        return OnsetTask(self, data, **options)

    def set_detection(self, threshold: float, offset_s: float = 0.0) -> None:
        with torch.no_grad():
            self.threshold.fill_(float(threshold))
            self.offset_s.fill_(float(offset_s))

    def set_calibration(self, calib_a: float = 1.0, calib_b: float = 0.0, count_scale: float = 1.0) -> None:
        """Platt scaling of the logit and the expected-count scale (``evaluate.tune_detection``)."""
        with torch.no_grad():
            self.calib_a.fill_(float(calib_a))
            self.calib_b.fill_(float(calib_b))
            self.count_scale.fill_(float(count_scale))
