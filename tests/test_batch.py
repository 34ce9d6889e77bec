"""``xmedia batch`` and JSON-lines manifests: real audio clips from ../shared/media, a corrupt item, resuming,
and the Ray engine against a local Ray instance giving the same files as the local pool."""
import gzip
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmedia.cli import main
from xmedia.commands.batch import ERRORS_FILE, plan_jobs, run_batch
from xmedia.errors import ConfigError
from xmedia.manifest import items, read_manifest, write_manifest

CLIPS = ("loop_amen.flac", "elec_chime.flac", "noise.wav")


# ---------------------------------------------------------------------------------------------- manifests
def test_bad_manifest_line_is_named(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"input": "a.wav"}\n\n{"input": "b.wav", oops}\n')
    with pytest.raises(ConfigError, match=r"m\.jsonl:3: not valid JSON"):
        read_manifest(path)
    path.write_text('{"input": "a.wav"}\n{"output": "b.cube"}\n')
    with pytest.raises(ConfigError, match=r"m\.jsonl:2: .*no \"input\""):
        read_manifest(path)
    path.write_text('["a.wav"]\n')
    with pytest.raises(ConfigError, match=r"m\.jsonl:1: each line must be a JSON object"):
        read_manifest(path)


def test_manifest_paths_are_relative_to_the_manifest(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "m.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write('{"input": "clips/a.wav", "to": "filter", "seed": 3, "label": "x"}\n')
    (item,) = read_manifest(path)
    assert item.input == tmp_path / "sub" / "clips" / "a.wav"
    assert (item.to, item.output, item.options, item.line) == ("filter", None, {"seed": 3, "label": "x"}, 1)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.fixed_dictionaries({"input": st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                                                                        max_size=12).filter(lambda s: s.strip("/.")),
                                       "seed": st.integers(-10**6, 10**6),
                                       "style": st.text(max_size=8)}), min_size=1, max_size=6))
