"""Hardening: bounded memory on long audio, documented limits, outputs checked before work, clean exits on
signals, and clear errors for the inputs that used to give tracebacks."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xmedia
from xmedia import limits
from xmedia.errors import ConfigError, LimitError, MediaError

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _xmedia(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "xmedia.cli", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def _cli(capsys, *args):
    """``xmedia ARGS`` in this process (no start-up cost): returncode, stdout, stderr."""
    from types import SimpleNamespace

    from xmedia import cli

    capsys.readouterr()
    rc = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return SimpleNamespace(returncode=rc, stdout=out, stderr=err)


def _long_wav(media, path: Path, seconds: float, rate_hz=48000) -> Path:
    """``seconds`` of a real loop (repeated), 48 kHz stereo 16-bit, written block by block."""
    import soundfile as sf

    loop = xmedia.load(media("audio", "loop_amen.flac")).resample(rate_hz).samples
    with sf.SoundFile(str(path), "w", rate_hz, 2, subtype="PCM_16") as f:
        for a in range(0, int(seconds * rate_hz), len(loop)):
            f.write(loop[: min(len(loop), int(seconds * rate_hz) - a)])
    return path


# ---------------------------------------------------------------------------------------------- 1. memory
def test_long_audio_is_streamed_in_bounded_memory(media, tmp_path):
    """4 minutes of 48 kHz stereo (92 MB as float32): ``info`` and the analysis behind -> look / -> robot add
    far less than one copy of the samples to the peak RSS of a 10 s clip's run."""
    short = _long_wav(media, tmp_path / "short.wav", 10)
    long = _long_wav(media, tmp_path / "long.wav", 240)
    script = (
        "import json, resource, sys, xmedia\n"
        "from xmedia.adapters.perceptual import encode_audio\n"
        "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "e = encode_audio(xmedia.load(sys.argv[1])); base = peak()\n"
        "d = xmedia.info(sys.argv[2]); after_info = peak()\n"
        "a = xmedia.load(sys.argv[2]); long = encode_audio(a); after = peak()\n"
        "print(json.dumps([base, after_info, after, a.is_file_backed, d['duration_s'], long.track.shape[0]]))\n")
    out = subprocess.run([sys.executable, "-c", script, short, long], capture_output=True, text=True, env=ENV,
                         timeout=120, check=True)
    base, after_info, after, streamed, duration_s, steps = json.loads(out.stdout)
    one_copy_mb = 240 * 48000 * 2 * 4 / 2**20
    assert streamed and duration_s == 240.0 and steps == 24001
    assert after_info - base < 20, (base, after_info)  # info did not decode the file into memory
    assert after - base < one_copy_mb / 3, (base, after, one_copy_mb)


@pytest.mark.parametrize("ext", [".flac", ".mp3"])  # libsndfile and PyAV readers
def test_streamed_analysis_equals_in_memory(media, monkeypatch, tmp_path, ext):
    import xmedia.audio_files as audio_files
    from xmedia.adapters.perceptual import encode_audio

    path = media("audio", "loop_breakbeat.flac")
    if ext != ".flac":
        path = xmedia.save(xmedia.load(path), tmp_path / f"beat{ext}")
    in_memory = xmedia.load(path)
    whole = encode_audio(in_memory)
    monkeypatch.setattr(audio_files, "STREAM_AUDIO_BYTES", 1000)
    streamed = xmedia.load(path)
    assert streamed.is_file_backed and not in_memory.is_file_backed
    assert streamed.num_samples == in_memory.num_samples and xmedia.info(path)["duration_s"] > 1.5
    for span in ((0.3, 1.2), (1.0, 99), (50, 60)):  # a slice reads only its span
        np.testing.assert_array_equal(streamed.slice_s(*span).samples, in_memory.slice_s(*span).samples)
    e = encode_audio(streamed)
    np.testing.assert_array_equal(e.track, whole.track)
    assert e.events_s == whole.events_s and len(e.events_s) > 3
    np.testing.assert_array_equal(streamed.samples, in_memory.samples)  # decoded on demand, the same samples


# ---------------------------------------------------------------------------------------------- 2. limits
def test_requests_above_a_limit_are_refused_before_work(media, capsys):
    audio = xmedia.load(media("audio", "loop_amen.flac"))
    with pytest.raises(LimitError, match=r"duration_s = 1e\+07 s is above the limit duration_s = 14400"):
        xmedia.translate(audio, "audio", duration_s=1e7)
    with pytest.raises(LimitError, match="lut_size"):
        xmedia.translate(audio, "filter", lut_size=100_000)
    with pytest.raises(ConfigError, match="seed"):
        xmedia.translate(audio, "filter", seed=float("nan"))
    r = _cli(capsys, "translate", media("audio", "loop_amen.flac"), "--to", "audio", "-o", "/tmp/never.wav",
                "--option", "duration_s=1e7")
    assert r.returncode == 2 and "XMEDIA_LIMIT_DURATION_S" in r.stderr and "Traceback" not in r.stderr


