"""One job = one ``xmedia translate`` run: what the batch runs per item and the studio per click.

``run_job(job)`` calls ``xmedia.cli.run_translate`` (the same function ``xmedia translate`` runs, with the areas'
output writers: soundtrack muxed into the mp4, look .cube and preview, robot trajectory and --sim render,
reports), captures its messages, and never raises: a failure comes back as the CLI's one-line message. After a
success it writes a completion record (at ``job.done``) listing the input's size and time and every output's
size; ``is_complete`` reads it back, so a rerun skips exactly the jobs whose outputs all exist unchanged.
"""
from __future__ import annotations

import io
import json
import os
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from xmedia.atomic import write_text
from xmedia.cli import run_translate
from xmedia.errors import XMediaError
from xmedia.io import AUDIO_EXT, IMAGE_EXT, TEXT_EXT, VIDEO_EXT

DONE_DIR = ".xmedia-batch"  # completion records live here, beside the outputs
DEFAULT_EXT = {"filter": ".cube", "robot": ".json", "motion": ".csv", "image": ".png", "video": ".mp4",
               "text": ".txt", "embedding": ".json"}


@dataclass(frozen=True)
class Job:
    """``xmedia translate INPUT --to TO -o OUTPUT`` plus ``flags`` (translate flags by name); ``done`` is where the
    completion record goes (none: not recorded)."""

    input: str
    to: str
    output: str
    flags: dict = field(default_factory=dict)
    name: str = ""
    where: str = ""
    done: str | None = None


@dataclass
class JobResult:
    job: Job
    ok: bool
    seconds: float = 0.0
    outputs: list = field(default_factory=list)
    log: str = ""
    error: str = ""
    error_type: str = ""
    skipped: bool = False
    cpu_s: float = 0.0

    def error_record(self) -> dict:
        """One line of ``errors.jsonl``."""
        return {"input": self.job.input, "output": self.job.output, "to": self.job.to, "where": self.job.where,
                "error": self.error, "type": self.error_type, "seconds": round(self.seconds, 3)}


def input_kind(path) -> str:
    """The kind of media a path holds, judged by its extension (``video``, ``audio``, ``image``, ``text``)."""
    ext = Path(path).suffix.lower()
    for kind, exts in (("video", VIDEO_EXT), ("audio", AUDIO_EXT), ("image", IMAGE_EXT), ("text", TEXT_EXT)):
        if ext in exts:
            return kind
    return "file"


def default_extension(input_path, to: str) -> str:
    """The output extension ``xmedia translate`` users would pick: a video's soundtrack muxed back into an .mp4,
    other audio as .wav, a look as .cube, a trajectory as .json; else the first extension of the target's format."""
    if to == "audio":
        return ".mp4" if input_kind(input_path) == "video" else ".wav"
    if to in DEFAULT_EXT:
        return DEFAULT_EXT[to]
    from xmedia.formats import formats

    for fmt in formats():
        if fmt.kind == to and fmt.extensions:
            return fmt.extensions[0]
    return ".json"


def run_job(job: Job) -> JobResult:
    """Run one translation exactly as the CLI does; errors become the CLI's one-line message, never an exception."""
    start, cpu = time.perf_counter(), time.process_time()
    log = io.StringIO()
    try:
        with redirect_stdout(log), redirect_stderr(log):  # warnings and bars go to the job's log, not the batch's bar
            run_translate(job.input, job.to, job.output, **job.flags)
    except XMediaError as exc:
        return JobResult(job, False, time.perf_counter() - start, log=log.getvalue(), error=f"xmedia: error: {exc}",
                         error_type=type(exc).__name__)
    except Exception as exc:  # a bug or a library failure: keep the rest of the batch going, keep the details
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return JobResult(job, False, time.perf_counter() - start, log=log.getvalue() + traceback.format_exc(),
                         error=f"xmedia: unexpected error: {detail}", error_type=type(exc).__name__)
    outputs = written_files(job, log.getvalue())
    result = JobResult(job, True, time.perf_counter() - start, outputs=outputs, log=log.getvalue(),
                       cpu_s=time.process_time() - cpu)
    if job.done:
        write_text(job.done, json.dumps(completion_record(job, outputs), indent=1))
    return result


def written_files(job: Job, log: str) -> list[str]:
    """The files the run wrote: the output, the output flags' files, and every ``wrote PATH`` the areas printed."""
    named = [job.output] + [str(job.flags[k]) for k in ("report", "sim") if job.flags.get(k)]
    for line in log.splitlines():
        if line.startswith("wrote "):  # "wrote PATH (details)" or "wrote PATH: details"; PATH may hold spaces
            words = line[len("wrote "):].split(" ")
            named += [" ".join(words[:k]).rstrip(":") for k in range(len(words), 0, -1)
                      if Path(" ".join(words[:k]).rstrip(":")).is_file()][:1]
    found = []
    for name in named:
        path = str(Path(name).resolve())
        if path not in found and Path(path).is_file():
            found.append(path)
    return found


def _stat(path) -> dict:
    st = os.stat(path)
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def spec(job: Job) -> dict:
    """What decides a job's result: its input file (as it is now), target, output and flags."""
    return {"input": job.input, "input_file": _stat(job.input) if Path(job.input).is_file() else None,
            "to": job.to, "output": job.output, "flags": json.loads(json.dumps(job.flags, sort_keys=True, default=str))}


def completion_record(job: Job, outputs: list[str]) -> dict:
    return {"kind": "xmedia-batch-done", "spec": spec(job), "outputs": {p: _stat(p) for p in outputs}}


def is_complete(job: Job) -> bool:
    """True when an earlier run of this very job finished: its record matches the job and the input as they are
    now, and every output it wrote still exists with the same size and time."""
    if not job.done or not Path(job.done).is_file():
        return False
    try:
        record = json.loads(Path(job.done).read_text())
        if record.get("spec") != spec(job) or job.output not in record.get("outputs", {}):
            return False
        return all(Path(p).is_file() and _stat(p) == st for p, st in record["outputs"].items())
    except (OSError, ValueError, AttributeError, TypeError):
        return False  # an unreadable record means: do it again
