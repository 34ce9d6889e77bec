"""Filter / LUT machinery: .cube and Hald IO to spec, interpolation, dtypes, strength, blend, ffmpeg agreement."""
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia import Image, MediaError
from xmedia.adapters.look import (
    LOOK_PARAMS,
    Filter,
    FilterTrack,
    Look,
    apply_table,
    identity_table,
    look_table,
)
from xmedia.adapters.look.formats import format_cube, parse_cube, read_hald, write_hald
from xmedia.errors import ConfigError
from xmedia.io import load

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed (apt-get install ffmpeg): "
                                  "the cross-check against ffmpeg's lut3d/haldclut cannot run")


def random_table(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, n, n, 3)).astype(np.float32)


def photo(media, side=None):
    img = load(media("image", "fruits.jpg"))
    if side:
        import cv2

        img = Image(cv2.resize(img.pixels, (side, side * img.height // img.width), interpolation=cv2.INTER_AREA))
    return img


# ------------------------------------------------------------------------------------------------ .cube
def test_cube_red_index_changes_fastest():
    # A hand-written 2^3 cube whose rows encode their own (r, g, b) grid position.
    rows = [f"{(k % 2) * 0.5:.1f} {((k // 2) % 2) * 0.25:.2f} {(k // 4) * 0.125:.3f}" for k in range(8)]
    f = parse_cube('TITLE "order"\nLUT_3D_SIZE 2\n' + "\n".join(rows) + "\n")
    assert f.title == "order"
    for r in range(2):
        for g in range(2):
            for b in range(2):
                assert np.allclose(f.table[r, g, b], [0.5 * r, 0.25 * g, 0.125 * b])
    assert format_cube(f).strip().splitlines()[-8:] == [
        " ".join(f"{float(v):.6f}" for v in row.split()) for row in rows]


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 9), seed=st.integers(0, 10_000), lo=st.floats(-0.5, 0.2), span=st.floats(0.5, 4.0))
def test_cube_round_trip(tmp_path_factory, n, seed, lo, span):
    f = Filter(random_table(n, seed), title="round trip", domain_min=(lo, lo, lo + 0.1),
               domain_max=(lo + span, lo + span, lo + span))
    path = tmp_path_factory.mktemp("cube") / "x.cube"
    f.save(path)
    g = Filter.load(path)
    assert g.size == n and g.title == "round trip"
    assert np.allclose(g.domain_min, f.domain_min, atol=1e-6) and np.allclose(g.domain_max, f.domain_max, atol=1e-6)
    assert np.abs(g.table - f.table).max() <= 1e-6  # 6 decimals, as Resolve writes them


def test_cube_keeps_spatial_parameters_and_sizes(tmp_path):
    f = Filter.from_look({"saturation_percent": 30, "grain_percent": 2, "vignette_stops": 0.5}, 17)
    f.save(tmp_path / "a.cube", size=65)
    g = Filter.load(tmp_path / "a.cube")
    assert g.size == 65 and g.grain_percent == pytest.approx(2) and g.vignette_stops == pytest.approx(0.5)
    lines = (tmp_path / "a.cube").read_text().splitlines()
    assert "LUT_3D_SIZE 65" in lines and len([ln for ln in lines if ln and ln[0] in "-0123456789"]) == 65**3
    assert not any(ln.startswith("-0.000000") for ln in lines)
    with pytest.raises(ConfigError):
        f.save(tmp_path / "b.cube", size=20)


@pytest.mark.parametrize("text, line, words", [
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7, 1, "found 7"),
    ("# c\nLUT_3D_SIZE 300\n", 2, "out of range"),
    ("LUT_3D_SIZE 1\n0 0 0\n", 1, "out of range"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "0 zero 0\n" + "0 0 0\n" * 4, 5, "not 3 numbers"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 5 + "0 0\n" + "0 0 0\n" * 2, 7, "expected 3 numbers"),
    ("LUT_3D_SIZE 2\n\nLUT_1D_SIZE 4\n", 3, "not both"),
    ("LUT_1D_SIZE 4\nLUT_3D_SIZE 2\n", 2, "not both"),
    ("LUT_3D_SIZE 2\n0 0 0\nDOMAIN_MIN 0 0 0\n", 3, "after the table data"),
    ("TITLE no quotes\nLUT_3D_SIZE 2\n", 1, "double quotes"),
    ("LUT_3D_SIZE two\n", 1, "integer"),
    ("LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 nan\n", 2, "NaN"),
    ("LUT_3D_SIZE 2\nFOO 1\n", 2, "unknown keyword"),
])
def test_malformed_cube_names_the_line(text, line, words):
    with pytest.raises(MediaError) as err:
        parse_cube(text, "bad.cube")
    msg = str(err.value)
    assert words in msg
    if "found 7" not in words:
        assert f"line {line}" in msg
    else:
        assert "declared on line 1" in msg and "line 2 to line 8" in msg


