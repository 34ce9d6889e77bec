"""The bad-input campaign of issue 26 (generate, eval, batch, studio, translate, info and the API; not the
trainers) as a table: every case exits 2 with one line naming the problem and no traceback, or exits 0 with a
valid output where the input is fine after all. Cases run in this process (``cli.main``): an exception that is
not one of the project's errors escapes and fails the test with its traceback.
"""
import os
import struct
import subprocess
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import xmedia
from xmedia.errors import ConfigError, MediaError

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
IMAGE = MEDIA / "image" / "home.jpg"
AUDIO = MEDIA / "audio" / "elec_chime.flac"


def _cli(capsys, *args):
    from xmedia import cli

    capsys.readouterr()
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as exc:  # argparse refusing a flag
        rc = exc.code
    out, err = capsys.readouterr()
    return SimpleNamespace(returncode=rc, stdout=out, stderr=err)


def _empty_mp4(path: Path) -> Path:
    """An MP4 whose movie header lists no track at all (a recording that never got a stream)."""
    def box(kind, payload):
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    mvhd = box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, 0) + struct.pack(">IH", 0x10000, 0x100)
               + bytes(10) + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000) + bytes(24)
               + struct.pack(">I", 2))
    path.write_bytes(box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41") + box(b"moov", mvhd))
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    if not IMAGE.exists() or not AUDIO.exists():
        pytest.skip(f"real media not found in {MEDIA} (../shared/media beside the checkout)")
    d = tmp_path_factory.mktemp("campaign")
    (d / "latin.txt").write_bytes("café crème brûlée\nsecond line\n".encode("latin-1"))
    motion = xmedia.load(np.random.default_rng(0).random((60, 2)), kind="motion", rate_hz=30, channels=("a", "b"))
    motion.save(d / "motion.npz")
    motion.save(d / "motion.csv")
    (d / "motion_cut.npz").write_bytes((d / "motion.npz").read_bytes()[:200])
    emb = xmedia.Embedding("perceptual", np.ones(3), track=np.ones((5, 3)), rate_hz=10)
    emb.save(d / "emb.npz")
    (d / "emb_cut.npz").write_bytes((d / "emb.npz").read_bytes()[:150])
    _empty_mp4(d / "nostreams.mp4")
    (d / "afile").write_text("not a folder")
    (d / "outdir").mkdir()
    (d / "data").mkdir()
    (d / "home.jpg").write_bytes(IMAGE.read_bytes())
    for name, line in {"via5": '"via": 5', "lut20": '"lut_size": 20', "poem": '"sound_poem": "yes"',
                       "strength": '"strength": "abc"'}.items():
        (d / f"{name}.jsonl").write_text(f'{{"input": "home.jpg", {line}}}\n')
    return d


# (name, argv with {d} for the inputs folder, exit code, words the message must hold)
CASES = [
    ("info: Latin-1 text", ["info", "{d}/latin.txt"], 2, ["not UTF-8", "iconv"]),
    ("text: Latin-1 text", ["translate", "{d}/latin.txt", "--to", "text", "-o", "{o}/t.txt"], 2, ["not UTF-8"]),
    ("audio: Latin-1 text", ["translate", "{d}/latin.txt", "--to", "audio", "-o", "{o}/t.wav"], 2, ["not UTF-8"]),
    ("info: truncated Motion npz", ["info", "{d}/motion_cut.npz"], 2, ["motion_cut.npz", "not a valid"]),
    ("translate: truncated Motion npz", ["translate", "{d}/motion_cut.npz", "--to", "audio", "-o", "{o}/m.wav"], 2,
     ["not a valid"]),
    ("info: truncated Embedding npz", ["info", "{d}/emb_cut.npz"], 2, ["emb_cut.npz", "not a valid"]),
    ("info: a good Embedding", ["info", "{d}/emb.npz"], 0, ["embedding"]),
    ("generate --seed -1", ["generate", "shakespeare-markov", "--seed", "-1"], 2, ["--seed", ">= 0"]),
    ("generate --length 1e9", ["generate", "shakespeare-markov", "--length", "1000000000", "-o", "{o}/g.txt"], 2,
     ["--length", "text_chars", "XMEDIA_LIMIT_TEXT_CHARS"]),
    ("generate -o DIR", ["generate", "shakespeare-markov", "--length", "5", "-o", "{d}/outdir"], 2,
     [".txt", "generated.txt"]),
    ("generate -o x.wav", ["generate", "shakespeare-markov", "--length", "5", "-o", "{o}/g.wav"], 2, [".txt"]),
    ("generate --lines 0", ["generate", "shakespeare-markov", "--lines", "0"], 2, ["--lines"]),
    ("studio --work-dir FILE", ["studio", "--work-dir", "{d}/afile"], 2, ["--work-dir", "is a file"]),
    ("studio --work-dir unwritable", ["studio", "--work-dir", "/proc/xmedia-studio"], 2, ["cannot write there"]),
    ("translate -o .", ["translate", IMAGE, "--to", "motion", "-o", "{d}/outdir"], 2, ["is a directory"]),
    ("translate -o unwritable", ["translate", IMAGE, "--to", "motion", "-o", "/sys/x.csv"], 2,
     ["cannot write there"]),
    ("container without streams", ["translate", "{d}/nostreams.mp4", "--to", "motion", "-o", "{o}/m.csv"], 2,
     ["no video or audio stream"]),
    ("batch \"via\": 5", ["batch", "{d}/via5.jsonl", "--to", "filter", "-o", "{o}/b"], 2, ['"via"', "5"]),
    ("batch \"lut_size\": 20", ["batch", "{d}/lut20.jsonl", "--to", "filter", "-o", "{o}/b"], 2, ["17, 33, 65"]),
    ("batch switch as a string", ["batch", "{d}/poem.jsonl", "--to", "text", "-o", "{o}/b"], 2, ["true or false"]),
    ("batch number as text", ["batch", "{d}/strength.jsonl", "--to", "image", "-o", "{o}/b"], 2,
     ['"strength"', "a number"]),
    ("eval a timbre", ["eval", "violin", "--data", "{d}/data"], 2, ["does not evaluate", "bridges", "text models"]),
    ("eval a style", ["eval", "starry", "--data", "{d}/data"], 2, ["does not evaluate"]),
    ("eval --encoding latin-1", ["eval", "shakespeare-markov", "--data", "{d}/latin.txt", "--encoding", "latin-1"], 0,
     ["nats/char"]),
    ("eval --encoding bogus", ["eval", "shakespeare-markov", "--data", "{d}/latin.txt", "--encoding", "bogus"], 2,
     ["unknown text encoding"]),
    ("eval Latin-1 as UTF-8", ["eval", "shakespeare-markov", "--data", "{d}/latin.txt"], 2, ["--encoding latin-1"]),
    ("timbre with a preset", ["translate", "{d}/motion.csv", "--to", "audio", "--style", "sfx", "--preset", "fire",
                              "--timbre", "flute", "-o", "{o}/s.wav"], 2, ["procedural", "Drop --timbre"]),
    ("generate -o good.txt", ["generate", "shakespeare-markov", "--length", "40", "-o", "{o}/good.txt"], 0,
     ["wrote"]),
]


@pytest.mark.parametrize("name,argv,code,words", CASES, ids=[c[0] for c in CASES])
def test_campaign_case(inputs, tmp_path, capsys, name, argv, code, words):
    args = [str(a).format(d=inputs, o=tmp_path) for a in argv]
    r = _cli(capsys, *args)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == code, f"{name}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    said = r.stderr if code else r.stdout + r.stderr
    for word in words:
        assert word in said, f"{name}: {word!r} not in the message:\n{said}"
    if code == 2:
        assert r.stderr.startswith("xmedia: error: ") or "usage:" in r.stderr
    if name == "generate -o good.txt":
        text = (tmp_path / "good.txt").read_text(encoding="utf-8")
        assert len(text) >= 40


def test_api_option_types_are_checked_before_work():
    image, audio = xmedia.load(IMAGE), xmedia.load(AUDIO) if AUDIO.exists() else pytest.skip("no media")
    with pytest.raises(ConfigError, match=r"option strength must be a number.*'abc'"):
        xmedia.translate(image, to="image", style="starry", strength="abc")
    with pytest.raises(ConfigError, match=r"option model must be a name or a path.*5"):
        xmedia.translate(audio, to="text", model=5)
    assert xmedia.translate(image, to="image", style="starry", strength="0.5").width == image.width  # as text


def test_option_type_rules():
    import inspect

    from xmedia.option_types import fits, parameter_kinds

    def f(x, a: float = 1.0, b: "str | None" = None, c=None, d: "str | int" = "auto", e=3):
        pass

    p = inspect.signature(f).parameters
    assert parameter_kinds(p["a"]) == {"number"} and parameter_kinds(p["b"]) == {"text"}
    assert parameter_kinds(p["c"]) is None and parameter_kinds(p["d"]) == {"number", "text"}
    assert parameter_kinds(p["e"]) == {"number"}
    assert fits(0.5, {"number"}) and fits("2", {"number"}) and fits(None, {"number"})
    assert not fits("abc", {"number"}) and not fits(True, {"number"}) and not fits([1], {"number"})
    assert fits(Path("x"), {"text"}) and fits(object(), {"text"}) and not fits(5, {"text"})


def test_word_level_markov_needs_spaces():
    from xmedia.adapters.text.markov import MarkovText

    chinese = "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n" * 30
    with pytest.raises(ConfigError, match="word level needs words separated by spaces.*--level char"):
        MarkovText.from_corpus(chinese, order=2, level="word")
    assert MarkovText.from_corpus(chinese, order=2, level="char").level == "char"


def test_corpus_weight_nan_says_weights_must_be_finite(inputs):
    from xmedia.adapters.text.corpus import parse_mix

    for weight in ("nan", "inf", "-1"):
        with pytest.raises(ConfigError, match="finite|>= 0") as info:
            parse_mix(f"{inputs}/latin.txt:{weight}")
        assert "no such corpus file" not in str(info.value)


def test_batch_workers_are_capped_at_the_cores(inputs, tmp_path, monkeypatch):
    from xmedia.commands.batch import capped_workers, run_batch
    from xmedia.commands.batch_engines import cpu_count

    monkeypatch.delenv("XMEDIA_MAX_WORKERS", raising=False)
    with pytest.warns(UserWarning, match="CPU cores"):
        assert capped_workers(1000) == cpu_count()
    monkeypatch.setenv("XMEDIA_MAX_WORKERS", str(cpu_count() + 3))
    assert capped_workers(cpu_count() + 2) == cpu_count() + 2  # the documented override
    monkeypatch.setenv("XMEDIA_MAX_WORKERS", "0")
    with pytest.raises(ConfigError, match="XMEDIA_MAX_WORKERS"):
        capped_workers(4)
    monkeypatch.delenv("XMEDIA_MAX_WORKERS")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        summary = run_batch(inputs / "home.jpg", tmp_path / "out", to="filter", workers=1000)
    assert summary.workers == cpu_count() and not summary.failed


def test_saved_model_files_have_the_normal_permissions(tmp_path):
    from xmedia.adapters.text.markov import MarkovText

    model = MarkovText.from_corpus("the cat sat on the mat\n" * 50, order=2)
    old = os.umask(0o022)
    try:
        model.save_pretrained(tmp_path / "m")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "m").iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes  # model.safetensors was 0600
    assert (tmp_path / "m").stat().st_mode & 0o777 == 0o755