def test_manifest_round_trip(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("m") / "m.jsonl"
    write_manifest(path, [{**r, "input": "/" + r["input"].lstrip("/")} for r in rows])
    back = read_manifest(path)
    assert [it.options for it in back] == [{"seed": r["seed"], "style": r["style"]} for r in rows]
    assert [it.line for it in back] == list(range(1, len(rows) + 1))


def test_folder_names_follow_the_inputs(tmp_path):
    src = tmp_path / "in"
    (src / "deep").mkdir(parents=True)
    for name in ("a.wav", "a.flac", "deep/b.mp4", ".hidden.wav", "notes.pdf"):
        (src / name).write_bytes(b"x")
    jobs, _ = plan_jobs(src, tmp_path / "out", to="audio")
    names = sorted(j.name for j in jobs)
    assert names == ["a_flac.wav", "a_wav.wav", "deep/b.mp4"]  # a video's soundtrack is muxed into an .mp4
    assert [Path(j.input).name for j in items(src)] == ["a.flac", "a.wav", "b.mp4"]
    with pytest.raises(ConfigError, match="needs \\{name\\}"):
        plan_jobs(src, tmp_path / "out", to="audio", flags={"report": "r.png"})


# ---------------------------------------------------------------------------------------------- local engine
@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A manifest of three real clips (one with its own LUT size) and one corrupt file."""
    from conftest import media_path

    root = tmp_path_factory.mktemp("batch")
    (root / "clips").mkdir()
    for name in CLIPS:
        shutil.copyfile(media_path("audio", name), root / "clips" / name)
    (root / "clips" / "broken.wav").write_bytes(b"RIFF" + os.urandom(3000))
    rows = [{"input": f"clips/{n}"} for n in CLIPS] + [{"input": "clips/broken.wav"}]
    rows[1]["lut_size"] = 17
    rows[1]["comment"] = "metadata a batch ignores"
    write_manifest(root / "clips.jsonl", rows)
    return root


@pytest.fixture(scope="module")
def local_run(clips):
    out = clips / "out_local"
    code = main(["batch", str(clips / "clips.jsonl"), "--to", "filter", "-o", str(out), "--workers", "2",
                 "--report", "{name}.png"])
    return code, out


def test_local_batch_outputs_errors_and_summary(local_run, clips, capsys):
    code, out = local_run
    assert code == 1  # one item failed
    for name in CLIPS:
        stem = Path(name).stem
        assert (out / f"{stem}.cube").stat().st_size > 1000 and (out / f"{stem}.png").stat().st_size > 1000
    assert "LUT_3D_SIZE 17" in (out / "elec_chime.cube").read_text()
    assert "LUT_3D_SIZE 33" in (out / "loop_amen.cube").read_text()
    errors = [json.loads(line) for line in (out / ERRORS_FILE).read_text().splitlines()]
    assert len(errors) == 1 and errors[0]["input"].endswith("broken.wav")
    assert errors[0]["where"].endswith("clips.jsonl:4") and errors[0]["error"].startswith("xmedia: error: ")
    assert not (out / "broken.cube").exists()


def test_batch_runs_what_translate_runs(local_run, clips, tmp_path):
    """Each item is `xmedia translate` itself: the same bytes as the CLI writes for that file."""
    _, out = local_run
    assert main(["translate", str(clips / "clips" / "noise.wav"), "--to", "filter", "-o", str(tmp_path / "n.cube")]) == 0
    assert (tmp_path / "n.cube").read_bytes() == (out / "noise.cube").read_bytes()


def test_rerun_skips_complete_items_and_redoes_the_rest(local_run, clips):
    _, out = local_run
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.cube")}
    (out / "loop_amen.cube").write_text("half-written by someone else")  # changed since: not complete any more
    summary = run_batch(clips / "clips.jsonl", out, to="filter", workers=1, report="{name}.png")
    status = {Path(r.job.input).name: ("skipped" if r.skipped else "done" if r.ok else "failed")
              for r in summary.results}
    assert status == {"loop_amen.flac": "done", "elec_chime.flac": "skipped", "noise.wav": "skipped",
                      "broken.wav": "failed"}
    assert (out / "elec_chime.cube").stat().st_mtime_ns == before["elec_chime.cube"]
    assert "LUT_3D_SIZE" in (out / "loop_amen.cube").read_text()
    assert len((out / ERRORS_FILE).read_text().splitlines()) == 1
    assert "1 done, 2 skipped" in summary.table() and "1 failed" in summary.table()


# ---------------------------------------------------------------------------------------------- Ray engine
@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'xmedia[batch]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=80 * 1024**2)
    yield ray
    ray.shutdown()


def test_ray_engine_gives_the_local_outputs(ray_session, local_run, clips):
    _, local_out = local_run
    out = clips / "out_ray"
    summary = run_batch(clips / "clips.jsonl", out, to="filter", engine="ray", report="{name}.png")
    assert [r.ok for r in summary.results] == [True, True, True, False]
    for name in CLIPS:
        cube = f"{Path(name).stem}.cube"
        assert (out / cube).read_bytes() == (local_out / cube).read_bytes()
    assert json.loads((out / ERRORS_FILE).read_text())["type"] == "MediaError"


def test_trainers_read_videos_through_the_same_manifest(media, tmp_path):
    """``xmedia train RECIPE --data list.jsonl``: the audio-visual data reads a manifest's inputs."""
    from xmedia.bridges.av_data import video_files
    from xmedia.errors import MediaError

    clip = media("video", "phone_portrait.mp4")
    write_manifest(tmp_path / "videos.jsonl", [{"input": str(clip), "split": "train"}])
    assert video_files(tmp_path / "videos.jsonl") == [clip]
    write_manifest(tmp_path / "missing.jsonl", [{"input": "nowhere.mp4"}])
    with pytest.raises(MediaError, match="nowhere.mp4"):
        video_files(tmp_path / "missing.jsonl")
