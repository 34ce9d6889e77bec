"""Type checks of route options, before any work: ``translate(img, to="image", style="starry", strength="abc")``
is a ``ConfigError`` naming the option and the type it needs, not a ``ValueError`` from deep inside a step.

A step declares its options as keyword parameters; their annotations (``strength: float = 1.0``,
``model: str = ...``) or, without one, their defaults' types say what each takes. Only what is certain is
checked: a number (``int``/``float``: any real number, or a string that reads as one, as a manifest may give)
and text (``str``: a name or a path, or an object such as a model, but not a number or a bool). An option whose
parameter has another type, a union with another type, or a ``None`` default without annotation is left to
the step. ``limits.check_options`` runs this for the route's steps.
"""
from __future__ import annotations

import inspect
import numbers

from .errors import ConfigError

_KIND_OF_TYPE = {"int": "number", "float": "number", "str": "text"}
_WHAT = {"number": "a number (e.g. 0.5)", "text": "a name or a path (a string)"}


def parameter_kinds(param: inspect.Parameter) -> set[str] | None:
    """What a step parameter takes: {"number"}, {"text"}, both, or None when that is not certain."""
    ann = param.annotation
    if isinstance(ann, str):
        names = {t.strip() for t in ann.split("|")}
    elif ann is not inspect.Parameter.empty:
        args = getattr(ann, "__args__", None)
        names = {getattr(t, "__name__", repr(t)) for t in args} if args else {getattr(ann, "__name__", repr(ann))}
    elif param.default is not inspect.Parameter.empty and param.default is not None:
        names = {type(param.default).__name__}
    else:
        return None
    names -= {"None", "NoneType"}
    kinds = {_KIND_OF_TYPE.get(n) for n in names}
    return None if not kinds or None in kinds else kinds


def fits(value, kinds: set[str]) -> bool:
    if value is None:
        return True  # the step's default
    if "number" in kinds:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return True
        if isinstance(value, str):
            try:
                float(value)
                return True
            except ValueError:
                pass
    if "text" in kinds and not isinstance(value, (numbers.Number, bool)):
        return True
    return False


def keyword_parameters(fn) -> dict[str, inspect.Parameter]:
    """A step callable's options: its keyword parameters after the input (a process object, anything with a
    ``run`` method, is read through ``run``). ``routing.keyword_options`` names the same parameters."""
    target = getattr(fn, "run", fn) if not inspect.isfunction(fn) else fn
    params = list(inspect.signature(target).parameters.values())[1:]
    return {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def step_parameters(step) -> dict[str, inspect.Parameter]:
    """A step's keyword parameters (none when its callable has no signature Python can read)."""
    try:
        return keyword_parameters(step.load())
    except (TypeError, ValueError):
        return {}


def check_option_types(options: dict, steps) -> None:
    """Raise ``ConfigError`` for an option whose value cannot be what a step of ``steps`` takes."""
    for step in steps:
        params = step_parameters(step)
        for name, value in options.items():
            kinds = parameter_kinds(params[name]) if name in params else None
            if kinds is None or fits(value, kinds):
                continue
            expected = " or ".join(_WHAT[k] for k in sorted(kinds))
            raise ConfigError(f"option {name} must be {expected}, got {value!r} ({type(value).__name__}); "
                              f"the step {step.name!r} takes it")
