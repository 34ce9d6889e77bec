"""Naming learned processes: one blend parser, one loader, one spec format, one way to mix several processes.

Every family (timbres, styles, text models, bridges, visual onsets) takes the same forms wherever it is named
(``--timbre``, ``--style``, ``--model``, ``timbre=``, ``style=``...):

- a saved process folder (``my_timbre/``), or a zoo name (``"violin"``, ``"av-perceptual@1"``);
- a blend ``"violin:0.7,flute:0.3"``, parsed by ``parse_blend``:

  * items are separated by ``,`` (so a name cannot contain a comma);
  * an item is ``NAME`` (weight 1) or ``NAME:WEIGHT``. What follows the item's LAST ``:`` is its weight when it
    reads as a number (``float``: ``0.3``, ``2``, ``1e-1``, and ``nan``/``inf``/``-1``, which are then refused);
    otherwise the ``:`` belongs to the name, so Windows paths (``C:\\models\\violin``) and ``a:b`` folders work.
    A folder literally named ``x:1`` is found when given on its own (an existing path always wins);
  * weights must be finite and >= 0, at least one > 0; they are normalised to sum to 1 (a zero weight keeps
    its item: its name is still checked, and the blend is exactly the others);
  * a trailing ``/`` of a name is dropped (``starry/:0.6``), surrounding spaces are ignored.

  Every error is a ``ConfigError`` that says what is wrong and how to write it (``"weights must be >= 0 and
  finite"``), the same for every family and for the text corpora's ``a.txt:0.7,b.txt:0.3``.

``load_process(spec, family, what)`` resolves any of these forms to a process of ``family`` (a class or a tuple
of classes): an unknown name lists only the zoo entries of that family, a process of another family is named as
such. ``blend_processes`` mixes several (their weights when they are ``compatible``, else their outputs through
the class's ``blend_outputs``), and a blend is a process like any other: it saves and loads.
``process_spec``/``build_process`` are the ``{"class", "module", "config"}`` form in which output blends
record their members.

Light to import: torch loads only when a process is loaded.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import ConfigError, WeightsError, XMediaError
from .paths import MAX_NAME_PART, existing_path, split_weight  # noqa: F401 - part of the blend API

BLEND_MODES = ("auto", "weights", "outputs")


def check_weights(weights, what: str = "process", spec=None, names=None) -> list[float]:
    """``weights`` as floats summing to 1 (finite, >= 0, at least one > 0), else a ``ConfigError`` naming the
    item (``names``) and the spec it came from."""
    try:
        ws = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise ConfigError(f"{what} weights must be numbers, got {weights!r}") from None
    where = f" in {str(spec)!r}" if spec is not None else ""
    for i, w in enumerate(ws):
        if not (math.isfinite(w) and w >= 0):
            item = f" of {names[i]!r}" if names is not None else ""
            raise ConfigError(f"{what} weights must be >= 0 and finite: the weight{item} is {w}{where}; "
                              "write e.g. 'a:0.7,b:0.3'")
    try:
        total = math.fsum(ws)
    except OverflowError:
        total = math.inf
    if not ws or total <= 0:
        raise ConfigError(f"{what} blend{where}: the weights must not all be zero; give at least one a "
                          "positive weight, e.g. 'a:0.7,b:0.3'")
    if not math.isfinite(total):
        raise ConfigError(f"{what} weights are too large (their sum overflows){where}; write e.g. 'a:0.7,b:0.3'")
    return [w / total for w in ws]


def parse_blend(spec, what: str = "process", normalise: bool = True) -> list[tuple[str, float]]:
    """``"starry:0.6, wave/:0.4"`` -> ``[("starry", 0.6), ("wave", 0.4)]``; a bare name has weight 1.

    The rules are in this module's docstring. ``normalise=False`` keeps the weights as written."""
    items = [p.strip() for p in str(spec).split(",")]
    parts = []
    for item in filter(None, items):
        name, weight = split_weight(item)
        if len(name) > 1:
            name = name.rstrip("/") or name
        if not name:
            raise ConfigError(f"{what} blend item {item!r} in {spec!r} has no name; write NAME:WEIGHT, "
                              "e.g. 'a:0.7,b:0.3'")
        parts.append((name, 1.0 if weight is None else weight))
    if not parts:
        raise ConfigError(f"{what} {str(spec)!r} names no {what}; give a zoo name, a folder, or 'a:0.6,b:0.4'")
    names = [n for n, _ in parts]
    weights = check_weights([w for _, w in parts], what, spec, names)
    return list(zip(names, weights if normalise else [w for _, w in parts]))


def _family_name(family) -> str:
    classes = family if isinstance(family, tuple) else (family,)
    return " or ".join(c.__name__ for c in classes)


def _zoo_class(zoo, name):
    """The class of zoo entry ``name`` (from the zoo's index when it has one, else from the entry's config)."""
    from .pretrained import read_config
    from .process import PROCESS_CLASSES, process_class

    info = getattr(zoo, "info", None)
    if info is not None:
        klass = PROCESS_CLASSES.get(info(name).get("class", ""))
        if klass is not None:
            return klass
    folder = zoo.locate(name)
    return process_class(read_config(folder), folder)