def test_cube_without_size_and_bad_domain():
    with pytest.raises(MediaError, match="no LUT_3D_SIZE"):
        parse_cube("0 0 0\n")
    with pytest.raises(MediaError, match="DOMAIN_MIN"):
        parse_cube("LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 1 1\n" + "0 0 0\n" * 8)


def test_1d_cube_bakes_into_a_3d_curve():
    f = parse_cube("LUT_1D_SIZE 3\n0 0 1\n0.25 0.5 0.5\n1 1 0\n")
    x = np.array([[[0.5, 0.25, 0.75]]], np.float32)
    out = f.apply_rgb(x, "trilinear")[0, 0]
    assert np.allclose(out, [0.25, 0.25, 0.25], atol=1e-6)  # r: curve, g: linear, b: inverted


# ------------------------------------------------------------------------------------------------ Hald
@pytest.mark.parametrize("bits", [8, 16])
def test_hald_round_trip(tmp_path, bits):
    f = Filter(look_table({"saturation_percent": 40, "yellow_blue_lab": 6}, 16))
    write_hald(f, tmp_path / "h.png", bit_depth=bits)
    img = load(tmp_path / "h.png", kind="image")  # xmedia's tag makes a plain load() give the Filter back
    assert (img.width, img.height) == (64, 64) and img.pixels.dtype == (np.uint8 if bits == 8 else np.uint16)
    g = read_hald(tmp_path / "h.png")
    assert g.size == 16
    assert np.abs(g.table - f.table).max() <= 0.51 / (255 if bits == 8 else 65535) + 1e-7


