"""Trainers never destroy data: every ``xmedia train`` verb refuses, before any work, an output that would
replace a user's files (issue: ``-o`` a folder of documents, the training data itself, an existing file, the
current folder), and leaves those files exactly as they were."""
import os
import shutil

import pytest

from xmedia.cli import main
from xmedia.commands.train import trainers
from xmedia.model_folder import check_model_output

from conftest import media_path

RECIPES = ("av-perceptual",)


def data_for(name, folder):
    """A small --data folder of the kind the trainer reads (it is never read: the checks come first)."""
    folder.mkdir(parents=True, exist_ok=True)
    if name == "text":
        (folder / "corpus.txt").write_text("the quick brown fox jumps over the lazy dog. " * 40)
    elif name in ("timbre",):
        shutil.copy(media_path("audio", "guit_em9.flac"), folder / "take.flac")
    else:
        shutil.copy(media_path("video", "phone_portrait.mp4"), folder / "clip.mp4")
    return folder


def extra_args(name):
    return ["--style-image", str(media_path("image", "starry_night.jpg"))] if name == "style" else []


def snapshot(root):
    return {p: (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def names():
    return sorted(trainers()) + list(RECIPES)


def run(name, data, out, capsys, *more):
    code = main(["train", name, "--data", str(data), "-o", str(out), *extra_args(name), *more])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("name", names())
def test_a_folder_of_documents_is_refused_and_kept(name, tmp_path, capsys):
    data = data_for(name, tmp_path / "data")
    docs = tmp_path / "mydocs"
    (docs / "photos").mkdir(parents=True)
    (docs / "thesis.doc").write_text("years of work")
    before = snapshot(docs)
    code, err = run(name, data, docs, capsys)
    assert code == 2 and "mydocs" in err
    assert snapshot(docs) == before


@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize("where", ["data", "inside", "around"])
def test_the_training_data_is_never_the_destination(name, where, tmp_path, capsys):
    data = data_for(name, tmp_path / "corpus" / "data")
    out = {"data": data, "inside": data / "model", "around": tmp_path / "corpus"}[where]
    before = snapshot(tmp_path)
    code, err = run(name, data, out, capsys)
    assert code == 2 and "training data" in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name", names())
def test_an_existing_file_is_refused_and_kept(name, tmp_path, capsys):
    data = data_for(name, tmp_path / "data")
    precious = tmp_path / "userfile.txt"
    precious.write_text("precious")
    code, err = run(name, data, precious, capsys)
    assert code == 2 and "file" in err
    assert precious.is_file() and precious.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("name", names())
def test_the_current_folder_is_refused(name, tmp_path, capsys, monkeypatch):
    data = data_for(name, tmp_path / "elsewhere" / "data")
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    for out in (".", str(work), str(tmp_path)):
        code, err = run(name, data, out, capsys)
        assert code == 2 and "current folder" in err
    assert (work / "notes.txt").read_text() == "mine"


def test_a_saved_model_is_replaced_only_with_force_and_by_its_own_family(tmp_path):
    from xmedia.process import Process

    zoo_timbre = Process.from_pretrained("violin")
    out = tmp_path / "violin_copy"
    zoo_timbre.save_pretrained(out)
    with pytest.raises(Exception, match="--force"):
        check_model_output(out, class_names=["Timbre"])
    assert check_model_output(out, force=True, class_names=["Timbre"]) == out
    with pytest.raises(Exception, match="holds a Timbre model"):
        check_model_output(out, force=True, class_names=["StyleNet"])
    (out / "mine.txt").write_text("x")
    with pytest.raises(Exception, match="mine.txt"):
        check_model_output(out, force=True, class_names=["Timbre"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_an_unwritable_place_fails_before_work(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(Exception, match="cannot write"):
            check_model_output(ro / "model")
    finally:
        ro.chmod(0o755)
