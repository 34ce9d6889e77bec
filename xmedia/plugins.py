"""Plug-ins: the entry-point groups through which a package extends xmedia without editing it.

==================  =====================================================================  =========================
group               a module named there ...                                               read by
==================  =====================================================================  =========================
xmedia.providers    declares route steps (``@step``), ``StreamTarget``s and ``SPACES``      ``xmedia.routing``
xmedia.formats      lists its file formats in ``FORMATS``                                   ``xmedia.formats``
xmedia.media_types  defines media types (``Medium`` subclasses, or ``register_medium``)     ``xmedia.media_base``
xmedia.areas        is a CLI area (see ``xmedia.commands``)                                 ``xmedia.commands``
xmedia.zoos         has ``locate(name)`` and ``list()`` of saved processes                  ``xmedia.pretrained``
==================  =====================================================================  =========================

Each group is read whole, in entry-point name order, by one core service: no module picks a plug-in by name, so a
lower layer never depends on the package that registers one (an adapter asks ``xmedia.pretrained.locate`` for
``"violin"``; whichever zoo has it answers). Groups are read on first use, never at ``import xmedia``.
"""
from __future__ import annotations

import warnings
from importlib import import_module
from types import ModuleType
from typing import Iterable


def entry_modules(group: str) -> list[str]:
    """The module names registered in ``group``, in entry-point name order (each module once)."""
    from importlib import metadata  # stdlib, but slow to import: only when a group is first read

    names = []
    for ep in sorted(metadata.entry_points(group=group), key=lambda ep: ep.name):
        module = ep.value.split(":", 1)[0].strip()
        if module not in names:
            names.append(module)
    return names


def import_plugins(names: Iterable[str], what: str) -> list[ModuleType]:
    """Import each module; one that needs a package which is not installed is skipped (``what`` it would have
    brought is named in a warning), and one that is itself not shipped in this install is skipped quietly."""
    found = []
    for name in names:
        try:
            found.append(import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # the plug-in's own package is not installed: what it brings is simply absent
            warnings.warn(f"{name} needs {exc.name!r}, which is not installed: {what} it brings are skipped "
                          "(pip install 'xmedia[all]', or the plug-in's own extras)", RuntimeWarning, stacklevel=3)
    return found