def test_looks_round_trip_through_xmedia_load(tmp_path):
    f = Filter.from_look({"saturation_percent": 30, "yellow_blue_lab": -6, "grain_percent": 2}, 17, title="rt")
    f.save(tmp_path / "a.cube")
    g = xmedia.load(tmp_path / "a.cube")
    assert isinstance(g, Filter) and g.size == 17 and g.title == "rt" and g.grain_percent == pytest.approx(2)
    assert np.abs(g.table - f.table).max() <= 1e-6
    colour = Filter(look_table({"saturation_percent": 30, "yellow_blue_lab": -6}, 16))
    colour.save(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[33:41] == b"\x00\x00\x00\x12tEXt"  # the tag, right after IHDR
    h = xmedia.load(tmp_path / "h.png")
    assert isinstance(h, Filter) and h.size == 16 and np.abs(h.table - colour.table).max() <= 0.51 / 65535 + 1e-7
    with pytest.raises(MediaError, match="cannot write a Filter as '.json'"):
        f.save(tmp_path / "a.json")


def test_look_track_round_trips_as_json(tmp_path):
    names = tuple(LOOK_PARAMS)
    rows = np.random.default_rng(0).uniform(-0.5, 0.5, (40, len(names))).astype(np.float32)
    look = Look({n: float(rows[:, i].mean()) for i, n in enumerate(names)}, track=rows, rate_hz=Fraction(100),
                start_s=Fraction(1, 2))
    track = FilterTrack(look, lut_size=33, strength=0.8, grain_seed=3)
    track.save(tmp_path / "t.json")
    assert (tmp_path / "t.json").read_text().startswith('{"kind": "look-track"')
    back = xmedia.load(tmp_path / "t.json")
    assert isinstance(back, FilterTrack)
    assert (back.lut_size, back.strength, back.grain_seed) == (33, 0.8, 3)
    assert back.look.rate_hz == 100 and back.look.start_s == Fraction(1, 2) and back.look.param_names == names
    assert np.abs(back.look.track - rows).max() <= 5e-6 and back.look.params == pytest.approx(look.params)
    track.save(tmp_path / "t.cube")  # the pooled look, as a static LUT
    pooled = xmedia.load(tmp_path / "t.cube")
    assert isinstance(pooled, Filter) and np.abs(pooled.table - track.pooled().effective_table()).max() <= 1e-6


def test_plain_pngs_stay_images_and_untagged_halds_load_by_kind(tmp_path):
    import cv2

    Image(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    assert isinstance(xmedia.load(tmp_path / "grey.png"), Image)
    hald = (identity_table(16).transpose(2, 1, 0, 3).reshape(64, 64, 3) * 255).round().astype(np.uint8)
    cv2.imwrite(str(tmp_path / "other_tool.png"), cv2.cvtColor(hald, cv2.COLOR_RGB2BGR))  # no xmedia tag
    assert isinstance(xmedia.load(tmp_path / "other_tool.png"), Image)
    for f in (Filter.load(tmp_path / "other_tool.png"), xmedia.load(tmp_path / "other_tool.png", kind="filter")):
        assert f.size == 16 and np.abs(f.table - identity_table(16)).max() <= 0.5 / 255 + 1e-7


def test_hald_rejects_non_hald_images(media):
    with pytest.raises(MediaError, match="Hald CLUT"):
        read_hald(media("image", "fruits.jpg"))


@needs_ffmpeg
def test_ffmpeg_identity_hald_reads_as_identity(tmp_path):
    out = tmp_path / "ident.png"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "haldclutsrc=8", "-frames:v", "1", "-y", str(out)],
                   check=True)
    f = Filter.load(out)
    assert f.size == 64
    assert np.abs(f.table - identity_table(64)).max() <= 1 / 255


# ------------------------------------------------------------------------------------------------ applying
@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 12), seed=st.integers(0, 10_000), interp=st.sampled_from(["tetrahedral", "trilinear"]))
def test_interpolation_is_exact_on_affine_luts(n, seed, interp):
    # Both schemes reproduce any affine colour transform exactly, at every point, not only the nodes.
    rng = np.random.default_rng(seed)
    m, c = rng.uniform(-1, 1, (3, 3)), rng.uniform(-0.5, 0.5, 3)
    table = (identity_table(n).reshape(-1, 3) @ m.T + c).reshape(n, n, n, 3).astype(np.float32)
    x = rng.uniform(0, 1, (50, 40, 3)).astype(np.float32)
    assert np.abs(apply_table(x, table, interp) - (x @ m.T + c)).max() < 2e-5


def _tetra_reference(table, p):
    """Direct, per-point tetrahedral interpolation (the textbook six-tetrahedra form)."""
    n = table.shape[0]
    x = np.clip(p, 0, 1) * (n - 1)
    i = np.minimum(np.floor(x).astype(int), n - 2)
    f = x - i
    order = np.argsort(-f, kind="stable")
    corner = i.copy()
    out = table[tuple(corner)] * (1 - f[order[0]])
    weights = [f[order[0]] - f[order[1]], f[order[1]] - f[order[2]], f[order[2]]]
    for k in range(3):
        corner[order[k]] += 1
        out = out + table[tuple(corner)] * weights[k]
    return out


@settings(max_examples=10, deadline=None)
@given(n=st.integers(2, 10), seed=st.integers(0, 10_000))
def test_tetrahedral_and_trilinear_match_references(n, seed):
    from scipy.interpolate import RegularGridInterpolator

    table = random_table(n, seed)
    pts = np.random.default_rng(seed + 1).uniform(0, 1, (200, 3)).astype(np.float32)
    pts[:5] = [[0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 1], [0.3, 0.3, 0.9]]  # corners and ties
    ref = np.stack([_tetra_reference(table, p) for p in pts])
    assert np.abs(apply_table(pts[None], table, "tetrahedral")[0] - ref).max() < 1e-5
    grid = np.linspace(0, 1, n)
    tri = RegularGridInterpolator((grid, grid, grid), table)(pts)
    assert np.abs(apply_table(pts[None], table, "trilinear")[0] - tri).max() < 1e-5


