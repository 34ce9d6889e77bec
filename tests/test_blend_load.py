"""The one loader (``xmedia.blend.load_process``) behind --timbre/--style/--model, blends that save and load, and
corpus specs that are text, not paths."""
import numpy as np
import pytest

from xmedia.errors import ConfigError, WeightsError

torch = pytest.importorskip("torch")

from xmedia.adapters.style.network import StyleMix, StyleNet, apply_network  # noqa: E402
from xmedia.adapters.style.stylise import load_style, mix_styles  # noqa: E402
from xmedia.adapters.text.corpus import as_corpus, looks_like_path, parse_mix  # noqa: E402
from xmedia.adapters.text.markov import MarkovText  # noqa: E402
from xmedia.adapters.text.poem import load_text_model  # noqa: E402
from xmedia.adapters.timbre.blend import load_timbre  # noqa: E402
from xmedia.blend import build_process, family_names, load_process, process_spec  # noqa: E402
from xmedia.process import Process  # noqa: E402

RGB = np.random.default_rng(0).integers(0, 256, (36, 52, 3), dtype=np.uint8)


# -- one loader -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("load, name, family, others", [
    (load_timbre, "violn", {"flute", "violin"}, {"starry", "av-perceptual"}),
    (load_style, "stary", {"starry", "wave"}, {"violin", "shakespeare-gru"}),
    (load_text_model, "shakespear", {"shakespeare-gru", "shakespeare-markov"}, {"starry", "violin"}),
])
def test_an_unknown_name_lists_only_its_family(load, name, family, others):
    with pytest.raises(WeightsError, match="neither a saved") as err:
        load(name)
    message = str(err.value)
    assert all(n in message for n in family) and not any(n in message for n in others), message


def test_a_process_of_another_family_is_named_as_such():
    with pytest.raises(WeightsError, match=r"holds a StyleNet, not a timbre; timbres in the zoo: flute, violin"):
        load_timbre("starry")
    with pytest.raises(WeightsError, match="not a style"):
        load_style("violin")
    with pytest.raises(ConfigError, match="not a text model"):
        load_process(StyleNet(), MarkovText, "text model")
    assert family_names(StyleNet) == ["starry", "wave"]


@pytest.mark.parametrize("load", [load_timbre, load_style, load_text_model])
@pytest.mark.parametrize("weights", ["-1,{b}:2", "nan,{b}:1", "inf", "1,{b}:-inf"])
def test_bad_blend_weights_say_so_in_every_family(load, weights):
    a, b = {load_timbre: ("violin", "flute"), load_style: ("starry", "wave"),
            load_text_model: ("shakespeare-markov", "shakespeare-gru")}[load]
    with pytest.raises(ConfigError, match="weights must be >= 0 and finite"):
        load(f"{a}:" + weights.format(b=b))


# -- blends save and load -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["weights", "outputs"])
def test_style_blends_save_and_load(tmp_path, mode):
    torch.manual_seed(0)
    nets = [StyleNet(channels=[8, 8, 8], blocks=1) for _ in range(3)]
    mixed = mix_styles(nets, [0.5, 0.3, 0.2], mode)
    assert isinstance(mixed, StyleMix if mode == "outputs" else StyleNet)
    mixed.save_pretrained(tmp_path / "mix")
    back = load_style(tmp_path / "mix")
    assert type(back) is type(mixed) and back.config == mixed.config
    assert np.array_equal(apply_network(back, RGB), apply_network(mixed, RGB))
    if mode == "outputs":  # a mix of a mix takes its members in, weights multiplied
        again = mix_styles([back, nets[0]], [0.5, 0.5], "outputs")
        assert len(again.nets) == 4 and np.isclose(float(again.weights.sum()), 1.0)


def test_shipped_style_blend_by_name_saves_and_loads(tmp_path):
    for mode in ("auto", "outputs"):
        mixed = load_style("starry:0.6,wave:0.4", mode)
        mixed.save_pretrained(tmp_path / mode)
        assert np.array_equal(apply_network(load_style(tmp_path / mode), RGB), apply_network(mixed, RGB))
    with pytest.raises(ConfigError, match="weights must be >= 0 and finite"):
        StyleMix([process_spec(StyleNet())], [float("nan")])


def test_timbre_blend_saves_and_loads(tmp_path):
    frames = np.stack([np.linspace(300, 600, 40), np.full(40, -25.0)], 1)
    mixed = load_timbre("violin:0.7,flute:0.3")
    mixed.save_pretrained(tmp_path / "vf")
    back = load_timbre(tmp_path / "vf")
    assert np.array_equal(back.synthesize(frames), mixed.synthesize(frames))
    assert np.array_equal(load_timbre("violin:1,flute:0").synthesize(frames), load_timbre("violin").synthesize(frames))


def test_specs_rebuild_their_process_and_check_the_family():
    net = StyleNet(channels=[8, 8, 8], blocks=1)
    spec = process_spec(net)
    assert spec["module"] == "xmedia.adapters.style.network"
    assert isinstance(build_process(spec, StyleNet), StyleNet)
    with pytest.raises(ConfigError, match="not a MarkovText"):
        build_process(spec, MarkovText)
    with pytest.raises(ConfigError, match="unknown process class"):
        build_process({"class": "NoSuchThing", "config": {}})
    assert isinstance(Process.blend(net, StyleNet(channels=[8, 8, 16], blocks=1), 0.5), StyleMix)


# -- corpora: text or paths -----------------------------------------------------------------------------------
def test_one_long_line_of_text_is_text_not_an_os_error():
    line = "the quick brown fox jumps over the lazy dog " * 8  # 352 characters, no newline
    model = MarkovText.from_corpus(line, order=2, val_fraction=0.0)
    assert model.generate("the", 20, seed=0)
    for text in (line, "a/" + "b" * 300, "x" * 5000):
        assert looks_like_path(text) is False
        assert as_corpus(text, 0.0).train == text


def test_corpus_specs_use_the_one_parser(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one two three\n" * 5)
    b.write_text("four five six\n" * 5)
    assert looks_like_path(f"{a}:0.5,{b}") and looks_like_path("corpus.txt:nan")
    assert [w for _, w in parse_mix(f"{a}:3,{b}:1")] == [0.75, 0.25]
    assert [p for p, _ in parse_mix(f"{a}:1,{b}:0")] == [a]  # a zero weight leaves that corpus out
    for bad in ("nan", "-1", "inf"):
        with pytest.raises(ConfigError, match="weights must be >= 0 and finite"):
            parse_mix(f"{a}:{bad}")
        with pytest.raises(ConfigError, match="weights must be >= 0 and finite"):
            MarkovText.from_corpus(f"{a}:{bad}")
    with pytest.raises(ConfigError, match="must not all be zero"):
        parse_mix(f"{a}:0,{b}:0")
