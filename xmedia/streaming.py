"""Live translation: frames from a file (at real-time pace), a camera or a stream URL -> timed commands.

``xmedia.stream(source, to="robot", urdf="franka_panda")`` yields one ``Command`` per control period (100 Hz
by default). A reader thread keeps only the newest frame, so when the analysis falls behind, frames are
dropped (and counted) instead of queueing up latency; the control loop keeps its own clock and never waits
for a frame. When frames stop (end of file, unplugged camera), the robot controller's stall timeout brings
the arm to a smooth stop. Senders forward commands: ``OSCSender`` (UDP, python-osc: TouchDesigner, Max, Pd,
robot bridges) and ``JSONLinesSender`` (stdout).

Targets are plug-ins: ``StreamTarget``s declared by the provider modules of the ``xmedia.providers`` entry-point
group (``xmedia.routing``). "robot" is the one shipped (``xmedia.bridges.robot_stream``); another package's target
(lights, a synth) only needs a controller ``controller(frame_rate_hz, **options)`` with ``on_frame(rgb, time_s)``,
``tick() -> Command``, ``stop()`` (begin a smooth stop), ``control_rate_hz``, ``time_s`` and ``at_rest``. Its
commands carry what the target defines: a ``Command`` with a ``payload`` dict, or a ``Command`` subclass with
typed fields (the robot's ``RobotCommand``: joint positions, velocities, accelerations).
"""
from __future__ import annotations

import inspect
import json
import math
import socket
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Iterator, Mapping

from . import limits
from .errors import ConfigError, MediaError, RouteError, XMediaError
from .routing import registry


class StreamError(XMediaError):
    """A live source or a command sink that cannot be used (unreachable address, send failure)."""


@dataclass(frozen=True)
class Command:
    """One control period's output of a stream target at ``time_s`` (seconds since the stream started).

    ``payload`` holds the values the target defines (JSON-able: ``{"brightness": 0.4}``). A target may subclass
    ``Command`` with typed fields instead, overriding ``values()`` (what senders write) and ``resting()`` (the
    last command of a stream: a robot's has zero velocity). ``OSC_FIELDS`` names the values ``OSCSender`` sends
    (None: every number or list of numbers)."""

    time_s: float
    payload: Mapping[str, Any] = field(default_factory=dict)
    frame_index: int | None = None  # the frame consumed in this period, if any
    dropped_frames: int = 0  # frames dropped so far
    latency_s: float | None = None  # frame in -> new targets out, for the period that consumed a frame
    stopping: bool = False
    OSC_FIELDS: ClassVar[tuple[str, ...] | None] = None

    def values(self) -> dict:
        """The target-defined values of this period."""
        return dict(self.payload)

    def resting(self) -> "Command":
        """This command as the last of a stream: the target is at rest."""
        return replace(self, stopping=True, frame_index=None, latency_s=None)

    def to_dict(self) -> dict:
        d = {"time_s": round(self.time_s, 6), **self.values(), "frame_index": self.frame_index,
             "dropped_frames": self.dropped_frames, "stopping": self.stopping}
        if self.latency_s is not None:
            d["latency_ms"] = round(self.latency_s * 1000, 3)
        return d

    def osc_values(self) -> dict:
        """The values ``OSCSender`` sends, each as ``{prefix}/{name}``."""
        values = self.values()
        names = self.OSC_FIELDS if self.OSC_FIELDS is not None else [k for k, v in values.items() if _numeric(v)]
        return {name: values[name] for name in names}


