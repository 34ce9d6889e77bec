"""``xmedia studio``: the job logic on its own, then end to end in a real browser (Debian's chromium, headless,
driven by Playwright): upload a real clip, get a playable video with its new soundtrack; a bad upload gets the
CLI's message and the server stays up. A screenshot is written on failure."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xmedia.cli import main
from xmedia.commands.studio_jobs import Studio, job_flags, targets
from xmedia.io import load

ROOT = Path(__file__).resolve().parents[1]


def cli_error(capsys, *argv) -> str:
    """The one line ``xmedia`` prints for an error, with the file's folder left out."""
    assert main(list(argv)) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    return line.replace(str(Path(argv[1]).parent) + "/", "")


# ---------------------------------------------------------------------------------------------- job logic
def test_targets_come_from_the_routes():
    kinds = [kind for _, kind in targets("video")]
    assert {"audio", "filter", "robot"} <= set(kinds)
    assert dict((k, label) for label, k in targets())["audio"].startswith("soundtrack")


def test_form_fields_reach_only_routes_that_take_them(media):
    clip = load(media("video", "phone_portrait.mp4"))
    flags, notes = job_flags(clip, "audio", {"seed": 4.0, "style": "foley", "urdf": "xarm6", "timbre": ""})
    assert flags["seed"] == 4 and flags["style"] == "foley" and "urdf" not in flags
    assert any(n.startswith("urdf: not used by the route to audio") for n in notes)
    flags, notes = job_flags(clip, "robot", {"urdf": "xarm6", "style": "foley"})
    assert flags["urdf"] == "xarm6" and "style" not in flags and notes


def test_bad_uploads_get_the_cli_message(tmp_path, capsys):
    studio = Studio(tmp_path / "work")
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(os.urandom(3000))
    result = studio.run(str(fake), "audio")
    assert not result.ok
    assert result.message == cli_error(capsys, "translate", str(fake), "--to", "audio", "-o", str(tmp_path / "o.wav"))
    notes = tmp_path / "notes.pdf"
    notes.write_bytes(b"%PDF-1.4")
    result = studio.run(str(notes), "audio")
    assert not result.ok and result.message.startswith("xmedia: error: notes.pdf: not a media file")
    assert not list((tmp_path / "work").glob("job-*")), "a refused upload must not start a job"


@pytest.mark.filterwarnings("ignore:a Hald CLUT holds colour only")
def test_look_job_sorts_its_files_into_previews(media, tmp_path):
    """A photo's look as a Hald .png (the form's output type): before/after, report, every file to download."""
    result = Studio(tmp_path).run(str(media("image", "fruits.jpg")), "filter", output_ext="png")
    assert result.ok, result.message
    assert sorted(Path(f).name for f in result.files) == ["fruits_filter.png", "fruits_filter_preview.jpg",
                                                         "fruits_report.png"]
    assert Path(result.before).name == "fruits.jpg" and result.after.endswith("fruits_filter_preview.jpg")
    assert result.report.endswith("fruits_report.png") and result.video is None and result.audio is None
    assert type(load(result.files[0], kind="filter")).__name__ == "Filter"


# ---------------------------------------------------------------------------------------------- browser
def chromium_or_skip() -> str:
    pytest.importorskip("gradio", reason="the studio needs Gradio (pip install 'xmedia[studio]')")
    pytest.importorskip("playwright.sync_api", reason="the browser test needs Playwright (pip install playwright)")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no chromium browser installed (apt-get install chromium; .ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    chromium_or_skip()
    work = tmp_path_factory.mktemp("studio")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "xmedia.cli", "studio", "--port", str(free_port()),
                             "--work-dir", str(work)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=ROOT)
    deadline, url, seen = time.time() + 90, None, []
    while time.time() < deadline and url is None:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        found = re.search(r"xmedia studio: (http://127\.0\.0\.1:\d+)", line)
        url = found.group(1) if found else None
    if url is None:
        proc.kill()
        pytest.fail("the studio did not print its address:\n" + "".join(seen))
    yield url, proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def page(studio_url, tmp_path, request):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_or_skip(), args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 1000})
        tab.set_default_timeout(60_000)
        tab.goto(studio_url[0])
        failed_before = request.session.testsfailed
        yield tab
        if request.session.testsfailed > failed_before:  # the test's call failed: keep what the page showed
            shot = tmp_path / f"{request.node.name}.png"
            tab.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the page: {shot}")
        browser.close()


PLAYABLE = """async (selector) => {
  const v = document.querySelector(selector);
  if (v.readyState < 1) {
    v.load();
    await new Promise((ok, fail) => {
      v.addEventListener('loadedmetadata', ok);
      v.addEventListener('error', () => fail(new Error('media error ' + (v.error && v.error.code))));
      setTimeout(() => fail(new Error('no metadata after 20 s')), 20000);
    });
  }
  const r = await fetch(v.currentSrc || v.src);
  return {status: r.status, bytes: (await r.arrayBuffer()).byteLength, duration: v.duration,
          tracks: v.audioTracks ? v.audioTracks.length : null};
}"""


def test_clip_to_soundtrack_in_the_browser(page, media):
    clip = media("video", "phone_portrait.mp4")
    page.locator("#upload input[type=file]").set_input_files(str(clip))
    page.wait_for_selector("#about >> text=video, 360x640")
    page.click("#target input")
    page.locator("ul[role=listbox] li", has_text="soundtrack").click()
    assert page.locator("#target input").input_value().startswith("soundtrack")
    page.click("#run")
    page.wait_for_selector("#result-video video[src]", timeout=90_000)
    media_info = page.evaluate(PLAYABLE, "#result-video video")
    assert media_info["status"] in (200, 206) and media_info["bytes"] > 100_000
    assert media_info["duration"] == pytest.approx(float(load(clip).duration_s), abs=0.3)
    assert page.locator("#status").inner_text().startswith("done")
    page.wait_for_selector("#report img")
    downloads = page.locator("#files").inner_text()
    assert "phone_portrait_audio" in downloads and "phone_portrait_report" in downloads


def test_bad_upload_shows_the_cli_error_and_the_server_stays_up(page, studio_url, tmp_path, capsys):
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(os.urandom(3000))
    page.locator("#upload input[type=file]").set_input_files(str(fake))
    shown = page.locator(".xmedia-error").first.inner_text(timeout=30_000)
    assert shown == cli_error(capsys, "translate", str(fake), "--to", "audio", "-o", str(tmp_path / "o.wav"))
    page.click("#run")
    page.wait_for_selector("#status .xmedia-error")
    assert studio_url[1].poll() is None, "the studio server died"
    page.goto(studio_url[0])
    page.wait_for_selector("#upload")