def test_limits_can_be_raised():
    frames = np.zeros((2000, 1), np.float32)
    with pytest.raises(LimitError, match=r"Motion duration \(2000 frames at 0.1 Hz\) = 20000 s"):
        xmedia.Motion(frames, rate_hz=0.1)
    with limits.raised(duration_s=1e6):  # the raised limit holds inside the block only
        assert xmedia.Motion(frames, rate_hz=0.1).duration_s == 20000
    assert limits.get("duration_s") == 4 * 3600
    env = {**ENV, "XMEDIA_LIMIT_FPS": "2e6"}
    code = "import numpy as np, xmedia; print(xmedia.Video.from_frames(np.zeros((2, 4, 4, 3), np.uint8), fps=1e6).fps)"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip() == "1000000"


def test_motion_csv_at_a_tiny_rate_is_refused(tmp_path, capsys):
    csv = tmp_path / "m.csv"
    csv.write_text("# rate_hz=0.0001\nx,y\n0,1\n1,0\n")
    r = _cli(capsys, "translate", csv, "--to", "robot", "-o", tmp_path / "r.json")
    assert r.returncode == 2 and "rate_hz" in r.stderr and "Traceback" not in r.stderr


def test_huge_png_header_is_refused_with_the_pixel_count(tmp_path):
    import zlib

    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = (60000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    (tmp_path / "big.png").write_bytes(png)
    with pytest.raises(LimitError, match=r"60000x60000.*3.6e\+09 pixels is above the limit pixels"):
        xmedia.load(tmp_path / "big.png")


# ---------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("make,match", [
    (lambda: xmedia.Audio(np.zeros(100), 1), "below the minimum"),
    (lambda: xmedia.Audio(np.zeros(100), float("nan")), "positive integer"),
    (lambda: xmedia.Audio(np.zeros(100, complex), 8000), "complex"),
    (lambda: xmedia.Video.from_frames(np.zeros((3, 4, 4, 3), np.uint8), fps=1e6), "fps"),
    (lambda: xmedia.translate(xmedia.Video.from_frames(np.full((5, 1, 1, 3), 9, np.uint8)), "audio"), "1x1 pixels"),
])
def test_bad_api_values_are_media_errors(make, match):
    with pytest.raises(MediaError, match=match):
        make()


def test_unsigned_pcm_is_scaled():
    a = xmedia.Audio(np.array([0, 128, 255], np.uint8), 8000)
    np.testing.assert_allclose(a.samples.ravel(), [-1, 0, 127 / 128])


# ---------------------------------------------------------------------------------------------- inputs
def test_odd_inputs_have_clear_messages(tmp_path, media):
    (tmp_path / "r.flac").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(MediaError, match="r.flac"):
        xmedia.load(tmp_path / "r.flac")
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match="FIFO"):
        xmedia.load(fifo)
    with pytest.raises(MediaError, match="device"):
        xmedia.load("/dev/zero")
    loop = tmp_path / "loop.wav"
    loop.symlink_to(loop)
    with pytest.raises(MediaError, match="loop of symbolic links"):
        xmedia.load(loop)
    with pytest.raises(MediaError, match="is a directory"):
        next(xmedia.stream(tmp_path, "robot"))
    from xmedia import DecodeWarning  # noqa: F401  exported at the top level


def test_audio_only_mp4_is_audio(media, tmp_path, capsys):
    audio = xmedia.load(media("audio", "loop_amen.flac"))
    xmedia.save(audio, tmp_path / "a.mp4")
    assert isinstance(xmedia.load(tmp_path / "a.mp4"), xmedia.Audio)
    r = _cli(capsys, "info", tmp_path / "a.mp4")
    assert r.returncode == 0 and "audio" in r.stdout


def test_apply_look_to_avi_with_an_odd_frame_rate(media, tmp_path, capsys):
    look = tmp_path / "look.cube"
    assert _cli(capsys, "translate", media("audio", "loop_amen.flac"), "--to", "filter", "-o", look).returncode == 0
    r = _cli(capsys, "apply", look, media("video", "tree.avi"), "-o", tmp_path / "t.avi")
    assert r.returncode == 0, r.stderr
    out = xmedia.load(tmp_path / "t.avi")
    assert out.num_frames == xmedia.load(media("video", "tree.avi")).num_frames and "encode" not in r.stderr


# ---------------------------------------------------------------------------------------------- 4. outputs
def _mount_tmpfs(path: Path, options: str):
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or 'mount failed'}); needs root/CAP_SYS_ADMIN")


