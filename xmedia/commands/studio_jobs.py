"""What the studio does per click, without the page: check the upload, turn the form into translate flags, run
the job (``jobs.run_job``, the CLI's own translate), and sort the files it wrote into previews.

The targets and their options come from the route registry, so a target another area adds (text, style,
timbre...) appears in the studio with its options without a change here: a form field is passed only when the
route to the chosen target accepts an option of that name (``plan(x, to).options()``), as the translate flag of
that name where the CLI has one, else as ``--option name=value``.
"""
from __future__ import annotations

import itertools
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from xmedia.errors import ConfigError, MediaError, XMediaError
from xmedia.io import AUDIO_EXT, IMAGE_EXT, VIDEO_EXT, load
from xmedia.manifest import MEDIA_EXT
from xmedia.media import Video
from xmedia.routing import plan, routes, source_node

from . import translate_flags
from .batch import translate_flag_defaults
from .jobs import Job, JobResult, default_extension, input_kind, run_job

FIELDS = ("seed", "style", "bank", "timbre", "urdf", "model")  # the form's generic option fields
LABELS = {"audio": "soundtrack (audio)", "filter": "look (colour filter)", "robot": "robot arm",
          "motion": "motion", "text": "text", "image": "image", "video": "video"}
SUBTITLE_EXT = (".srt", ".vtt")
PROGRESS_LINE = re.compile(r"\d+%\|")  # a tqdm bar: "analyse video:  45%|####  | 121/270 ..."


@dataclass
class StudioResult:
    """What the page shows: a message, previews by role, and every output file to download."""

    ok: bool
    message: str
    video: str | None = None
    subtitles: str | None = None
    audio: str | None = None
    before: str | None = None
    after: str | None = None
    report: str | None = None
    files: list = field(default_factory=list)
    log: str = ""


def targets(kind: str | None = None) -> list[tuple[str, str]]:
    """(label, kind) of every target reachable from ``kind`` (all targets when ``None``), from the route registry."""
    found = sorted({b for a, b, _ in routes() if kind is None or a == kind})
    return [(LABELS.get(b, b), b) for b in found]


def check_upload(path) -> object:
    """The upload as xmedia media, or the CLI's error: a file that is not media is refused before any work."""
    if path is None:
        raise ConfigError("drop a video, song, photo or text file first (or type some text)")
    path = Path(path)
    if path.suffix.lower() not in MEDIA_EXT:
        raise MediaError(f"{path.name}: not a media file xmedia reads; give a video ({', '.join(VIDEO_EXT)}), "
                         f"audio ({', '.join(AUDIO_EXT)}), an image ({', '.join(IMAGE_EXT)}) or text (.txt)")
    return load(path)


def describe(x) -> str:
    """One line about the upload: kind, size, duration."""
    parts = [x.KIND]
    for name, unit in (("width", ""), ("duration_s", " s")):
        value = getattr(x, name, None)
        if value is not None:
            parts.append(f"{value}x{x.height}" if name == "width" else f"{float(value):.1f}{unit}")
    return ", ".join(parts)


def route_options(x, to: str) -> tuple[str, list[str]]:
    """The route the job will take and the options it accepts."""
    route = plan(x, to)
    return str(route), sorted(route.options())


def job_flags(x, to: str, values: dict, extra: str = "") -> tuple[dict, list[str]]:
    """Translate flags from the form: each filled field the route accepts (flag of that name, else ``--option``),
    plus ``extra`` ``key=value`` lines as ``--option``; the notes name the fields the target does not take."""
    accepted = set(route_options(x, to)[1])
    dests = translate_flag_defaults()
    flags, options, notes = {}, [], []
    for name in FIELDS:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        value = value.strip() if isinstance(value, str) else value
        if name == "seed":
            try:
                value = int(float(value))
            except ValueError:
                raise ConfigError(f"seed must be an integer, got {value!r}") from None
        if name not in accepted:
            notes.append(f"{name}: not used by the route to {to} (it takes: {', '.join(sorted(accepted)) or 'none'})")
        elif name in dests:
            flags[name] = value
        else:
            options.append(f"{name}={value}")
    options += [line.strip() for line in (extra or "").splitlines() if line.strip()]
    if "progress" in accepted:
        options.append("progress=true")  # tqdm bars the page follows
    if options:
        flags["option"] = options
    return flags, notes


