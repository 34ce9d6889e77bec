import json

import numpy as np
import pytest

import xmedia
from xmedia.cli import main


def test_info_reports_displayed_size(media, capsys):
    assert main(["info", str(media("video", "phone_portrait.mp4")), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["width"], d["height"], d["rotation_deg"]) == (360, 640, 90)
    assert d["audio"]["sample_rate_hz"] == 44100 and d["fps_float"] == pytest.approx(23.976, abs=1e-3)
    assert main(["info", str(media("video", "phone_portrait.mp4"))]) == 0
    assert "height: 640" in capsys.readouterr().out


def test_info_on_bad_file_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xmedia: error:") and "broken.mp4" in err and "Traceback" not in err


def test_routes_lists_perceptual_encoders(capsys):
    assert main(["routes", "--steps"]) == 0
    out = capsys.readouterr().out
    for kind in ("video", "audio", "image", "text", "motion"):
        assert f"perceptual-{kind}" in out


def test_translate_to_perceptual_embedding(media, tmp_path):
    out = tmp_path / "amen.npz"
    assert main(["translate", str(media("audio", "loop_amen.flac")), "--to", "perceptual", "-o", str(out)]) == 0
    e = xmedia.Embedding.load(out)
    direct = xmedia.encode(xmedia.load(media("audio", "loop_amen.flac")))
    np.testing.assert_array_equal(e.track, direct.track)
    assert e.events_s == direct.events_s and e.rate_hz == direct.rate_hz


def test_translate_unknown_option_is_reported(media, tmp_path, capsys):
    code = main(["translate", str(media("image", "fruits.jpg")), "--to", "perceptual", "-o", str(tmp_path / "x.json"),
                 "--option", "flavour=sweet"])
    assert code == 2 and "flavour" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_a_closed_pipe_is_not_a_traceback(media):
    import subprocess
    import sys

    script = "import sys; from xmedia.cli import main; sys.exit(main(['info', sys.argv[1]]))"
    proc = subprocess.Popen([sys.executable, "-c", script, str(media("video", "megamind.avi"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head -0`: the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