def test_dtypes_alpha_and_identity(media):
    img = photo(media, 200)
    f = Filter(look_table({"saturation_percent": 50, "exposure_stops": 0.3}, 33))
    rgba = np.dstack([img.pixels, np.arange(img.width * img.height, dtype=np.uint8).reshape(img.height, img.width)])
    out8 = f(Image(rgba)).pixels
    assert out8.dtype == np.uint8 and out8.shape[2] == 4 and np.array_equal(out8[:, :, 3], rgba[:, :, 3])
    out16 = f(Image(img.pixels.astype(np.uint16) * 257)).pixels
    outf = f(Image(img.to_float())).pixels
    assert out16.dtype == np.uint16 and outf.dtype == np.float32
    # The integer paths are the float path, rounded.
    assert np.abs(out8[:, :, :3] / 255.0 - outf).max() <= 0.5 / 255 + 1e-5
    assert np.abs(out16 / 65535.0 - outf).max() <= 0.5 / 65535 + 1e-5
    assert np.array_equal(Filter.identity(17)(img).pixels, img.pixels)
    assert not np.array_equal(out8[:, :, :3], img.pixels)


def test_strength_and_blend(media):
    img = photo(media, 160)
    f = Filter(look_table({"yellow_blue_lab": 10, "contrast_percent": 40}, 33))
    g = Filter(look_table({"yellow_blue_lab": -10, "saturation_percent": -50}, 17))
    assert np.array_equal(f.with_strength(0)(img).pixels, img.pixels)
    x = img.to_float()
    half = f.with_strength(0.5)(Image(x)).pixels
    assert np.abs(half - 0.5 * (x + f(Image(x)).pixels)).max() < 1e-5
    assert np.abs(f.blend(g, 0.0).table - f.table).max() < 1e-6
    assert np.abs(f.blend(g, 1.0)(Image(x)).pixels - g(Image(x)).pixels).max() < 1.5e-3  # g resampled 17 -> 33
    mid = f.blend(g, 0.5)(Image(x)).pixels
    assert np.abs(mid - 0.5 * (f(Image(x)).pixels + g(Image(x)).pixels)).max() < 1e-3
    with pytest.raises(ConfigError):
        f.blend(g, 1.5)
    with pytest.raises(ConfigError):
        f.with_strength(-1)


def test_bad_filters_are_refused():
    with pytest.raises(MediaError):
        Filter(np.full((3, 3, 3, 3), np.nan, np.float32))
    with pytest.raises(MediaError):
        Filter(np.zeros((3, 3, 4, 3), np.float32))
    with pytest.raises(ConfigError):
        Filter.identity(5).apply_rgb(np.zeros((4, 4, 3), np.uint8), interpolation="cubic")
    with pytest.raises(MediaError):
        Filter.load("/nonexistent/look.cube")


