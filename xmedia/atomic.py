"""Atomic writes: write to a temporary sibling, then rename, so no half-written output is ever left behind.

A temporary name carries the writer's process id (``.out.x1y2.tmp-<pid>.wav``): when a process is killed
before it can clean up (SIGKILL, power loss), the next write to the same folder removes the temporaries of
processes that no longer exist. ``check_destination`` refuses an output that cannot be written (a directory,
a read-only or full disk) before any work is done; a disk that fills up during the write is a ``MediaError``
and the previous file is left unchanged. ``written_since`` lists what this process wrote, so a command that
fails halfway can say what it did and did not write.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .errors import MediaError, XMediaError

_TEMP = re.compile(r"^\..+\.tmp-(\d+)(\.[^.]*)?$")
MIN_FREE_BYTES = 1 << 20  # below this a destination counts as full before anything is computed
_WRITTEN: list[Path] = []


def written_since(mark: int = 0) -> list[Path]:
    """Paths this process wrote (atomically) since ``len(written_since())`` was ``mark``."""
    return list(_WRITTEN[mark:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temps(folder) -> list[Path]:
    """Delete temporaries left in ``folder`` by writers that died; returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        try:
            shutil.rmtree(path) if entry.is_dir(follow_symlinks=False) else path.unlink()
            removed.append(path)
        except OSError:
            pass  # another process cleaned it first, or it is not ours to remove
    return removed


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _write_error(path: Path, exc: BaseException, what: str = "") -> MediaError | None:
    """A clear MediaError for a failed write (disk full, read-only, permission), or None for other failures."""
    code = getattr(exc, "errno", None)
    if code == errno.EROFS or (code in (errno.EACCES, errno.EPERM) and _read_only(path.parent)):
        return MediaError(f"{what}{path}: cannot write there (Read-only file system: {_existing(path.parent)} is "
                          "mounted read-only); nothing was written. Choose a folder you can write to")
    if code in (errno.EACCES, errno.EPERM):  # before the free-space test: /sys and the like report 0 bytes free
        return MediaError(f"{what}{path}: cannot write there ({os.strerror(code)}); nothing was written. Choose a "
                          "folder you can write to")
    free = _free_bytes(path.parent)
    if code == errno.ENOSPC or "no space left" in str(exc).lower() or (free is not None and free < MIN_FREE_BYTES):
        return MediaError(f"{what}{path}: the disk is full ({free or 0:,} bytes free in {path.parent}); nothing was written "
                          f"and any previous {path.name} is unchanged. Free some space or write elsewhere")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return MediaError(f"{what}{path}: cannot write there ({os.strerror(code)}); nothing was written. Choose a folder "
                          "you can write to")
    return None


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(_existing(folder)).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def check_destination(path, what: str = "output") -> Path:
    """Refuse, before any work, an output path that cannot be written: a directory, a folder that is not
    writable (probed by really creating a file there: permissions, read-only disks), or a full disk."""
    path = Path(path)
    if path.is_dir():
        raise MediaError(f"{what} {path} is a directory; give a file name in it, e.g. {path / 'out.ext'} (the "
                         "extension picks the format)")
    return check_writable(path, _existing(path.parent), what)  # the folders not there yet are made on write


def check_writable(path: Path, folder: Path, what: str = "output") -> Path:
    """Refuse ``path`` unless a file can really be created in ``folder`` (permissions, read-only disks) and
    its disk is not full; returns ``path``."""
    if not folder.is_dir():
        raise MediaError(f"{what} {path}: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".xmedia-probe.", suffix=f".tmp-{os.getpid()}", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        err = _write_error(path, exc, what=f"{what} ")
        raise (err or MediaError(f"{what} {path}: cannot write in {folder} ({exc.strerror})")) from None
    free = _free_bytes(folder)
    if free is not None and free < MIN_FREE_BYTES:
        raise MediaError(f"{what} {path}: the disk is full ({free:,} bytes free in {folder}); free some space or "
                         "write elsewhere")
    return path


@contextlib.contextmanager
def _failures_explained(path: Path):
    try:
        yield
    except XMediaError:
        raise
    except Exception as exc:
        err = _write_error(path, exc)
        if err is None:
            raise
        raise err from None


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path with the same extension next to ``path``; rename it over ``path`` on success.

    The extension is kept because encoders (PyAV, soundfile, OpenCV) choose the format from it.
    """
    path = Path(path)
    with _failures_explained(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp-{os.getpid()}{path.suffix}", dir=path.parent)
        os.close(fd)
    tmp = Path(tmp)
    try:
        with _failures_explained(path):
            yield tmp
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get normal permissions
            os.replace(tmp, path)
        _WRITTEN.append(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _normal_permissions(folder: Path) -> None:
    """Folders 0777 and files 0666 (executables 0777) less the umask, throughout ``folder``: the temporary folder
    is made 0700 and some writers (safetensors) make their files 0600, but a saved model is as readable as any
    other output."""
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o777 & ~mask)
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                executable = os.stat(full).st_mode & 0o100
                os.chmod(full, (0o777 if executable else 0o666) & ~mask)


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a temporary directory next to ``path``; it replaces ``path`` (a directory) on success."""
    path = Path(path)
    with _failures_explained(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=f".tmp-{os.getpid()}", dir=path.parent))
    try:
        with _failures_explained(path):
            yield tmp
            _normal_permissions(tmp)
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}-{time.monotonic_ns()}.tmp-{os.getpid()}")
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        _WRITTEN.append(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text(path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)
