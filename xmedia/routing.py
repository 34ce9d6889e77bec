"""Route planning: encoders, bridges and decoders as edges of a graph; ``translate`` runs the cheapest path.

Nodes are media kinds (``"video"``, ``"audio"``, ``"filter"``, ``"robot"``...), spaces (``"space:perceptual"``,
``"space:clip"``) and decoder controls (``"controls:composer"``). Each step is registered with a cost and a
lazy factory, so registering costs nothing and heavy libraries load only when a route runs. Providers are
modules with a ``register(registry)`` function, imported on the first ``routes()`` / ``translate()`` call.
"""
from __future__ import annotations

import heapq
import importlib
import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .errors import RouteError, WeightsError
from .media import kind_of

PROVIDERS = [
    "xmedia.adapters.perceptual",
    "xmedia.adapters.composer",
    "xmedia.adapters.lut",
    "xmedia.adapters.optical_flow",
    "xmedia.adapters.robot",
    "xmedia.adapters.open_clip",
    "xmedia.adapters.hf_clip",
    "xmedia.adapters.clap",
    "xmedia.adapters.musicgen",
    "xmedia.adapters.audioldm",
    "xmedia.adapters.img2img",
    "xmedia.adapters.minilm",
    "xmedia.zoo",
]


@dataclass(frozen=True)
class Step:
    """One edge: ``factory()`` returns a callable ``fn(x, **options) -> y`` (called once per route run).

    ``options`` names the keyword options the step accepts; ``accepts(x)`` may refuse an input (a video with
    no audio track); ``only_for`` restricts the step to routes that end at one of those nodes; ``available()``
    says whether its weights/libraries are present (unavailable steps are skipped unless asked for by name).
    """

    name: str
    src: str
    dst: str
    factory: Callable[[], Callable[..., Any]]
    cost: float = 1.0
    kind: str = "bridge"
    options: tuple[str, ...] = ()
    description: str = ""
    accepts: Callable[[Any], bool] | None = None
    only_for: tuple[str, ...] | None = None
    available: Callable[[], bool] | None = None

    def is_available(self) -> bool:
        return self.available is None or bool(self.available())

    def __str__(self):
        return f"{self.name}: {self.src} -> {self.dst}"


@dataclass
class Route:
    steps: list[Step]

    @property
    def nodes(self) -> list[str]:
        return [self.steps[0].src] + [s.dst for s in self.steps]

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.steps)

    def options(self) -> set[str]:
        return {o for s in self.steps for o in s.options}

    def run(self, x, **options):
        unknown = set(options) - self.options()
        if unknown:
            raise RouteError(
                f"option(s) {sorted(unknown)} are not accepted by any step of the route {self}; "
                f"accepted: {sorted(self.options()) or 'none'}"
            )
        for step in self.steps:
            fn = step.factory()
            mine = {k: v for k, v in options.items() if k in step.options}
            x = fn(x, **mine)
        return x

    def __str__(self):
        return " -> ".join([self.steps[0].src] + [f"[{s.name}] {s.dst}" for s in self.steps])


