"""The project's own exception types: every user-facing failure is one of these."""


class XMediaError(Exception):
    """Base class: something the user can fix (the message says what and how)."""


class MediaError(XMediaError, ValueError):
    """A file, buffer or array that is not valid media (corrupt, empty, NaN, wrong shape, unknown format)."""


class RouteError(XMediaError, LookupError):
    """No route, unknown domain/space/bridge name, or an option no step of the route accepts."""


class WeightsError(XMediaError, FileNotFoundError):
    """Model weights are missing, corrupt or do not match the architecture."""


class ConfigError(XMediaError, ValueError):
    """A bad option or configuration value."""


class LimitError(MediaError, ConfigError):
    """A size above one of the documented limits (``xmedia.limits``): a duration, rate, pixel count... The
    message names the value and the limit and how to raise it."""


class DecodeWarning(UserWarning):
    """Part of a file could not be decoded; what could be decoded is used (the warning says what was skipped)."""
