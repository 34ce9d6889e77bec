"""Where foundation-model weights live, and how they are loaded: offline, on a chosen device and dtype.

A backend's weights are found, in order, at

1. an explicit ``path=`` (a folder, or for open_clip also a checkpoint file), or one set with
   ``set_path(backend, path)`` (the way to reach ``xmedia.translate``),
2. ``$XMEDIA_HOME/<backend>`` (``XMEDIA_HOME`` defaults to ``~/.cache/xmedia``),
3. the Hugging Face cache (``HF_HUB_CACHE`` / ``HF_HOME``), looked up with ``snapshot_download(...,
   local_files_only=True)`` so nothing is ever fetched.

Nothing is downloaded unless ``XMEDIA_OFFLINE=0`` is set. A missing weight raises ``WeightsError`` naming the
folders searched and the ``hf download`` command to run on a machine with internet.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from xmedia.errors import ConfigError, WeightsError


@dataclass(frozen=True)
class Backend:
    """A foundation model xmedia knows how to load: its folder name under XMEDIA_HOME and default hub repo."""

    name: str
    repo_id: str
    marker: str  # a file that must exist in a usable folder
    what: str


BACKENDS = {
    b.name: b
    for b in (
        Backend("open_clip", "laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "open_clip_config.json", "CLIP (open_clip)"),
        Backend("clip", "openai/clip-vit-base-patch32", "config.json", "CLIP (transformers)"),
        Backend("clap", "laion/clap-htsat-unfused", "config.json", "CLAP (transformers)"),
        Backend("musicgen", "facebook/musicgen-small", "config.json", "MusicGen (transformers)"),
        Backend("audioldm", "cvssp/audioldm-s-full-v2", "model_index.json", "AudioLDM (diffusers)"),
        Backend("img2img", "stable-diffusion-v1-5/stable-diffusion-v1-5", "model_index.json",
                "Stable Diffusion img2img (diffusers)"),
        Backend("minilm", "sentence-transformers/all-MiniLM-L6-v2", "config.json", "MiniLM sentence encoder"),
    )
}


_PATHS: dict[str, Path] = {}


def set_path(name: str, path) -> None:
    """Use the weights at ``path`` for backend ``name`` from now on (``None`` forgets it); this is how a
    folder outside XMEDIA_HOME reaches ``xmedia.translate``."""
    _backend(name)
    if path is None:
        _PATHS.pop(name, None)
    else:
        _PATHS[name] = Path(path).expanduser()


def xmedia_home() -> Path:
    return Path(os.environ.get("XMEDIA_HOME") or Path.home() / ".cache" / "xmedia").expanduser()


def hf_cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    hf_home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    return Path(hf_home).expanduser() / "hub"


def allow_download() -> bool:
    return os.environ.get("XMEDIA_OFFLINE", "1").strip().lower() in ("0", "false", "no")


def _backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; known: {sorted(BACKENDS)}")
    return BACKENDS[name]


def _usable(folder: Path, marker: str) -> bool:
    return folder.is_dir() and (folder / marker).is_file()


def _cached_snapshot(repo_id: str, marker: str) -> Path | None:
    """The newest cached snapshot of ``repo_id`` holding ``marker`` (plain filesystem walk: cheap enough for
    ``available()`` checks made on every route plan)."""
    snapshots = hf_cache_dir() / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    found = [s for s in snapshots.iterdir() if (s / marker).exists()]
    return max(found, key=lambda s: s.stat().st_mtime) if found else None


def is_available(name: str, path=None, repo_id: str | None = None) -> bool:
    """Whether ``locate`` would find the weights (no imports, no network)."""
    b = _backend(name)
    path = path if path is not None else _PATHS.get(name)
    if path is not None:
        return Path(path).expanduser().exists()
    if _usable(xmedia_home() / name, b.marker):
        return True
    return _cached_snapshot(repo_id or b.repo_id, b.marker) is not None


def locate(name: str, path=None, repo_id: str | None = None) -> Path:
    """The folder (or file) holding backend ``name``'s weights; ``WeightsError`` with the fix when absent."""
    b = _backend(name)
    repo_id = repo_id or b.repo_id
    path = path if path is not None else _PATHS.get(name)
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file() or _usable(p, b.marker):
            return p
        raise WeightsError(
            f"{b.what} weights not found at {p}: expected a folder containing {b.marker}. "
            + how_to_get(name, repo_id, target=p)
        )
    home = xmedia_home() / name
    if _usable(home, b.marker):
        return home
    if _cached_snapshot(repo_id, b.marker) is not None or allow_download():
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(repo_id, cache_dir=hf_cache_dir(), local_files_only=not allow_download()))
        except Exception as exc:  # LocalEntryNotFoundError, network errors: all mean "not here"
            reason = f" ({type(exc).__name__})"
    else:
        reason = ""
    raise WeightsError(
        f"{b.what} weights not found{reason}. Looked in {home} (XMEDIA_HOME) and the Hugging Face cache "
        f"{hf_cache_dir()} for {repo_id}. " + how_to_get(name, repo_id, target=home)
    )


