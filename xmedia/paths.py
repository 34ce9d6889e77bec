"""Telling a path from a name in a spec: ``"violin:0.7"``, ``"C:\\models\\violin"``, a corpus given as text.

Torch-free and import-free, so both the blend parser (``xmedia.blend``) and the model-folder checks
(``xmedia.model_folder``) read specs the same way.
"""
from __future__ import annotations

import os
from pathlib import Path

MAX_NAME_PART = 255  # longest file-name component on the usual file systems: a longer "name" is no path


def split_weight(item: str) -> tuple[str, float | None]:
    """``"violin:0.7"`` -> ``("violin", 0.7)``; ``"C:\\x"`` or ``"violin"`` -> ``(item, None)`` (no weight)."""
    head, sep, tail = item.rpartition(":")
    if sep:  # an empty head is an item with no name (":0.5"), which parse_blend refuses
        try:
            return head.strip(), float(tail)
        except ValueError:
            pass
    return item.strip(), None


def existing_path(text) -> bool:
    """Whether ``text`` names an existing file or folder (False for text that cannot be a path: a newline, a
    NUL, a component longer than the file system allows; never a raw ``OSError``)."""
    text = os.fspath(text)
    if not text or len(text) > 4096 or "\n" in text or "\0" in text:
        return False
    if any(len(part) > MAX_NAME_PART for part in Path(text).parts):
        return False
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


# -- loading --------------------------------------------------------------------------------------------------
