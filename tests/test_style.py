"""Style transfer on photos: the shipped fast models, Gatys optimisation, blends, training, bad input, CLI."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.cli import main
from xmedia.errors import ConfigError, MediaError, RouteError
from xmedia.media import Image

torch = pytest.importorskip("torch")

from conftest import corpus_path as corpus

from xmedia.adapters.style.data import read_picture, style_images  # noqa: E402
from xmedia.adapters.style.measure import edge_f_score, ssim, style_distance  # noqa: E402
from xmedia.adapters.style.network import StyleNet, apply_network  # noqa: E402
from xmedia.adapters.style.optimise import optimise  # noqa: E402
from xmedia.adapters.style.stylise import load_style, mix_styles, parse_blend  # noqa: E402
from xmedia.process import Process  # noqa: E402


@pytest.fixture(scope="module")
def shipped():
    try:
        return {n: load_style(n) for n in ("starry", "wave")}
    except Exception as exc:  # the zoo entries are built by python -m xmedia.zoo.build style
        pytest.skip(f"shipped styles missing: {exc}")


@pytest.fixture(scope="module")
def paintings():
    return {n: style_images(corpus("style", p))[0] for n, p in
            (("starry", "jcjohnson_starry_night.jpg"), ("wave", "lengstrom_wave.jpg"))}


def test_shipped_style_moves_a_held_out_photo_toward_its_painting(shipped, paintings, media):
    photo = read_picture(media("image", "fruits.jpg"), 256, "photo")  # held out of training
    for name, other in (("starry", "wave"), ("wave", "starry")):
        out = apply_network(shipped[name], photo)
        assert out.shape == photo.shape and out.dtype == np.uint8
        d_out, d_photo = style_distance(out, paintings[name]), style_distance(photo, paintings[name])
        d_wrong = style_distance(apply_network(shipped[other], photo), paintings[name])
        assert d_out < 0.8 * d_photo, (name, d_out, d_photo)  # independent features, not the training net's
        assert d_out < d_wrong, (name, d_out, d_wrong)  # and toward THIS painting, not just "painterly"
        assert edge_f_score(out, photo) > 0.2  # the photo's layout is still there


def test_strength_zero_is_the_photo_and_one_the_style(shipped, media):
    photo = xmedia.load(media("image", "orange.jpg"))
    small = Image(read_picture(photo, 128))
    assert np.array_equal(xmedia.translate(small, to="image", style="starry", strength=0.0).rgb_uint8(),
                          small.rgb_uint8())
    full = xmedia.translate(small, to="image", style="starry").rgb_uint8()
    half = xmedia.translate(small, to="image", style="starry", strength=0.5).rgb_uint8().astype(int)
    expect = (small.rgb_uint8().astype(int) + full.astype(int)) / 2
    assert np.abs(half - expect).max() <= 1


def test_gatys_optimisation_few_steps_moves_toward_the_style(paintings, media):
    photo = read_picture(media("image", "building.jpg"), 96, "photo")
    out = optimise(photo, [paintings["wave"]], steps=25, size_px=96)
    assert out.shape == photo.shape
    assert style_distance(out, paintings["wave"]) < style_distance(photo, paintings["wave"])
    assert np.isfinite(out).all() and ssim(out, photo) > 0.05


@settings(max_examples=6, deadline=None)
@given(t=st.floats(0.0, 1.0), seed=st.integers(0, 10))
def test_blend_is_exact_at_the_ends_and_continuous(t, seed):
    torch.manual_seed(seed)
    a, b = StyleNet(), StyleNet()
    rgb = np.random.default_rng(seed).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    for mode in ("weights", "outputs"):
        assert np.array_equal(apply_network(mix_styles([a, b], [1.0, 0.0], mode), rgb), apply_network(a, rgb))
        assert np.array_equal(apply_network(mix_styles([a, b], [0.0, 1.0], mode), rgb), apply_network(b, rgb))
        near = apply_network(mix_styles([a, b], [1 - t, t], mode), rgb).astype(int)
        nearer = apply_network(mix_styles([a, b], [1 - min(1.0, t + 1e-4), min(1.0, t + 1e-4)], mode), rgb)
        assert np.abs(near - nearer.astype(int)).max() <= 2
    at0, at1 = Process.blend(a, b, 0.0), Process.blend(a, b, 1.0)
    assert all(torch.equal(x, y) for x, y in zip(at0.state_dict().values(), a.state_dict().values()))
    assert all(torch.equal(x, y) for x, y in zip(at1.state_dict().values(), b.state_dict().values()))


def test_blend_spec_parsing_and_errors():
    assert parse_blend("starry/:0.6, wave:0.4") == [("starry", 0.6), ("wave", 0.4)]
    assert parse_blend("my_styles/van gogh") == [("my_styles/van gogh", 1.0)]
    with pytest.raises(ConfigError, match="weights must not all be zero"):
        parse_blend("a:0,b:0")
    with pytest.raises(ConfigError, match="names no style"):
        parse_blend(" , ")


def test_save_load_round_trip_keeps_the_outputs(tmp_path):
    torch.manual_seed(3)
    net = StyleNet(channels=[8, 16, 24], blocks=2)
    net.card = {"title": "style: test"}
    net.save_pretrained(tmp_path / "s")
    back = xmedia.load(tmp_path / "s")
    rgb = np.random.default_rng(0).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    assert isinstance(back, StyleNet) and back.config == net.config
    assert np.array_equal(apply_network(back, rgb), apply_network(net, rgb))
    assert xmedia.translate(Image(rgb), to="image", style=str(tmp_path / "s")).width == 47


def test_train_cli_on_photos_and_a_film_clip_as_style(tmp_path, media, capsys):
    photos = [str(media("image", n)) for n in ("orange.jpg", "home.jpg")]
    out = tmp_path / "mystyle"
    assert main(["train", "style", "--style-image", str(corpus("style", "lengstrom_udnie.jpg")), "--data", *photos,
                 "--max-steps", "3", "--size-px", "64", "--batch-size", "1", "-o", str(out)]) == 0
    assert (out / "loss.png").stat().st_size > 1000 and isinstance(load_style(out), StyleNet)
    frames = style_images(media("video", "tree.avi"), max_side=128, max_frames=3)  # a film clip as the style
    assert len(frames) == 3 and all(f.shape[2] == 3 for f in frames)
    net = StyleNet(channels=(8, 8, 8), blocks=1)
    result = net.fit([read_picture(p, 96) for p in photos], style=frames, max_steps=2, size_px=64,
                     batch_size=1)
    assert result.extra["style_pictures"] >= 2 and np.isfinite(result.train_losses).all()
    assert result.process is net and result.extra["held_out"] == ["picture 0"]


# ------------------------------------------------------------------------------------------- bad input
def _save(tmp_path, name, arr, mode=None):
    from PIL import Image as PILImage

    path = tmp_path / name
    PILImage.fromarray(arr, mode=mode).save(path)
    return path


def test_flat_and_tiny_style_images_are_refused_clearly(tmp_path, media):
    photo = Image(read_picture(media("image", "orange.jpg"), 64))
    flat = _save(tmp_path, "flat.png", np.full((64, 64, 3), 120, np.uint8))
    with pytest.raises(MediaError, match="one flat colour"):
        xmedia.translate(photo, to="image", style_image=str(flat), optimise_steps=1)
    tiny = _save(tmp_path, "tiny.png", np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8))
    with pytest.raises(MediaError, match="8x8"):
        style_images(tiny)


def test_huge_grayscale_style_image_is_decoded_small(tmp_path):
    from PIL import Image as PILImage

    path = tmp_path / "huge.jpg"
    PILImage.radial_gradient("L").resize((10000, 10000)).save(path, quality=30)  # grayscale, 100 megapixels
    with pytest.warns(UserWarning, match="10000x10000"):
        pics = style_images(path, max_side=256)
    assert pics[0].shape == (256, 256, 3) and pics[0].std() > 5


def test_alpha_and_grayscale_inputs_give_correct_results(tmp_path, shipped, media):
    rng = np.random.default_rng(1)
    rgba = np.dstack([rng.integers(0, 256, (80, 80, 3), dtype=np.uint8), np.full((80, 80), 255, np.uint8)])
    rgba[:40, :, 3] = 0  # the transparent half is composited over white, not read as black
    pic = style_images(_save(tmp_path, "alpha.png", rgba))[0]
    assert pic.shape == (80, 80, 3) and (pic[:40] == 255).all() and pic[40:].std() > 30
    grey = style_images(_save(tmp_path, "grey.png", rng.integers(0, 256, (80, 80), dtype=np.uint8)))[0]
    assert grey.shape == (80, 80, 3) and np.array_equal(grey[..., 0], grey[..., 2])
    photo = xmedia.load(media("image", "orange.jpg"))
    content = np.dstack([read_picture(photo, 64), np.full((read_picture(photo, 64).shape[:2]), 77, np.uint8)])
    out = xmedia.translate(Image(content), to="image", style="wave")
    assert out.has_alpha and (out.pixels[..., 3] == 77).all()
    tiny = xmedia.translate(Image(content[:8, :8, 0]), to="image", style="wave")  # 8x8 grayscale content
    assert (tiny.height, tiny.width) == (8, 8) and np.isfinite(tiny.to_float()).all()


def test_huge_content_is_downscaled_with_a_message(shipped):
    big = Image(np.random.default_rng(0).integers(0, 256, (700, 300, 3), dtype=np.uint8))
    with pytest.warns(UserWarning, match="700"):
        out = xmedia.translate(big, to="image", style="starry", max_side_px=350)
    assert (out.height, out.width) == (350, 150)


def test_a_style_step_needs_a_style_and_the_route_is_one_step():
    photo = Image(np.zeros((16, 16, 3), np.uint8))
    assert str(xmedia.plan(photo, "image")) == "image -> [style-image] image"
    with pytest.raises(ConfigError, match="needs style="):
        xmedia.translate(photo, to="image")
    with pytest.raises(ConfigError, match="not both"):
        xmedia.translate(photo, to="image", style="starry", style_image="x.jpg")
    with pytest.raises(ConfigError, match="strength"):
        xmedia.translate(photo, to="image", style="starry", strength=float("nan"))
    with pytest.raises(RouteError):
        xmedia.translate(photo, to="image", style="starry", tempo=120)


def test_cli_photo_blend_strength_and_report(tmp_path, shipped, media, capsys):
    photo = tmp_path / "photo.jpg"
    Image(read_picture(media("image", "butterfly.jpg"), 160)).save(photo)
    out, report = tmp_path / "out.png", tmp_path / "report.png"
    assert main(["translate", str(photo), "--to", "image", "--style", "starry:0.6,wave:0.4", "--strength", "0.8",
                 "-o", str(out), "--report", str(report)]) == 0
    y = xmedia.load(out)
    assert y.width == 160 or y.height == 160
    assert report.stat().st_size > 5000
    assert main(["translate", str(photo), "--to", "image", "--style", "starry", "-o", str(tmp_path / "o.mp3")]) == 2
    assert "a styled image is written as" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing style is a clear error, never a silent pass-through
        assert main(["translate", str(photo), "--to", "image", "--style", "no_such_style", "-o", str(out)]) == 2


def test_clip_features_without_weights_is_a_clear_weights_error(monkeypatch, tmp_path):
    from xmedia.adapters.style.features import feature_network
    from xmedia.errors import WeightsError

    pytest.importorskip("transformers")
    monkeypatch.setenv("XMEDIA_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(WeightsError, match="CLIP"):
        feature_network("clip")
    with pytest.raises(ConfigError, match="unknown feature network"):
        feature_network("vgg19")