def usable_work_dir(work_dir) -> Path:
    """``--work-dir``, created if needed and probed for writing, or a ``ConfigError`` saying why it cannot be."""
    path = Path(work_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--work-dir {path} is a file, not a folder; give a folder for the uploads and results "
                          "(it is created if it does not exist)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        raise ConfigError(f"--work-dir {path}: cannot write there ({exc.strerror or exc}); give a folder you can "
                          "write to, or leave --work-dir out for a temporary one") from None
    return path


class Studio:
    """Runs the studio's jobs in folders under ``work_dir`` (one per job)."""

    def __init__(self, work_dir=None):
        self.work_dir = usable_work_dir(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="xmedia-studio-"))
        self.work_dir = self.work_dir.resolve()
        self._numbers = itertools.count(1)

    def new_job_dir(self) -> Path:
        while True:
            folder = self.work_dir / f"job-{next(self._numbers):04d}"
            if not folder.exists():
                folder.mkdir()
                return folder

    def text_input(self, text: str) -> Path:
        folder = self.new_job_dir()
        path = folder / "text.txt"
        path.write_text(text)
        return path

    def run(self, upload, to: str, values: dict | None = None, extra: str = "", output_ext: str = "",
            stage=lambda f, msg: None):
        """One job: check the upload, run ``xmedia translate`` on a copy of it, and sort what it wrote."""
        try:
            stage(0.02, "reading the input")
            x = check_upload(upload)
            if not to:
                raise ConfigError("pick a target")
            folder = self.new_job_dir()
            src = folder / Path(upload).name
            if Path(upload).resolve() != src.resolve():
                shutil.copyfile(upload, src)
            x = load(src)
            flags, notes = job_flags(x, to, values or {}, extra)
            output, before = self._outputs(x, src, to, folder, flags, (output_ext or "").strip())
        except XMediaError as exc:
            return StudioResult(False, _short(f"xmedia: error: {exc}", upload))
        stage(0.1, "translating")
        result = run_job(Job(str(src), to, str(output), flags, name=src.name, where=src.name))
        stage(0.95, "preparing the previews")
        return self._sorted(result, x, src, before, notes)

    def _outputs(self, x, src: Path, to: str, folder: Path, flags: dict, ext: str = "") -> tuple[Path, str | None]:
        if ext and not re.fullmatch(r"\.?[A-Za-z0-9]{1,8}", ext):
            raise ConfigError(f"output file type: give an extension such as .wav, got {ext!r}")
        ext = (ext if ext.startswith(".") else f".{ext}") if ext else default_extension(src, to)
        output = folder / f"{src.stem}_{to}{ext}"
        report = next(flag for flag in translate_flags() if flag.name == "report")
        if report.used_by_writer(source_node(x), to):  # a report flag where no writer reads it is an error
            flags["report"] = str(folder / f"{src.stem}_report.png")
        if to == "robot":
            flags["sim"] = str(folder / f"{src.stem}_robot_sim.mp4")
        before = None
        if to == "filter" and input_kind(src) in ("image", "video"):
            if isinstance(x, Video):  # the look before/after on the clip's middle frame
                photo = folder / f"{src.stem}_frame.jpg"
                x.frame(x.num_frames // 2).save(photo)
                before = str(photo)
            else:
                before = str(src)
            flags["preview"] = before
        return output, before

    def _sorted(self, result: JobResult, x, src: Path, before, notes) -> StudioResult:
        if not result.ok:
            return StudioResult(False, _short(result.error, src), log=clean_log(result.log))
        files = [f for f in result.outputs if Path(f).resolve() != src.resolve()]
        out = StudioResult(True, f"done in {result.seconds:.1f} s", files=files, log=clean_log(result.log),
                           before=before)
        for f in files:
            ext = Path(f).suffix.lower()
            if ext in VIDEO_EXT and out.video is None:
                out.video = f
            elif ext in AUDIO_EXT and out.audio is None:
                out.audio = f
            elif ext in SUBTITLE_EXT and isinstance(x, Video):
                out.video, out.subtitles = out.video or str(src), f
            elif f.endswith("_report.png"):
                out.report = f
            elif f.endswith("_preview.jpg"):
                out.after = f
        if notes:
            out.message += "\n" + "\n".join(f"note: {n}" for n in notes)
        return out


def clean_log(log: str) -> str:
    """The job's messages without its progress-bar lines (the page has its own bar)."""
    return "\n".join(line for line in log.splitlines() if line.strip() and not PROGRESS_LINE.search(line))


def _short(message: str, path) -> str:
    """The message with the job folder left out of paths, so it names the file as the user knows it."""
    return message.replace(str(Path(path).parent) + "/", "") if path else message
