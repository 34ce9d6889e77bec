"""Remix operations: blend (exact ends, smooth between), extend, fine_tune with frozen layers, weighted mixes."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia.bridges import AudioVisualBridge, Bridge, MLPBridge, blend, compatible, extend, fine_tune, mix, pairs, train
from xmedia.errors import ConfigError


def make(seed, cls=MLPBridge, **kw):
    torch.manual_seed(seed)
    kw = kw or {"in_dim": 6, "out_dim": 3, "hidden": [16]}
    b = cls(**kw)
    with torch.no_grad():  # non-trivial input statistics, so buffers are blended too
        if hasattr(b, "norm"):
            b.norm.mean.normal_()
            b.norm.std.uniform_(0.5, 2)
    return b.eval()


X = torch.from_numpy(np.random.default_rng(0).normal(size=(32, 6)).astype(np.float32))


@pytest.mark.parametrize("mode", ["weights", "outputs"])
def test_blend_is_exactly_a_at_0_and_b_at_1(mode):
    a, b = make(1), make(2)
    with torch.no_grad():
        assert torch.equal(blend(a, b, 0.0, mode=mode)(X), a(X))
        assert torch.equal(blend(a, b, 1.0, mode=mode)(X), b(X))
        assert not torch.allclose(blend(a, b, 0.5, mode=mode)(X), a(X))
    if mode == "weights":
        for (k, v), w in zip(blend(a, b, 0.0).state_dict().items(), a.state_dict().values()):
            assert torch.equal(v, w), k


def test_blend_of_different_shapes_interpolates_outputs():
    a, b = make(1), make(2, in_dim=6, out_dim=3, hidden=[8, 8])
    assert not compatible(a, b)
    mid = blend(a, b, 0.25)
    with torch.no_grad():
        assert torch.allclose(mid(X), 0.75 * a(X) + 0.25 * b(X), atol=1e-6)
    with pytest.raises(ConfigError, match="mode='outputs'"):
        blend(a, b, 0.5, mode="weights")
    with pytest.raises(ConfigError, match="different sizes"):
        blend(a, make(3, in_dim=6, out_dim=4), 0.5)


def _curve(a, b, mode, ts):
    with torch.no_grad():
        return [blend(a, b, t, mode=mode)(X) for t in ts]


@settings(max_examples=25, deadline=None)
@given(t=st.floats(0, 1), dt=st.floats(1e-4, 0.05), mode=st.sampled_from(["weights", "outputs"]),
       seed=st.integers(0, 3))
def test_blend_is_smooth_in_t(t, dt, mode, seed):
    """No jumps: a small step in t moves the output by at most a few times the coarse slope of the path."""
    a, b = make(10 + seed), make(20 + seed)
    grid = _curve(a, b, mode, np.linspace(0, 1, 11))
    slope = max(float((q - p).abs().max()) for p, q in zip(grid, grid[1:])) / 0.1
    t2 = min(1.0, t + dt)
    y1, y2 = _curve(a, b, mode, [t, t2])
    assert float((y2 - y1).abs().max()) <= 3 * slope * (t2 - t) + 1e-5


def test_blend_two_tower_bridges_keeps_unit_vectors():
    a, b = make(1, AudioVisualBridge, video_dim=6, audio_dim=5), make(2, AudioVisualBridge, video_dim=6, audio_dim=5)
    mid = blend(a, b, 0.5)
    with torch.no_grad():
        assert torch.allclose(mid.encode_a(X).norm(dim=1), torch.ones(len(X)), atol=1e-5)
        assert float(mid.logit_scale) == pytest.approx(0.5 * float(a.logit_scale + b.logit_scale))


def test_extend_is_a_saveable_bridge_with_the_base_inside(tmp_path):
    base = make(1)
    ext = extend(base, [8, 2])
    with torch.no_grad():
        assert ext(X).shape == (32, 2)
        assert torch.equal(ext.base(X), base(X))
    ext.save(tmp_path / "ext")
    again = Bridge.from_pretrained(tmp_path / "ext")
    with torch.no_grad():
        assert torch.equal(again(X), ext(X))
    blended = blend(ext, extend(make(2), [8, 2]), 0.5)
    blended.save(tmp_path / "blend")
    with torch.no_grad():
        assert torch.equal(Bridge.from_pretrained(tmp_path / "blend")(X), blended(X))


def test_fine_tune_trains_only_what_is_not_frozen():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y = np.tanh(x[:, :3] * 2).astype(np.float32)
    base = make(1)
    train(base, (x, y), "regression", max_epochs=20, progress=False)
    ext = extend(base, [8, 3])
    before = {k: v.clone() for k, v in ext.state_dict().items()}
    result = fine_tune(ext, (x, y), freeze=["base."], max_epochs=30, progress=False)
    after = result.process.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("base."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("head."))
    assert result.process.card["training"]["freeze"] == sorted(k for k, _ in ext.named_parameters() if k.startswith("base."))
    assert all(torch.equal(before[k], v) for k, v in ext.state_dict().items())  # the original is untouched


def test_weighted_mix_sets_each_dataset_share():
    big = pairs(np.zeros((300, 4)), np.zeros((300, 2)))
    small = pairs(np.ones((20, 4)), np.ones((20, 2)))
    mixed = mix([(big, 1.0), (small, 3.0)])
    share_small = mixed.weights[300:].sum() / mixed.weights.sum()
    assert share_small == pytest.approx(0.75)
    draws = torch.multinomial(torch.as_tensor(mixed.weights), 4000, replacement=True, generator=torch.Generator().manual_seed(0))
    assert abs(float((draws >= 300).float().mean()) - 0.75) < 0.03
    with pytest.raises(ConfigError, match="same feature sizes"):
        mix([(big, 1), (pairs(np.ones((5, 3)), np.ones((5, 2))), 1)])
    result = train(MLPBridge(4, 2), mixed, "regression", max_epochs=3, progress=False)
    assert result.extra["n_train"] + result.extra["n_val"] == 320