def _numeric(value) -> bool:
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_numeric(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------- sources
class FrameSource:
    """Frames from ``cv2.VideoCapture`` on a reader thread; only the newest is kept (older ones are dropped).

    ``source``: a file path (played at real-time pace from its timestamps), a camera index (int or digits)
    or a stream URL (rtsp://, http://, udp://...). ``realtime=False`` (files only) hands over every frame in
    order without pacing, for deterministic tests.
    """

    def __init__(self, source, realtime: bool = True):
        import cv2

        self.name = str(source)
        self.is_file = False
        if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
            arg = int(source)
        elif isinstance(source, (str, Path)) and "://" not in str(source):
            path = Path(source).expanduser()
            if path.is_dir():
                raise MediaError(f"video source {source!r} is a directory; give a video file, a camera index (0) "
                                 "or a URL")
            if not path.is_file():
                raise MediaError(f"video source {source!r} does not exist; give a video file, a camera index (0) or a URL")
            arg, self.is_file = str(path), True
        else:
            arg = str(source)
        self._cap = cv2.VideoCapture(arg)
        if not self._cap.isOpened():
            raise MediaError(
                f"cannot open video source {self.name!r}: OpenCV could not read it (check the camera index is "
                "plugged in, the URL is reachable, or the file is a video)"
            )
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and math.isfinite(fps) and 1 <= fps <= 240 else 30.0
        self.realtime = realtime or not self.is_file
        self.dropped = 0
        self.finished = False
        self._latest = None
        self._lock = threading.Lock()
        self._fresh = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self) -> None:
        """Start the reader thread (real-time sources); a file's clock starts now."""
        if self.realtime and self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"xmedia-frames-{self.name}", daemon=True)
            self._thread.start()

    def _read(self):
        import cv2

        ok, bgr = self._cap.read()
        if not ok:
            return None
        t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if self.is_file else None
        return t, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _run(self):
        start, index = time.monotonic(), 0
        while not self._stop.is_set():
            item = self._read()
            if item is None:
                break
            t_media, rgb = item
            if self.is_file:  # pace to the file's own timestamps
                t_media = t_media if t_media is not None else index / self.fps
                wait = start + t_media - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    break
            with self._lock:
                if self._latest is not None:
                    self.dropped += 1
                self._latest = (index, time.monotonic(), rgb)
            self._fresh.set()
            index += 1
        self.finished = True

    def poll(self):
        """The newest unseen frame ``(index, arrival_monotonic_s, rgb)`` or None (never blocks)."""
        if not self.realtime:
            raise ConfigError("poll() is for real-time sources; use next_frame() when realtime=False")
        with self._lock:
            item, self._latest = self._latest, None
        return item

    def next_frame(self, index: int):
        """Non-real-time files: the next frame ``(index, media_time_s, rgb)`` or None at the end."""
        item = self._read()
        if item is None:
            self.finished = True
            return None
        t, rgb = item
        return index, (t if t is not None else index / self.fps), rgb

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._cap.release()





def stream(source, to: str = "robot", duration_s: float | None = None, realtime: bool = True,
           stop: threading.Event | None = None, **options) -> Iterator[Command]:
    """Yield ``Command``s at the control rate while frames from ``source`` drive the target ``to`` ("robot").

    ``duration_s`` bounds the stream (cameras and URLs run until then); a file ends when its frames are over
    and the target has come to rest. ``realtime=False`` (files only) runs on a simulated clock, as fast as it
    can. However the stream ends -- ``duration_s`` reached, the source over, ``stop`` set (the CLI sets it on
    Ctrl-C and SIGTERM), a ``KeyboardInterrupt`` inside the loop -- the target is brought to rest first (the
    robot with a jerk-limited ramp): the last command is ``resting()``, with ``stopping=True`` (and, for the
    robot, zero velocity). A stalled source (no frame for the robot controller's ``stall_timeout_s``) brings the
    arm to rest too, and the stream goes on until it ends. Options go to the target's controller, which must
    take them (the robot's: ``urdf``, ``control_rate_hz``, ``range_fraction``, ``stall_timeout_s``,
    ``max_side``, ``seed``, ``speed_gain_rad_s``).
    """
    name = to.lower() if isinstance(to, str) else getattr(to, "KIND", str(to))
    targets = registry().stream_targets
    if name not in targets:
        raise RouteError(f"cannot stream to {to!r}; streaming targets: {sorted(targets)} (a package adds one by "
                         "declaring a StreamTarget in a module of its xmedia.providers entry points)")
    controller = targets[name].load()
    _check_options(name, controller, options)
    if duration_s is not None and not duration_s > 0:
        raise ConfigError(f"duration_s must be positive, got {duration_s}")
    if duration_s is not None:
        limits.check("duration_s", duration_s, "stream duration_s")
    src = FrameSource(source, realtime=realtime)
    try:
        ctrl = controller(src.fps, **options)
        loop = _realtime_loop if src.realtime else _simulated_loop
        interrupted, state = None, {}
        try:
            yield from loop(src, ctrl, duration_s, stop or threading.Event(), state)
        except KeyboardInterrupt as exc:  # raised inside the loop (e.g. during its sleep): stop safely first
            interrupted = exc
        yield from _come_to_rest(ctrl, state.get("last"), state.get("at_rest", False), paced=src.realtime)
        if interrupted is not None:
            raise interrupted
    finally:
        src.close()


MAX_STOP_S = 30.0  # a ramp to rest never takes this long; a target that does not stop is a bug


def _come_to_rest(ctrl, last: Command | None, at_rest: bool, paced: bool):
    """Ramp the target to rest (the controller's jerk-limited stop) and end with a zero-velocity command.

    ``last`` is the loop's last command (yielded already unless ``at_rest``: then it is the final one)."""
    dropped = last.dropped_frames if last is not None else 0
    if not at_rest:
        if hasattr(ctrl, "stop"):
            ctrl.stop()
        period = 1.0 / ctrl.control_rate_hz
        for _ in range(int(MAX_STOP_S / period)):
            cmd = replace(ctrl.tick(), dropped_frames=dropped)
            if ctrl.at_rest:
                break
            yield cmd
            if paced:
                time.sleep(period)
        else:
            raise StreamError(f"the stream target did not come to rest within {MAX_STOP_S} s")
    else:
        cmd = last
    yield cmd.resting()