def describe(name: str) -> str:
    """One line for ``xmedia routes`` and route errors: where the weights go."""
    b = _backend(name)
    return f"{b.what}; weights: $XMEDIA_HOME/{name} or the HF cache ({b.repo_id}), see docs/foundation.md"


def how_to_get(name: str, repo_id: str, target: Path | None = None) -> str:
    target = target or xmedia_home() / name
    return (
        f"To get them, on a machine with internet run `hf download {repo_id} --local-dir {name}` "
        f"(older huggingface_hub: `huggingface-cli download {repo_id} --local-dir {name}`), copy the folder "
        f"to {target} on this machine (or pass its path explicitly), then retry. "
        f"Other checkpoints of the same architecture work too."
    )


# -- device and dtype --------------------------------------------------------------------------------------
DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16", "half": "float16",
          "bfloat16": "bfloat16", "bf16": "bfloat16"}


def resolve_device(device: str | None = None) -> str:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``None``/``"auto"`` (the best one present)."""
    import torch

    device = (device or os.environ.get("XMEDIA_DEVICE") or "auto").lower()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    kind = device.split(":")[0]
    if kind not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device must be cpu, cuda, cuda:N, mps or auto, got {device!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for but CUDA is not available; use device='cpu'")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' asked for but MPS is not available; use device='cpu'")
    return device


def resolve_dtype(dtype=None, device: str = "cpu"):
    """A torch dtype: ``None``/``"auto"`` means float16 on CUDA and float32 elsewhere (CPU half is slow)."""
    import torch

    if dtype is None or dtype == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = DTYPES.get(str(dtype).lower().replace("torch.", ""))
    if name is None:
        raise ConfigError(f"dtype must be one of {sorted(DTYPES)} or 'auto', got {dtype!r}")
    return getattr(torch, name)


@contextlib.contextmanager
def offline():
    """No network during a load (unless ``XMEDIA_OFFLINE=0``): HF_HUB_OFFLINE for this process's hub calls."""
    if allow_download():
        yield
        return
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    try:
        import huggingface_hub.constants as hub_constants
    except ImportError:
        hub_constants = None
    saved_flag = getattr(hub_constants, "HF_HUB_OFFLINE", None)
    if hub_constants is not None:
        hub_constants.HF_HUB_OFFLINE = True  # read at import time by the hub; patch the live value too
    try:
        yield
    finally:
        if hub_constants is not None:
            hub_constants.HF_HUB_OFFLINE = saved_flag
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_error(name: str, folder: Path, exc: Exception) -> WeightsError:
    """A library's load failure, as a WeightsError that says which folder and what to do."""
    b = _backend(name)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return WeightsError(
        f"could not load {b.what} weights from {folder}: {first}. The folder may be incomplete or hold another "
        f"architecture; re-download it ({how_to_get(name, b.repo_id, target=folder)})"
    )
