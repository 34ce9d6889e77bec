"""A new medium is a plug-in: the toy package ``tests/plugin_demo/xmedia_toy_medium`` brings its media type, file
format, route step, CLI area (a flag and a writer) and live stream target through its own entry points
(its pyproject.toml), with nothing in ``xmedia/`` edited. It is installed into a temporary folder put on
``PYTHONPATH`` (the files ``pip install --target`` would write: the package and a dist-info with the
entry points read from its pyproject), and every check runs in a fresh interpreter that sees it.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "plugin_demo" / "xmedia_toy_medium"


def install(package: Path, site: Path) -> None:
    """Install ``package`` (a folder with a pyproject.toml) into ``site`` as pip would, without a build."""
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    for name in tomllib.loads((package / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]:
        shutil.copytree(package / name, site / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (dist / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n" for group, eps in groups.items()))


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """``run(args)`` runs a Python or CLI subprocess that sees the installed toy medium; ``clip`` is a small video
    (dark for one second, then bright)."""
    tmp = tmp_path_factory.mktemp("toy")
    install(TOY, tmp / "site")
    frames = np.zeros((20, 32, 32, 3), np.uint8)
    frames[10:] = 255
    import xmedia

    clip = xmedia.Video.from_frames(frames, fps=10).save(tmp / "clip.mp4")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp / "site"), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}

    def run(*args, timeout=60):
        out = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=timeout,
                             cwd=tmp)
        return out

    return tmp, clip, run


def test_the_toy_lives_outside_xmedia():
    entry_points = tomllib.loads((TOY / "pyproject.toml").read_text())["project"]["entry-points"]
    assert set(entry_points) == {"xmedia.media_types", "xmedia.formats", "xmedia.providers", "xmedia.areas"}
    core = [p for folder in ("xmedia", "adapters", "bridges", "zoo") for p in (ROOT / folder).rglob("*.py")]
    assert not [p for p in core if "xmedia_toy_medium" in p.read_text() or "blinker" in p.read_text()]


def test_the_api_knows_the_toy_medium_and_streams_to_its_target(toy):
    tmp, clip, run = toy
    script = textwrap.dedent(f"""
        import json
        import xmedia
        from xmedia.errors import RouteError
        from xmedia.media import kind_of, media_types
        from xmedia.routing import node_name

        kinds = media_types()
        Pattern = kinds["pattern"]
        p = xmedia.translate(xmedia.Text("hello world"), to="pattern", bpm=90)
        p.save("rhythm.pattern")
        back = xmedia.load("rhythm.pattern")
        cmds = list(xmedia.stream({str(clip)!r}, "blinker", realtime=False, gain=1.5))
        try:
            xmedia.stream({str(clip)!r}, "blinker", urdf="xarm6").__next__()
            refused = ""
        except RouteError as exc:
            refused = str(exc)
        print(json.dumps({{
            "kinds": sorted(kinds), "kind": kind_of(p), "node": [node_name("pattern"), node_name(Pattern)],
            "cells": p.cells, "bpm": p.bpm, "back": [type(back).__name__, back.cells, back.bpm],
            "route": str(xmedia.plan(xmedia.Text("a"), to="pattern")),
            "brightness": [c.payload["brightness"] for c in cmds], "last": cmds[-1].to_dict(),
            "types": sorted({{type(c).__name__ for c in cmds}}), "refused": refused}}))
    """)
    out = run("-c", script)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout.splitlines()[-1])
    assert {"audio", "video", "image", "text", "motion", "embedding", "pattern"} <= set(d["kinds"])
    assert d["kind"] == "pattern" and d["node"] == ["pattern", "pattern"]
    assert d["cells"] == ".x..x.x..." and d["bpm"] == 90 and d["back"] == ["Pattern", ".x..x.x...", 90]
    assert d["route"] == "text -> [toy-text-pattern] pattern"
    b = np.array(d["brightness"])
    assert d["types"] == ["Command"] and b.min() == 0 and b.max() == 1.0  # dark, then bright (x1.5, clipped)
    assert d["last"]["stopping"] is True and set(d["last"]) >= {"brightness", "on", "time_s"}
    assert "'blinker' takes no option(s) ['urdf']" in d["refused"]


def test_the_cli_translates_to_the_toy_medium_with_its_area(toy):
    tmp, clip, run = toy
    out = run("-m", "xmedia.cli", "translate", "--text", "hello world", "--to", "pattern", "-o", "cli.pattern",
              "--pattern-bpm", "75")
    assert out.returncode == 0, out.stderr
    assert "wrote cli.pattern: 10 beats at 75 bpm, .x..x.x..." in out.stdout  # the toy area's writer ran
    assert (tmp / "cli.pattern").read_text() == "PATTERN 75\n.x..x.x...\n"
    help_text = run("-m", "xmedia.cli", "translate", "--help").stdout
    assert "toy rhythm (--to pattern)" in help_text and "--pattern-bpm" in help_text


def test_the_cli_streams_to_the_toy_target(toy):
    tmp, clip, run = toy
    out = run("-m", "xmedia.cli", "stream", str(clip), "--to", "blinker", "--option", "gain=2",
              "--duration-s", "0.3")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) >= 5 and all(set(x) >= {"time_s", "brightness", "on", "stopping"} for x in lines)
    assert lines[-1]["stopping"] and not any(x["stopping"] for x in lines[:-1])


def test_a_class_that_cannot_subclass_medium_is_registered():
    from xmedia.errors import MediaError
    from xmedia.media import kind_of, media_types, register_medium
    from xmedia.routing import node_name

    class Sketch:  # no KIND, no Medium base: registered by name
        pass

    register_medium(Sketch, kind="sketch")
    assert kind_of(Sketch()) == "sketch" and node_name(Sketch) == "sketch" and media_types()["sketch"] is Sketch
    with pytest.raises(MediaError, match="register_medium"):
        kind_of(object())


def test_spaces_are_what_the_providers_declare():
    from xmedia.routing import node_name, space_names

    assert {"perceptual", "clip", "clap", "minilm"} <= space_names()
    names = ("perceptual", "CLIP", "clap", "minilm", "audio", "video", "filter", "robot", "space:clip", "controls:x")
    assert [node_name(n) for n in names] == ["space:perceptual", "space:clip", "space:clap", "space:minilm", "audio",
                                             "video", "filter", "robot", "space:clip", "controls:x"]