def _check_options(name: str, controller, options: dict) -> None:
    """Refuse options the target's controller does not take (before the source is opened)."""
    params = list(inspect.signature(controller).parameters.values())[1:]  # after the frame rate
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise RouteError(f"the stream target {name!r} takes no option(s) {unknown}; it takes {sorted(accepted)}")


def _realtime_loop(src: FrameSource, ctrl, duration_s, stop: threading.Event, state: dict):
    """Commands until the stream should end; ``state["last"]`` is the last command, ``state["at_rest"]`` says
    whether it ended at rest (that last command is then not yielded: it becomes the final one)."""
    period = 1.0 / ctrl.control_rate_hz
    src.start()
    start = time.monotonic()
    next_tick = start
    while True:
        now = time.monotonic()
        if stop.is_set() or (duration_s is not None and now - start >= duration_s):
            return
        item = src.poll()
        latency = index = None
        if item is not None:
            index, _, rgb = item
            t0 = time.perf_counter()
            ctrl.on_frame(rgb, now - start)
            latency = time.perf_counter() - t0
        cmd = state["last"] = _with(ctrl.tick(), index, src.dropped, latency)
        if src.finished and item is None and ctrl.at_rest:
            state["at_rest"] = True  # the source is over and the arm at rest: this is the last command
            return
        yield cmd
        next_tick += period
        delay = next_tick - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        elif delay < -10 * period:  # far behind (a slow consumer): resynchronise instead of bursting
            next_tick = time.monotonic()


def _simulated_loop(src: FrameSource, ctrl, duration_s, stop: threading.Event, state: dict):
    index = 0
    pending = src.next_frame(index)
    while True:
        now = ctrl.time_s
        if stop.is_set() or (duration_s is not None and now >= duration_s):
            return
        latency = used = None
        if pending is not None and pending[1] <= now + 1e-9:
            used, _, rgb = pending
            t0 = time.perf_counter()
            ctrl.on_frame(rgb, pending[1])
            latency = time.perf_counter() - t0
            index += 1
            pending = src.next_frame(index)
        cmd = state["last"] = _with(ctrl.tick(), used, 0, latency)
        if pending is None and ctrl.at_rest:
            state["at_rest"] = True
            return
        yield cmd


def _with(cmd: Command, index, dropped, latency) -> Command:
    return replace(cmd, frame_index=index, dropped_frames=dropped, latency_s=latency)


# ---------------------------------------------------------------------------------------------- senders
def parse_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> (host, port), with clear errors."""
    host, sep, port = str(address).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"OSC address must be host:port (e.g. 127.0.0.1:9000), got {address!r}")
    return host.strip("[]"), int(port)


class OSCSender:
    """Send each command as OSC messages over UDP: ``{prefix}/{name}`` for each of its ``osc_values()`` (a robot's
    ``/positions`` and ``/velocities``), then ``{prefix}/time``."""

    def __init__(self, address: str, prefix: str = "/xmedia/robot"):
        from pythonosc.udp_client import SimpleUDPClient

        host, port = parse_address(address)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            probe = socket.socket(infos[0][0], socket.SOCK_DGRAM)
            try:
                probe.connect(infos[0][4])  # UDP connect sends nothing but fails if there is no route
            finally:
                probe.close()
            self._client = SimpleUDPClient(host, port)
        except OSError as exc:
            raise StreamError(f"OSC address {address!r} cannot be reached ({exc}); check the host name and "
                              "network, or leave out --osc to print JSON lines") from None
        self.address, self.prefix, self.sent = address, prefix.rstrip("/"), 0

    def send(self, cmd: Command) -> None:
        try:
            for name, value in cmd.osc_values().items():
                value = [float(x) for x in value] if isinstance(value, (list, tuple)) else float(value)
                self._client.send_message(f"{self.prefix}/{name}", value)
            self._client.send_message(f"{self.prefix}/time", float(cmd.time_s))
        except OSError as exc:
            raise StreamError(f"sending OSC to {self.address} failed ({exc}); is the receiver's network up?") from None
        self.sent += 1


class JSONLinesSender:
    """Write each command as one JSON object per line (stdout by default), flushed at once."""

    def __init__(self, out=None):
        self.out, self.sent = out or sys.stdout, 0

    def send(self, cmd: Command) -> None:
        self.out.write(json.dumps(cmd.to_dict()) + "\n")
        self.out.flush()
        self.sent += 1