def test_studio_removes_its_uploads_when_it_stops(inputs, tmp_path, monkeypatch, capsys):
    from xmedia.commands import studio as studio_cmd

    seen = {}

    class Page:
        def block_thread(self):
            folder = Path(os.environ["GRADIO_TEMP_DIR"])  # where Gradio would keep the uploads
            (folder / "abc").mkdir(parents=True)
            (folder / "abc" / "upload.jpg").write_bytes(b"x")
            seen["uploads"] = folder
            raise KeyboardInterrupt

        def close(self):
            pass

    fake_app = SimpleNamespace(launch=lambda studio, port: (Page(), f"http://127.0.0.1:{port}"))
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    monkeypatch.setitem(__import__("sys").modules, "xmedia.commands.studio_app", fake_app)
    monkeypatch.setattr(studio_cmd, "studio_app", fake_app, raising=False)
    r = _cli(capsys, "studio", "--work-dir", tmp_path / "work", "--port", "7999")
    assert r.returncode == 0, r.stderr
    assert not seen["uploads"].exists() and "GRADIO_TEMP_DIR" not in os.environ
    assert (tmp_path / "work").is_dir()  # the results folder stays


def test_read_only_mount_is_refused_before_generating(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or 'mount failed'}); needs root")
    try:
        out = _cli(capsys, "generate", "shakespeare-markov", "--length", "5", "-o", ro / "g.txt")
        assert out.returncode == 2 and "Read-only" in out.stderr and "Traceback" not in out.stderr
        with pytest.raises(MediaError, match="Read-only"):
            from xmedia.atomic import check_destination

            check_destination(ro / "x.wav")
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)
