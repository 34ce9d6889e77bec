"""Flags that never vanish: every ``xmedia translate`` flag is a route option the planned route takes, or is read by
the output writer of that target; anything else is an error naming the flag (as ``--option`` and the API are)."""
from pathlib import Path

import pytest

import xmedia
from xmedia.cli import main
from xmedia.commands import Flag, translate_flags
from xmedia.errors import RouteError, XMediaError
from xmedia.routing import Route, plan, registry, source_node

OUTPUT = {"audio": ".wav", "filter": ".cube", "image": ".png", "motion": ".csv", "robot": ".json", "text": ".srt",
          "video": ".mp4", "score": ".mid"}
INPUT_FOR = {"image": ("image", "home.jpg"), "video": ("video", "phone_portrait.mp4")}  # else a song
SONG = ("audio", "elec_chime.flac")
# From a song, the targets each flag applies to (a new flag is checked against the route alone).
SONG_TARGETS = {"tempo": {"audio", "score"}, "key": {"audio"}, "bank": {"audio"}, "lut-size": {"filter"}, "preview": {"filter"},
                "urdf": {"robot"}, "control-rate-hz": {"robot"}, "sim": {"robot"}, "model": {"text"},
                "temperature": {"text"}, "sound-poem": {"text"}, "timbre": {"audio"}, "report": {"filter", "robot",
                "text"}, "mix": set(), "strength": {"filter"}, "no-temporal": set(), "style-image": set()}


class Ran(Exception):
    """Raised instead of running a route: the flags were accepted."""


def sample(flag: Flag, media, tmp_path) -> list[str]:
    """``--flag VALUE`` with a value the flag takes."""
    values = {"preview": str(media("image", "home.jpg")), "style-image": str(media("image", "starry_night.jpg")),
              "bank": str(tmp_path), "sim": str(tmp_path / "sim.mp4"), "report": str(tmp_path / "report.png"),
              "urdf": "xarm6", "style": "starry", "model": "shakespeare-markov", "timbre": "violin", "key": "A",
              "instrument": "violin", "octave": "1", "tempo": "96"}
    if flag.action in ("store_true", "store_false"):
        return [f"--{flag.name}"]
    value = values.get(flag.name) or (str(flag.choices[0]) if flag.choices else "0.5" if flag.type is float else
                                      "1" if flag.type is int else "x")
    return [f"--{flag.name}", value]


def targets() -> list[str]:
    """Every --to target the CLI offers: the media kinds of the route graph."""
    return sorted(n for n in registry().nodes() if ":" not in n)


def route_uses(flag: Flag, value, x, to: str) -> bool:
    if flag.writer_for:
        return flag.used_by_writer(source_node(x), to)
    options = flag.options(value)
    return set(options) <= plan(x, to, options=options).options()


def test_every_flag_for_every_target_is_used_or_refused(media, tmp_path, monkeypatch, capsys):
    def refuse_to_run(self, x, trace=False, **options):
        raise Ran(options)

    monkeypatch.setattr(Route, "run", refuse_to_run)
    flags, checked = translate_flags(), {}
    assert len(flags) >= 20 and {"report", "sim", "preview", "lut-size", "tempo", "urdf", "timbre"} <= {
        f.name for f in flags}
    for to in targets():
        src = media(*INPUT_FOR.get(to, SONG))
        x = xmedia.load(src)
        for flag in flags:
            argv = sample(flag, media, tmp_path)
            args = ["translate", str(src), "--to", to, "-o", str(tmp_path / f"out{OUTPUT[to]}"), *argv]
            value = None if len(argv) == 1 else argv[1]
            try:
                used = route_uses(flag, flag.type(value) if flag.type and value else value, x, to)
            except RouteError:  # this flag's option selects no route to this target at all
                used = False
            if used:
                with pytest.raises(Ran):
                    main(args)
            else:
                assert main(args) == 2, args
                err = capsys.readouterr().err
                assert f"--{flag.name}" in err, (args, err)
            if src.suffix == ".flac":
                checked.setdefault(flag.name, set()).update({to} if used else set())
    for name, expected in SONG_TARGETS.items():
        assert checked[name] == expected, name


def test_the_issue_command_fails_naming_each_flag_and_where_it_applies(media, tmp_path, capsys):
    song = str(media("audio", "elec_chime.flac"))
    out = str(tmp_path / "x.cube")
    assert main(["translate", song, "--to", "filter", "--tempo", "96", "--urdf", "xarm6", "--timbre", "violin",
                 "-o", out]) == 2
    assert "--tempo" in capsys.readouterr().err
    assert main(["translate", song, "--to", "filter", "--tempo", "96", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "--tempo is not used" in err and "--to audio" in err
    assert main(["translate", song, "--to", "filter", "--urdf", "xarm6", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "--urdf is not used" in err and "--to robot" in err
    assert main(["translate", song, "--to", "filter", "--mix", "under", "-o", out]) == 2  # a video's soundtrack only
    assert "--mix is not used when translating audio to filter" in capsys.readouterr().err
    assert main(["translate", song, "--to", "filter", "--option", "tempo=96", "-o", out]) == 2  # as the API
    assert "tempo" in capsys.readouterr().err
    with pytest.raises(RouteError, match="tempo"):
        xmedia.translate(xmedia.load(song), "filter", tempo=96)
    assert not Path(out).exists()


def test_lut_size_and_strength_reach_the_look_for_real(media, tmp_path, capsys):
    out = tmp_path / "look.cube"
    assert main(["translate", str(media("audio", "elec_chime.flac")), "--to", "filter", "--lut-size", "17",
                 "--strength", "0.5", "-o", str(out)]) == 0
    assert "strength=0.5" in capsys.readouterr().out  # the lut decoder made the look at half strength
    assert "LUT_3D_SIZE 17" in out.read_text() and xmedia.load(out).size == 17


def test_choices_come_from_the_steps_that_check_them():
    from xmedia.adapters.composer import MIXES
    from xmedia.adapters.look.colour import CUBE_SIZES
    from xmedia.adapters.timbre.sfx import PRESETS

    by_name = {f.name: f for f in translate_flags()}
    assert by_name["lut-size"].choices is CUBE_SIZES and by_name["preset"].choices is PRESETS
    assert by_name["mix"].choices is MIXES
    areas = ("__init__", "soundtrack", "look", "robot", "style", "text", "timbre", "batch")  # flags come from data
    folder = Path(xmedia.__file__).parent / "commands"
    assert not [a for a in areas if "_option_string_actions" in (folder / f"{a}.py").read_text()]


def test_a_flag_declared_by_two_areas_is_refused(monkeypatch):
    import xmedia.commands as commands
    from xmedia.commands import style

    monkeypatch.setattr(style, "TRANSLATE_FLAGS", style.TRANSLATE_FLAGS + (Flag("tempo", "again"),))
    with pytest.raises(XMediaError, match="--tempo is declared by both"):
        commands.translate_flags()


def test_manifest_lines_take_the_documented_flag_names(media, tmp_path):
    from xmedia.commands.batch import plan_jobs
    from xmedia.manifest import write_manifest

    song = media("audio", "elec_chime.flac")
    photo = str(media("image", "home.jpg"))
    write_manifest(tmp_path / "m.jsonl", [{"input": str(song), "lut_size": 17, "preview": photo, "strength": 0.7,
                                           "comment": "ignored"}])
    jobs, ignored = plan_jobs(tmp_path / "m.jsonl", tmp_path / "out", to="filter")
    assert jobs[0].flags == {"lut_size": 17, "preview": photo, "strength": 0.7} and ignored == ("comment",)