@pytest.fixture
def mounted(tmp_path):
    mounts = []

    def mount(name, options):
        _mount_tmpfs(tmp_path / name, options)
        mounts.append(tmp_path / name)
        return tmp_path / name

    yield mount
    for m in mounts:
        subprocess.run(["umount", str(m)], capture_output=True)


def test_read_only_folder_is_refused_before_any_work(media, mounted, tmp_path, capsys):
    ro = mounted("ro", "ro,size=1m")
    r = _cli(capsys, "translate", media("video", "fire_a.mp4"), "--to", "audio", "-o", ro / "a.wav")
    assert r.returncode == 2 and "Read-only" in r.stderr and "Traceback" not in r.stderr
    r = _cli(capsys, "translate", media("audio", "loop_amen.flac"), "--to", "robot", "-o", tmp_path / "r.json",
                "--report", ro / "rep.png")
    assert r.returncode == 2 and "--report" in r.stderr and not (tmp_path / "r.json").exists()
    r = _cli(capsys, "translate", media("audio", "loop_amen.flac"), "--to", "filter", "-o", tmp_path)
    assert r.returncode == 2 and "is a directory" in r.stderr
    r = _cli(capsys, "apply", tmp_path / "missing.cube", media("image", "home.jpg"), "-o", ro / "x.png")
    assert r.returncode == 2 and "Read-only" in r.stderr  # refused before the look is even read
    with pytest.raises(MediaError, match="Read-only"):
        xmedia.save(xmedia.Audio(np.zeros((800, 1), np.float32), 8000), ro / "a.wav")


def test_full_disk_is_a_media_error_and_keeps_the_old_file(media, mounted, capsys):
    full = mounted("full", "size=1m")
    audio = xmedia.load(media("audio", "ambi_choir.flac"))
    (full / "a.wav").write_bytes(b"old")
    with pytest.raises(MediaError, match="disk is full"):
        xmedia.save(audio.with_channels(2).replace(samples=np.tile(audio.with_channels(2).samples, (8, 1))),
                    full / "a.wav")
    assert (full / "a.wav").read_bytes() == b"old" and os.listdir(full) == ["a.wav"]
    r = _cli(capsys, "translate", media("audio", "loop_amen.flac"), "--to", "filter", "-o", full / "look.cube")
    assert r.returncode == 2 and "disk is full" in r.stderr  # under 1 MiB free: refused before the work


def test_partial_write_is_reported(media, tmp_path, monkeypatch, capsys):
    from xmedia import cli
    from xmedia.commands import robot

    def broken_report(*args, **kwargs):
        raise MediaError("the report could not be drawn")

    monkeypatch.setattr(robot, "plot_report", broken_report)
    rc = cli.main(["translate", str(media("audio", "loop_amen.flac")), "--to", "robot", "-o",
                   str(tmp_path / "r.json"), "--report", str(tmp_path / "rep.png")])
    err = capsys.readouterr().err
    assert rc == 3 and "partly done: wrote" in err and "r.json" in err and (tmp_path / "r.json").exists()


# ---------------------------------------------------------------------------------------------- 5. temps
def test_sigterm_removes_the_temporary_file(tmp_path):
    code = ("import signal, sys, time\nfrom xmedia.atomic import atomic_path\nfrom xmedia.cli import _terminate\n"
            "signal.signal(signal.SIGTERM, _terminate)\n"
            "with atomic_path(sys.argv[1]) as tmp:\n    tmp.write_bytes(b'x' * 1000)\n    print('ready', flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "out.wav")], stdout=subprocess.PIPE,
                            text=True, env=ENV)
    assert proc.stdout.readline().strip() == "ready"
    assert len(os.listdir(tmp_path)) == 1  # the hidden temporary
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert os.listdir(tmp_path) == []


def test_stale_temps_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.abc123.tmp-{dead.pid}.wav"
    stale.write_bytes(b"left by a killed writer")
    live = tmp_path / f".out.def456.tmp-{os.getppid()}.wav"
    live.write_bytes(b"a writer still at work")
    xmedia.save(xmedia.Audio(np.zeros((800, 1), np.float32), 8000), tmp_path / "out.wav")
    assert not stale.exists() and live.exists() and (tmp_path / "out.wav").exists()