def family_names(family) -> list[str]:
    """The zoo names (without revision, sorted) whose process is of ``family``."""
    from .pretrained import zoos

    names = set()
    for zoo in zoos():
        for name in zoo.list():
            try:
                if issubclass(_zoo_class(zoo, name), family):
                    names.add(name.split("@")[0])
            except XMediaError:  # a broken entry is reported when it is loaded, not here
                continue
    return sorted(names)


def _available(family, what: str) -> str:
    names = family_names(family)
    return f"{what}s in the zoo: {', '.join(names)}" if names else f"the zoo has no {what}"


def load_one(name, family, what: str, hint: str = "", map_location: str = "cpu"):
    """One saved process of ``family`` from a folder or a zoo name."""
    from .pretrained import CONFIG_NAME, locate, read_config, zoos
    from .process import Process, process_class

    if existing_path(name):
        folder = locate(name)  # a folder that is no saved process says so
    else:
        folder = next((Path(f) for zoo in zoos() if (f := zoo.locate(str(name))) is not None), None)
        if folder is None:
            raise WeightsError(f"{str(name)!r} is neither a saved {what} folder nor a {what} in the zoo; "
                               f"{_available(family, what)}" + (f"; {hint}" if hint else ""))
    cfg = read_config(folder)
    klass = process_class(cfg, folder / CONFIG_NAME)
    if not issubclass(klass, family):
        raise WeightsError(f"{str(name)!r} holds a {klass.__name__}, not a {what}; {_available(family, what)}"
                           + (f"; {hint}" if hint else ""))
    return Process.from_pretrained(folder, map_location)


def load_process(spec, family=None, what: str | None = None, blend_mode: str = "auto", hint: str = "",
                 map_location: str = "cpu"):
    """A process of ``family`` (default any ``Process``) from a process object, a folder, a zoo name or a blend
    ``"a:0.7,b:0.3"`` (``blend_processes``). ``what`` names the family in messages (``"timbre"``), ``hint``
    says how to get one (``"train one with xmedia train timbre ..."``)."""
    from .process import Process

    family = family or Process
    what = what or _family_name(family)
    if isinstance(spec, family):
        return spec
    if isinstance(spec, Process):
        raise ConfigError(f"a {type(spec).__name__} is not a {what}" + (f"; {hint}" if hint else ""))
    if not isinstance(spec, (str, os.PathLike)):
        raise ConfigError(f"a {what} is named by a folder, a zoo name or a blend 'a:0.7,b:0.3', "
                          f"not a {type(spec).__name__}")
    text = os.fspath(spec)
    parts = [(text, 1.0)] if existing_path(text) else parse_blend(text, what)
    members = [load_one(name, family, what, hint, map_location) for name, _ in parts]
    if len(members) == 1:
        return members[0]
    return blend_processes(members, [w for _, w in parts], blend_mode, what)


def blend_processes(processes, weights, mode: str = "auto", what: str = "process"):
    """One process for the weighted mix of several (weights normalised; a zero weight drops its process).

    ``mode="weights"`` interpolates their parameters (``auto`` picks it when all are ``compatible`` with the
    first), ``"outputs"`` mixes their outputs (the class's ``blend_outputs``). A running weighted average of
    pairwise ``Process.blend``, so it is exact for any number of processes and at every end."""
    from .process import Process

    processes = list(processes)
    weights = check_weights(weights, what)
    if len(weights) != len(processes):
        raise ConfigError(f"{len(processes)} {what}s and {len(weights)} weights: give one weight each")
    if mode not in BLEND_MODES:
        raise ConfigError(f"blend_mode must be 'auto', 'weights' or 'outputs', got {mode!r}")
    kept = [(p, w) for p, w in zip(processes, weights) if w > 0]
    if len(kept) == 1:
        return kept[0][0]
    if mode == "auto":
        mode = "weights" if all(kept[0][0].compatible(p) for p, _ in kept[1:]) else "outputs"
    out, acc = kept[0]
    for p, w in kept[1:]:
        acc += w
        out = Process.blend(out, p, min(1.0, w / acc), mode=mode)
    return out


# -- specs ----------------------------------------------------------------------------------------------------
def process_spec(process) -> dict:
    """``{"class", "module", "config"}``: what rebuilds ``process`` (its weights are saved beside it)."""
    return {"class": type(process).__name__, "module": type(process).__module__, "config": process.config}


def build_process(spec: dict, family=None):
    """A process from ``process_spec``'s form (weights as initialised until loaded); the module is imported
    when the class is not yet known."""
    from .process import Process, process_class

    if not isinstance(spec, dict) or "class" not in spec:
        raise ConfigError(f"a process spec is {{'class': name, 'config': {{...}}}}, got {spec!r}")
    try:
        klass = process_class(spec, "the spec")
    except WeightsError as exc:
        raise ConfigError(str(exc)) from None
    family = family or Process
    if not issubclass(klass, family):
        raise ConfigError(f"{klass.__name__} is not a {_family_name(family)}")
    return klass(**spec.get("config", {}))