def test_spatial_parameters_do_what_they_say(media):
    img = photo(media, 320)
    x = img.to_float()
    vig = Filter.identity(17, vignette_stops=1.0)(Image(x)).pixels
    h, w = x.shape[:2]
    assert np.allclose(vig[h // 2, w // 2], x[h // 2, w // 2], atol=0.01)
    assert vig[:10, :10].mean() < 0.6 * x[:10, :10].mean()  # about a stop darker in the corner
    flat = np.full((200, 200, 3), 0.5, np.float32)
    grain = Filter.identity(17, grain_percent=3.0, grain_size_px=0.0)(Image(flat)).pixels
    assert grain.std() == pytest.approx(0.03, rel=0.1)
    sharp = Filter.identity(17, sharpen_percent=80)(Image(x)).pixels
    blur = Filter.identity(17, blur_sigma_px=1.5)(Image(x)).pixels
    grad = lambda a: np.abs(np.diff(a, axis=1)).mean()  # noqa: E731
    assert grad(blur) < grad(x) < grad(sharp)


def test_video_frames_lazily_and_audio_kept(media):
    video = load(media("video", "phone_portrait.mp4"))
    f = Filter(look_table({"saturation_percent": -60}, 17))
    out = f(video)
    assert out.audio is video.audio and out.num_frames == video.num_frames and out.frames is None
    src = [fr.rgb for fr in video.iter_frames(max_side=96, start=100, stop=103)]
    got = [fr.rgb for fr in out.iter_frames(max_side=96, start=100, stop=103)]
    for a, b in zip(src, got):
        assert np.array_equal(f.apply_rgb(a), b)
        assert b.astype(float).std(axis=2).mean() < a.astype(float).std(axis=2).mean()  # less saturated


# ------------------------------------------------------------------------------------------------ ffmpeg
@needs_ffmpeg
@pytest.mark.parametrize("interp", ["tetrahedral", "trilinear"])
@pytest.mark.parametrize("domain", [False, True])
def test_ffmpeg_lut3d_gives_our_pixels(media, tmp_path, interp, domain):
    img = photo(media)
    rgb = img.rgb_uint8()
    # ffmpeg's lut3d (libavfilter/vf_lut3d.c, parse_cube) honours only the domain's span, clipped to <= 1:
    # it ignores a non-zero DOMAIN_MIN. So the shared check uses DOMAIN_MIN 0 with a DOMAIN_MAX above 1.
    kw = dict(domain_min=(0.0, 0.0, 0.0), domain_max=(1.25, 1.0, 1.5)) if domain else {}
    table = look_table({"exposure_stops": 0.4, "saturation_percent": 45, "yellow_blue_lab": 8,
                        "contrast_percent": 30}, 33)
    if domain:
        table = identity_table(33, kw["domain_min"], kw["domain_max"]).clip(0, 1) ** 1.3
    f = Filter(table, title="ffmpeg check", **kw)
    f.save(tmp_path / "look.cube")
    run = subprocess.run([FFMPEG, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{img.width}x{img.height}",
                          "-i", "-", "-vf", f"lut3d=file={tmp_path / 'look.cube'}:interp={interp}", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], input=rgb.tobytes(), capture_output=True, check=True)
    theirs = np.frombuffer(run.stdout, np.uint8).reshape(rgb.shape)
    ours = f(img, interpolation=interp).pixels
    assert np.abs(theirs.astype(int) - ours.astype(int)).max() <= 2
    assert np.abs(ours.astype(int) - rgb.astype(int)).max() > 20  # the look really changes the photo


@needs_ffmpeg
def test_ffmpeg_haldclut_reads_our_hald(media, tmp_path):
    img = photo(media, 320)
    f = Filter(look_table({"saturation_percent": -40, "yellow_blue_lab": -8}, 64))
    f.save(tmp_path / "h.png")
    rgb = img.rgb_uint8()
    run = subprocess.run([FFMPEG, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{img.width}x{img.height}",
                          "-i", "-", "-i", str(tmp_path / "h.png"), "-filter_complex", "[0][1]haldclut",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], input=rgb.tobytes(), capture_output=True, check=True)
    theirs = np.frombuffer(run.stdout, np.uint8).reshape(rgb.shape)
    assert np.abs(theirs.astype(int) - f(img).pixels.astype(int)).max() <= 2


def test_domain_min_and_max_follow_the_spec():
    # An identity on the domain [-0.5, 2] is an identity on [0, 1]; a LUT over [-0.5, 2] sees 0 at 20% of its grid.
    f = Filter.identity(11, domain_min=(-0.5, -0.5, -0.5), domain_max=(2, 2, 2))
    x = np.random.default_rng(0).uniform(0, 1, (20, 20, 3)).astype(np.float32)
    assert np.abs(f(Image(x)).pixels - x).max() < 1e-5
    step = Filter(np.where(identity_table(11)[..., :1] >= 0.2, 1.0, 0.0).repeat(3, axis=3).astype(np.float32),
                  domain_min=(-0.5, -0.5, -0.5), domain_max=(2, 2, 2))
    assert step.apply_rgb(np.array([[[0.0, 0.0, 0.0]]], np.float32))[0, 0, 0] == pytest.approx(1.0)
    assert step.apply_rgb(np.array([[[-0.1, 0.0, 0.0]]], np.float32))[0, 0, 0] < 1.0