# ---------------------------------------------------------------------------------------------- usability
def test_cube_is_applied_colour_only_like_ffmpeg(media, tmp_path, capsys):
    import shutil

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: the lut3d cross-check cannot run")
    look, photo = tmp_path / "l.cube", media("image", "fruits.jpg")
    assert _cli(capsys, "translate", media("audio", "loop_amen.flac"), "--to", "filter", "-o", look).returncode == 0
    assert "# xmedia:" in look.read_text()  # this look has spatial settings only xmedia knows
    plain = _cli(capsys, "apply", look, photo, "-o", tmp_path / "plain.png")
    spatial = _cli(capsys, "apply", look, photo, "-o", tmp_path / "spatial.png", "--spatial")
    assert "colour only" in plain.stderr and "--spatial" in plain.stderr and "do not apply" in spatial.stderr
    img = xmedia.load(photo)
    rgb = img.rgb_uint8()
    run = subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{img.width}x{img.height}",
                          "-i", "-", "-vf", f"lut3d=file={look}:interp=tetrahedral", "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], input=rgb.tobytes(), capture_output=True, check=True)
    theirs = np.frombuffer(run.stdout, np.uint8).reshape(rgb.shape).astype(int)
    assert np.abs(xmedia.load(tmp_path / "plain.png").rgb_uint8().astype(int) - theirs).max() <= 1
    assert np.abs(xmedia.load(tmp_path / "spatial.png").rgb_uint8().astype(int) - theirs).max() > 10


def test_lut_size_seed_and_text_on_the_command_line(media, tmp_path, capsys):
    video = media("video", "tree.avi")
    r = _cli(capsys, "translate", video, "--to", "filter", "-o", tmp_path / "t.json", "--lut-size", "33", "--seed", "3")
    assert r.returncode == 0 and "lut_size=33" in r.stdout, r.stderr
    assert xmedia.load(tmp_path / "t.json").lut_size == 33
    r = _cli(capsys, "translate", video, "--to", "filter", "-o", tmp_path / "t.cube", "--lut-size", "17")
    assert r.returncode == 0 and "17^3" in r.stdout and "LUT_3D_SIZE 17" in (tmp_path / "t.cube").read_text()
    r = _cli(capsys, "translate", "warm slow evening", "--to", "filter", "-o", tmp_path / "w.cube")
    assert r.returncode == 2 and '--text "warm slow evening"' in r.stderr
    r = _cli(capsys, "translate", "--text", "warm slow evening", "--to", "filter", "-o", tmp_path / "w.cube")
    (tmp_path / "p.txt").write_text("warm slow evening\n")
    r2 = _cli(capsys, "translate", tmp_path / "p.txt", "--to", "filter", "-o", tmp_path / "p.cube")
    assert r.returncode == 0 and r2.returncode == 0, r.stderr + r2.stderr
    np.testing.assert_array_equal(xmedia.load(tmp_path / "w.cube").table, xmedia.load(tmp_path / "p.cube").table)


def test_errors_of_a_run_name_the_input(tmp_path, capsys):
    one = tmp_path / "one.png"
    xmedia.save(xmedia.Image(np.full((32, 32, 3), 80, np.uint8)), one)
    xmedia.save(xmedia.Video.from_frames(np.full((1, 32, 32, 3), 80, np.uint8), fps=25), tmp_path / "one.mp4")
    r = _cli(capsys, "translate", tmp_path / "one.mp4", "--to", "robot", "-o", tmp_path / "r.json")
    assert r.returncode == 2 and "one.mp4" in r.stderr and "Traceback" not in r.stderr


def test_av_training_data_skips_videos_without_sound(media, tmp_path):
    import shutil

    from xmedia.bridges.av_data import av_segments

    for name in ("phone_portrait.mp4", "tree.avi"):  # tree.avi has no sound
        shutil.copy(media("video", name), tmp_path / name)
    with pytest.warns(UserWarning, match=r"skipped 1 of 2 videos without sound \(tree.avi\)"):
        data = av_segments(tmp_path, context="clip", max_side=48)
    assert data.meta["skipped_without_sound"] == ["tree.avi"] and set(data.sources) == {"phone_portrait.mp4"}


def test_a_jpeg_above_the_pixel_limit_is_read_reduced_for_analysis(media, tmp_path, capsys):
    big = tmp_path / "big.jpg"
    xmedia.save(xmedia.Image(np.tile(xmedia.load(media("image", "baboon.jpg")).rgb_uint8(), (3, 4, 1))), big)
    with limits.raised(pixels=1e6):  # 2048x1536 is above it
        with pytest.raises(LimitError, match=r"2048x1536.*max_side"):
            xmedia.load(big)
        with pytest.warns(xmedia.DecodeWarning, match="1/2 size"):
            small = xmedia.load(big, max_side=1024)
        assert (small.width, small.height) == (1024, 768)
        with pytest.warns(xmedia.DecodeWarning, match="1/2 size"):  # the CLI only analyses it: read reduced
            assert _cli(capsys, "translate", big, "--to", "filter", "-o", tmp_path / "l.cube").returncode == 0