@dataclass
class Registry:
    steps: dict[str, Step] = field(default_factory=dict)
    _loaded: bool = False

    def add(self, step: Step) -> Step:
        self.steps[step.name] = step
        return step

    def register(self, name, src, dst, factory, **kw) -> Step:
        return self.add(Step(name=name, src=src, dst=dst, factory=factory, **kw))

    def load_providers(self, providers: Iterable[str] = PROVIDERS) -> "Registry":
        if self._loaded:
            return self
        self._loaded = True
        for mod_name in providers:
            try:
                mod = importlib.import_module(mod_name)
            except ModuleNotFoundError as exc:
                if exc.name and mod_name.startswith(exc.name):
                    continue  # provider not shipped in this install: its routes are simply absent
                warnings.warn(f"{mod_name} needs {exc.name!r}, which is not installed: its routes are skipped "
                              "(pip install 'xmedia[all]')", RuntimeWarning, stacklevel=2)
                continue
            mod.register(self)
        return self

    def nodes(self) -> set[str]:
        return {s.src for s in self.steps.values()} | {s.dst for s in self.steps.values()}

    def plan(self, src: str, dst: str, via: Iterable[str] = (), x: Any = None, bridge: Step | None = None) -> Route:
        """Cheapest route from ``src`` to ``dst`` through every node/step named in ``via`` (in order)."""
        via = [_node_name(v) for v in via]
        steps = list(self.steps.values()) + ([bridge] if bridge is not None else [])
        must = list(via) + ([bridge.name] if bridge is not None else [])
        named = set(must)
        usable = [
            s
            for s in steps
            if (s.only_for is None or dst in s.only_for)
            and (s.is_available() or s.name in named or s.src in named or s.dst in named)
        ]
        # Dijkstra over (node, how many `must` items are satisfied so far, first step taken?).
        start = (0.0, 0, src, 0, ())
        heap, seen, counter = [start], set(), 1
        while heap:
            cost, _, node, k, path = heapq.heappop(heap)
            if node == dst and k == len(must) and path:
                return Route(list(path))
            if (node, k) in seen:
                continue
            seen.add((node, k))
            for s in usable:
                if s.src != node or (not path and x is not None and s.accepts is not None and not s.accepts(x)):
                    continue
                if s.dst in {p.src for p in path} and s.dst != dst:
                    continue  # no loops, except back to the source's kind (audio -> space -> new audio)
                k2 = k
                while k2 < len(must) and must[k2] in (s.name, s.dst):
                    k2 += 1
                heapq.heappush(heap, (cost + s.cost, counter, s.dst, k2, path + (s,)))
                counter += 1
        self._raise_no_route(src, dst, via, bridge)

    def _raise_no_route(self, src, dst, via, bridge):
        reachable = sorted(n for n in self._reachable(src) if not n.startswith(("space:", "controls:")))
        known = sorted(n for n in self.nodes() if not n.startswith("controls:"))
        extra = f" via {via}" if via else ""
        extra += f" with bridge {bridge.name!r}" if bridge is not None else ""
        raise RouteError(
            f"no route from {src!r} to {dst!r}{extra}. From {src!r} you can reach: {reachable or 'nothing'}. "
            f"Known domains and spaces: {known}. Run `xmedia routes` to list every step."
        )

    def _reachable(self, src: str) -> set[str]:
        out, todo = set(), [src]
        while todo:
            n = todo.pop()
            for s in self.steps.values():
                if s.src == n and s.dst not in out and s.is_available():
                    out.add(s.dst)
                    todo.append(s.dst)
        return out

    def routes(self) -> list[tuple[str, str, Route]]:
        """The cheapest available route for every (input kind, output kind) pair."""
        kinds = sorted(n for n in self.nodes() if ":" not in n)
        found = []
        for a in kinds:
            for b in kinds:
                if a == b:
                    continue
                try:
                    found.append((a, b, self.plan(a, b)))
                except RouteError:
                    pass
        return found


_REGISTRY = Registry()


def registry() -> Registry:
    return _REGISTRY.load_providers()


def _node_name(target) -> str:
    if isinstance(target, type):
        kind = getattr(target, "KIND", None)
        if kind is None:
            raise RouteError(f"{target.__name__} is not an xmedia type; use Audio, Image, Video, Motion, Text, ...")
        return kind
    if isinstance(target, str):
        t = target.lower()
        if t in {"clip", "clap", "perceptual", "minilm"}:
            return f"space:{t}"
        return t
    raise RouteError(f"cannot use {target!r} as a route target; give a type (Audio) or a name ('audio')")


def _source_node(x) -> str:
    from .embedding import Embedding

    if isinstance(x, Embedding):
        return f"space:{x.space}"
    return kind_of(x)


def _bridge_step(bridge, reg: Registry) -> Step:
    if isinstance(bridge, str):
        if bridge not in reg.steps:
            raise RouteError(f"unknown bridge {bridge!r}; known steps: {sorted(reg.steps)}")
        return reg.steps[bridge]
    src, dst = getattr(bridge, "src", None), getattr(bridge, "dst", None)
    if not (src and dst and callable(bridge)):
        raise RouteError("bridge= takes a step name or a Bridge object with .src and .dst nodes")
    opts = tuple(p for p in inspect.signature(bridge.__call__).parameters if p not in ("self", "x"))
    name = f"custom:{type(bridge).__name__}"
    return Step(name=name, src=src, dst=dst, factory=lambda: bridge, cost=0.0, options=opts)


def plan(x, to, via=None, bridge=None) -> Route:
    """The route ``translate`` would run (inspect it with ``str(route)``)."""
    reg = registry()
    via = [via] if isinstance(via, str) else list(via or [])
    b = _bridge_step(bridge, reg) if bridge is not None else None
    if b is not None and b.name in reg.steps:
        via, b = via + [b.name], None
    return reg.plan(_source_node(x), _node_name(to), via=via, x=x, bridge=b)


def translate(x, to, via=None, bridge=None, **options):
    """Translate ``x`` into the medium ``to`` along the cheapest route (``via=`` / ``bridge=`` to choose)."""
    route = plan(x, to, via=via, bridge=bridge)
    missing = [s for s in route.steps if not s.is_available()]
    if missing:
        raise WeightsError(
            f"step {missing[0].name!r} needs weights or packages that are not installed: {missing[0].description}"
        )
    return route.run(x, **options)


def routes() -> list[tuple[str, str, Route]]:
    return registry().routes()
