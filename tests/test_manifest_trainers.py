"""The visual-onset, timbre, text and style trainers read ``--data`` as a JSON-lines manifest (``xmedia.manifest``)
as well as a folder: each trainer's file listing gives exactly the files a manifest lists, in its order (paths
relative to the manifest's folder), the text mix takes a line's ``weight``, and a bad line names file:line."""
import gzip
import json
import os

import pytest
from conftest import corpus_path, media_path

from xmedia.adapters.onsets.data import video_files
from xmedia.adapters.style.data import content_files
from xmedia.adapters.text.corpus import parse_mix
from xmedia.adapters.timbre.train import audio_files
from xmedia.errors import ConfigError


def write(path, rows):
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def same(got, want):
    assert [p.resolve() for p in got] == [p.resolve() for p in want]


def test_visual_onsets_read_a_manifest(tmp_path):
    clips = [media_path("video", "fire_b.mp4"), media_path("video", "tree.avi"), media_path("video", "fire_a.mp4")]
    rows = [{"input": os.path.relpath(clips[0], tmp_path)},  # relative to the manifest's folder
            {"input": str(clips[1]), "label": "wind"}, {"input": str(clips[2])}]
    same(video_files(write(tmp_path / "clips.jsonl", rows)), clips)


def test_timbre_reads_a_manifest(tmp_path):
    folder = corpus_path("timbre", "flute")
    takes = sorted(folder.glob("*.flac"))[:3][::-1]
    same(audio_files(write(tmp_path / "takes.jsonl.gz", [{"input": str(p)} for p in takes])), takes)
    assert len(audio_files(folder)) > 3  # a folder still lists every recording


def test_style_reads_manifests_beside_files(tmp_path):
    photos = [media_path("image", "baboon.jpg"), media_path("image", "fruits.jpg")]
    clip = media_path("video", "fire_a.mp4")
    manifest = write(tmp_path / "content.jsonl", [{"input": str(p)} for p in photos])
    same(content_files([manifest, clip]), [*photos, clip])


def test_text_mix_reads_a_manifest_with_weights(tmp_path):
    a, b, c = (corpus_path("text", n) for n in ("dickinson_poems_en.txt", "devils_dictionary_bierce_en.txt",
                                                 "genesis_french.txt"))
    manifest = write(tmp_path / "corpora.jsonl", [{"input": str(a), "weight": 3}, {"input": str(b)}])
    got = parse_mix(str(manifest))
    same([p for p, _ in got], [a, b])
    assert [round(w, 3) for _, w in got] == [0.75, 0.25]
    # a manifest is one corpus of a mix: its weight is split by its lines' weights
    got = parse_mix(f"{manifest}:0.5,{c}:0.5")
    same([p for p, _ in got], [a, b, c])
    assert [round(w, 3) for _, w in got] == [0.375, 0.125, 0.5]


@pytest.mark.parametrize("lister", [video_files, audio_files, content_files, parse_mix])
def test_a_bad_manifest_line_names_the_file_and_line(tmp_path, lister):
    path = tmp_path / "m.jsonl"
    path.write_text(f'{{"input": "{media_path("video", "fire_a.mp4")}"}}\n{{"input": oops}}\n')
    with pytest.raises(ConfigError, match=r"m\.jsonl:2: not valid JSON"):
        lister(str(path))
    write(path, [{"input": "missing.mp4"}])
    with pytest.raises(ConfigError, match=r"m\.jsonl:1: .*missing\.mp4: no such"):
        lister(str(path))


def test_a_listed_file_of_the_wrong_kind_or_weight_is_named(tmp_path):
    path = write(tmp_path / "m.jsonl", [{"input": str(media_path("video", "fire_a.mp4"))},
                                        {"input": str(media_path("audio", "noise.wav"))}])
    with pytest.raises(ConfigError, match=r"m\.jsonl:2: noise\.wav is not one of \.mp4"):
        video_files(path)
    write(path, [{"input": str(corpus_path("text", "dickinson_poems_en.txt")), "weight": -1}])
    with pytest.raises(ConfigError, match=r"m\.jsonl:1: \"weight\" must be a positive number"):
        parse_mix(str(path))
