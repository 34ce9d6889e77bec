"""``VisualOnsets``: the trainable visual-onset model (a ``Process``), trained in torch, run in numpy.

A 1-D convolution over ``2 * radius + 1`` frames of local-motion features (``features.sequence_features``), a
ReLU, a per-frame linear read-out and a sigmoid: the probability that the frame makes a sound. Labels are the
clip's own sound onsets (``data.ClipData.label_s``): 1 at each one's nearest frame, 0.5 on its neighbours (plain
BCE, so the output stays a calibrated probability and the threshold can tell busy clips from quiet ones; weighting
the rare positives up saturates it and the tuned threshold then fires at the maximum rate). The detection
threshold and the sub-frame offset are buffers, set after ``fit`` (tuned on held-out clips of the training data,
``evaluate.train_tuned``) and saved with the weights, so ``model.OnsetModel`` reads everything it needs with
``xmedia.pretrained.load_arrays``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from xmedia.process import Process

from .features import FEATURE_NAMES, sequence_features
from .model import MIN_GAP_S, OnsetModel


def frame_targets(times_s: np.ndarray, onsets_s: np.ndarray, fps: float, spread: float = 0.5) -> np.ndarray:
    """1 at the frame nearest each onset, ``spread`` on its two neighbours, 0 elsewhere."""
    y = np.zeros(len(times_s), np.float32)
    if len(times_s) == 0:
        return y
    for s in onsets_s:
        i = int(np.argmin(np.abs(times_s - s)))
        if abs(times_s[i] - s) > 1.0 / fps:
            continue
        y[i] = 1.0
        for j in (i - 1, i + 1):
            if 0 <= j < len(y):
                y[j] = max(y[j], spread)
    return y


def clip_targets(clip, target: str = "onsets", spread: float = 0.5) -> np.ndarray:
    """Per-frame targets in [0, 1]: ``"onsets"`` (``frame_targets`` of the label onsets), ``"strength"`` (the
    sound's onset strength over each frame, against its clip's 99th percentile) or ``"both"`` (their mean)."""
    onsets = frame_targets(clip.times_s, clip.label_s, clip.fps, spread)
    if target == "onsets":
        return onsets
    env = np.asarray(clip.sound_envelope, np.float64)[: len(onsets)]
    strength = np.clip(env / (np.percentile(env, 99) + 1e-9), 0, 1).astype(np.float32) if len(env) else onsets
    return strength if target == "strength" else 0.5 * (onsets + strength)


class VisualOnsets(Process):
    src, dst = "video", "events:visual"

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

    def fit(self, clips, epochs: int = 300, lr: float = 0.01, weight_decay: float = 1e-3, seed: int = 0,
            pos_weight: float = 1.0, target: str = "onsets", spread: float = 0.5, progress=None,
            distributed: bool | None = None):
        """Train on ``clips`` (``data.ClipData``); returns the loss curve. Threshold/offset: see ``tune``.
        ``distributed`` (see ``xmedia.scale.runner``): each process takes its share of the clips (the averaged
        gradient is the full batch's; the loss curve is the main process's share)."""
        from xmedia.scale import runner

        torch.manual_seed(seed)
        r = runner(distributed)
        xs = [torch.as_tensor(sequence_features(c.motion, c.fps)) for c in clips]
        ys = [torch.as_tensor(clip_targets(c, target, spread)) for c in clips]
        allx = torch.cat(xs)
        with torch.no_grad():
            self.mean.copy_(allx.mean(0))
            self.std.copy_(allx.std(0).clamp_min(1e-3))
        opt = torch.optim.Adam(self.parameters(), lr=lr, weight_decay=weight_decay)
        net, opt = r.prepare(self, opt)
        share = 1.0
        if r.num_processes > 1 and len(xs) >= r.num_processes:  # shard the clips; DDP averages, so scale up
            xs, ys = xs[r.process_index::r.num_processes], ys[r.process_index::r.num_processes]
            share = float(r.num_processes)
        weight = torch.tensor(float(pos_weight))
        losses = []
        steps = range(int(epochs))
        if progress is not None and r.is_main:
            steps = progress(steps)
        for _ in steps:
            opt.zero_grad()
            loss = sum(nn.functional.binary_cross_entropy_with_logits(net(x), y, pos_weight=weight, reduction="sum")
                       for x, y in zip(xs, ys)) / len(allx) * share
            r.backward(loss)
            opt.step()
            losses.append(float(loss.detach()))
        return {"loss": losses}

    def set_detection(self, threshold: float, offset_s: float = 0.0) -> None:
        with torch.no_grad():
            self.threshold.fill_(float(threshold))
            self.offset_s.fill_(float(offset_s))
