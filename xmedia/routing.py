"""Route planning: encoders, bridges and decoders as edges of a graph; ``translate`` runs the cheapest path.

Nodes are media kinds (``"video"``, ``"audio"``, ``"filter"``, ``"robot"``...), spaces (``"space:perceptual"``,
``"space:clip"``) and decoder controls (``"controls:composer"``). A step is declared once, where its code
lives, with the ``@step`` decorator; its options are the keyword parameters of its signature. Providers are
modules named in the ``xmedia.providers`` entry-point group (so another package adds backends without editing
xmedia); each is imported on the first ``routes()`` / ``translate()`` call and its declared ``Step``s (and
``provide_steps()``, for steps known only at run time) are collected, with its ``StreamTarget``s and the spaces
it names in ``SPACES`` (``SPACES = ("clip",)``: ``node_name("clip")`` is then ``"space:clip"``). A step's target
may be a ``"module:attr"`` string, imported only when a route runs it (torch stays unloaded until then).
"""
from __future__ import annotations

import heapq
import inspect
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable, Iterable

from .errors import RouteError, WeightsError
from .limits import check_options
from .media import kind_of, media_types, registered_kind
from .node_kinds import NodeKind, check_step_output
from .option_types import keyword_parameters
from .plugins import entry_modules, import_plugins

PROVIDER_GROUP = "xmedia.providers"


def resolve(ref: str) -> Any:
    """The object a ``"package.module:attr"`` reference names (imported on first use)."""
    module, _, attr = ref.partition(":")
    obj = import_module(module)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


def keyword_options(fn: Callable) -> tuple[str, ...]:
    """The options a step callable takes: its keyword parameters after the input (``run``'s for a process)."""
    return tuple(keyword_parameters(fn))


@dataclass(frozen=True, eq=False)
class Step:
    """One edge of the route graph: ``target(x, **options) -> y``.

    ``target`` is a callable or a ``"module:attr"`` reference to one (a class named that way is instantiated
    once, with its default config). ``accepts(x)`` may refuse an input (a video with no audio track);
    ``only_for`` restricts the step to routes that end at one of those nodes; ``available()`` says whether
    its weights/libraries are present (unavailable steps are skipped unless asked for by name). ``when`` is a
    predicate on the translation's options: such a step is used only when the options select it
    (``when(options)`` is true), and then the planner takes a route through a selected step when one exists
    (``style="sfx"`` picks the motion-driven sound effects, ``timbre="violin"`` the timbre decoder).
    """

    name: str
    src: str
    dst: str
    target: Callable[..., Any] | str
    cost: float = 1.0
    kind: str = "bridge"
    description: str = ""
    accepts: Callable[[Any], bool] | None = None
    only_for: tuple[str, ...] | None = None
    available: Callable[[], bool] | None = None
    when: Callable[[dict], bool] | None = None
    _loaded: dict = field(default_factory=dict, repr=False)

    def load(self) -> Callable[..., Any]:
        """The callable this step runs (its module imported, its class instantiated, on first use)."""
        if "fn" not in self._loaded:
            try:
                fn = resolve(self.target) if isinstance(self.target, str) else self.target
            except (ImportError, AttributeError) as exc:
                raise RouteError(f"step {self.name!r} cannot load {self.target!r} ({exc}); reinstall the package "
                                 "that provides it (pip install 'xmedia[all]')") from None
            self._loaded["fn"] = fn() if isinstance(fn, type) else fn
        return self._loaded["fn"]

    @property
    def options(self) -> tuple[str, ...]:
        return keyword_options(self.load())

    def is_available(self) -> bool:
        return self.available is None or bool(self.available())

    def __call__(self, x, **options):
        return self.load()(x, **options)

    def __str__(self):
        return f"{self.name}: {self.src} -> {self.dst}"


def step(src: str, dst: str, *, name: str | None = None, cost: float = 1.0, kind: str = "bridge",
         description: str | None = None, accepts=None, only_for=None, available=None, when=None):
    """Declare ``fn(x, **options)`` as a route step: ``@step(src="video", dst="space:perceptual", cost=1)``.

    The function is returned unchanged (still callable directly); its ``__xmedia_step__`` is the ``Step`` the
    registry collects when it imports the provider module."""

    def declare(fn):
        doc = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
        fn.__xmedia_step__ = Step(name or fn.__name__.replace("_", "-"), src, dst, fn, cost=cost, kind=kind,
                                  description=description or doc, accepts=accepts,
                                  only_for=tuple(only_for) if only_for else None, available=available,
                                  when=when)
        return fn

    return declare


@dataclass(frozen=True)
class StreamTarget:
    """A live target for ``xmedia.stream``: ``controller(frame_rate_hz, **options)`` with ``on_frame`` and ``tick``."""

    name: str
    controller: Callable[..., Any] | str

    def load(self):
        return resolve(self.controller) if isinstance(self.controller, str) else self.controller


@dataclass(frozen=True)
class Trace:
    """What a route computed: the input, then each step's output (``trace["space:perceptual"]``)."""

    route: "Route"
    values: tuple

    @property
    def output(self):
        return self.values[-1]

    def get(self, node: str, default=None):
        for n, v in zip(reversed(self.route.nodes), reversed(self.values)):
            if n == node:
                return v
        return default

    def __getitem__(self, node: str):
        missing = object()
        value = self.get(node, missing)
        if value is missing:
            raise KeyError(f"the route {self.route} does not pass through {node!r}")
        return value


@dataclass
class Route:
    steps: list[Step]
    node_kinds: dict[str, NodeKind] = field(default_factory=dict, repr=False)  # its registry's: what nodes hold

    @property
    def nodes(self) -> list[str]:
        return [self.steps[0].src] + [s.dst for s in self.steps]

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.steps)

    def options(self) -> set[str]:
        return {o for s in self.steps for o in s.options}

    def run(self, x, trace: bool = False, **options):
        """Run every step in turn; ``trace=True`` returns a ``Trace`` of every intermediate value."""
        missing = [s for s in self.steps if not s.is_available()]
        if missing:
            raise WeightsError(f"step {missing[0].name!r} needs weights or packages that are not installed: "
                               f"{missing[0].description}")
        check_options(options, self.steps)  # sizes above a limit, values of the wrong type: before any work
        unknown = set(options) - self.options()
        if unknown:
            raise RouteError(
                f"option(s) {sorted(unknown)} are not accepted by any step of the route {self}; "
                f"accepted: {sorted(self.options()) or 'none'}"
            )
        values = [x]
        for s in self.steps:
            accepted = set(s.options)
            x = s(x, **{k: v for k, v in options.items() if k in accepted})
            check_step_output(s, x, self.node_kinds)  # a step returning another kind than its dst fails here
            values.append(x)
        return Trace(self, tuple(values)) if trace else x

    def __str__(self):
        return " -> ".join([self.steps[0].src] + [f"[{s.name}] {s.dst}" for s in self.steps])


def provider_modules() -> list[str]:
    """Module names in the ``xmedia.providers`` entry-point group, in name order."""
    names = entry_modules(PROVIDER_GROUP)
    if not names:
        raise RouteError("no route providers are registered: xmedia's package metadata is missing. Install it "
                         "(pip install -e . in a checkout) so its xmedia.providers entry points exist")
    return names


def declared_steps(module) -> list[Step]:
    """The steps a provider module declares: ``@step`` functions, ``Step`` objects, and ``provide_steps()``."""
    found = []
    for obj in list(vars(module).values()):
        st = obj if isinstance(obj, Step) else getattr(obj, "__xmedia_step__", None)
        if isinstance(st, Step):
            found.append(st)
    extra = getattr(module, "provide_steps", None)
    if callable(extra):
        found.extend(extra())
    return found


@dataclass
class Registry:
    steps: dict[str, Step] = field(default_factory=dict)
    stream_targets: dict[str, StreamTarget] = field(default_factory=dict)
    node_kinds: dict[str, NodeKind] = field(default_factory=dict)  # what a node holds, where KIND does not say
    spaces: set[str] = field(default_factory=set)  # the providers' SPACES: "clip" names the node "space:clip"
    _loaded: bool = False

    def add(self, item: Step | StreamTarget | NodeKind):
        if isinstance(item, StreamTarget):
            self.stream_targets[item.name] = item
        elif isinstance(item, NodeKind):
            self.node_kinds[item.name] = item
        else:
            self.steps[item.name] = item
        return item

    def add_module(self, module) -> None:
        for st in declared_steps(module):
            self.add(st)
        for obj in list(vars(module).values()):
            if isinstance(obj, (StreamTarget, NodeKind)):
                self.add(obj)
        self.spaces.update(getattr(module, "SPACES", ()))

    def load_providers(self, modules: Iterable[str] | None = None) -> "Registry":
        if self._loaded:
            return self
        self._loaded = True
        for mod in import_plugins(provider_modules() if modules is None else modules, "the routes"):
            self.add_module(mod)
        return self

    def nodes(self) -> set[str]:
        return {s.src for s in self.steps.values()} | {s.dst for s in self.steps.values()}

    def plan(self, src: str, dst: str, via: Iterable[str] = (), x: Any = None, bridge: Step | None = None,
             options: dict | None = None) -> Route:
        """Cheapest route from ``src`` to ``dst`` through every node/step named in ``via`` (in order).

        ``options`` (the translation's options) select the steps declared with ``when``: a route through one of
        the selected steps is preferred; a step whose ``when`` does not hold is not used."""
        via = [node_name(v) for v in via]
        steps = list(self.steps.values()) + ([bridge] if bridge is not None else [])
        must = list(via) + ([bridge.name] if bridge is not None else [])
        named = set(must)
        selected = {s.name for s in steps if s.when is not None and s.when(dict(options or {}))}
        usable = [
            s
            for s in steps
            if (s.only_for is None or dst in s.only_for)
            and (s.when is None or s.name in selected or s.name in named)
            and (s.is_available() or s.name in named or s.src in named or s.dst in named)
        ]
        for need_selected in ((True, False) if selected else (False,)):
            route = self._search(src, dst, must, usable, x, selected if need_selected else None)
            if route is not None:
                return route
        self._raise_no_route(src, dst, via, bridge)

    def _search(self, src, dst, must, usable, x, selected) -> Route | None:
        # Dijkstra over (node, how many `must` items are satisfied so far, a selected step taken?).
        heap, seen, counter = [(0.0, 0, src, 0, selected is None, ())], set(), 1
        while heap:
            cost, _, node, k, took, path = heapq.heappop(heap)
            if node == dst and k == len(must) and took and path:
                return Route(list(path), self.node_kinds)
            if (node, k, took) in seen:
                continue
            seen.add((node, k, took))
            for s in usable:
                if s.src != node or (not path and x is not None and s.accepts is not None and not s.accepts(x)):
                    continue
                if s.dst in {p.src for p in path} and s.dst != dst:
                    continue  # no loops, except back to the source's kind (audio -> space -> new audio)
                k2 = k
                while k2 < len(must) and must[k2] in (s.name, s.dst):
                    k2 += 1
                heapq.heappush(heap, (cost + s.cost, counter, s.dst, k2, took or s.name in selected, path + (s,)))
                counter += 1
        return None

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


def space_names() -> frozenset[str]:
    """The spaces the providers declare in ``SPACES`` (``"perceptual"``, ``"clip"``...)."""
    return frozenset(registry().spaces)


def node_name(target) -> str:
    """A route node from a type (``Audio``), a kind (``"audio"``) or a space name (``"clip"``)."""
    if isinstance(target, type):
        kind = registered_kind(target)
        if kind is None:
            raise RouteError(f"{target.__name__} is not an xmedia type; use Audio, Image, Video, Motion, Text, ...")
        return kind
    if isinstance(target, str):
        t = target.lower()
        if ":" in t or t in media_types():  # a medium's kind is never a space: no need to load the providers
            return t
        return f"space:{t}" if t in space_names() else t
    raise RouteError(f"cannot use {target!r} as a route target; give a type (Audio) or a name ('audio')")


def source_node(x) -> str:
    space = getattr(x, "space", None)
    if kind_of(x) == "embedding" and space:
        return f"space:{space}"
    return kind_of(x)


def bridge_step(bridge, reg: Registry) -> Step:
    """A ``bridge=`` argument as a step: a registered step's name, or a process object with ``src``/``dst``."""
    if isinstance(bridge, str):
        if bridge not in reg.steps:
            raise RouteError(f"unknown bridge {bridge!r}; known steps: {sorted(reg.steps)}")
        return reg.steps[bridge]
    src, dst = getattr(bridge, "src", None), getattr(bridge, "dst", None)
    if not (src and dst and callable(bridge)):
        raise RouteError("bridge= takes a step name or a Process object with .src and .dst nodes")
    return Step(name=f"custom:{type(bridge).__name__}", src=src, dst=dst, target=bridge, cost=0.0)


def plan(x, to, via=None, bridge=None, options: dict | None = None) -> Route:
    """The route ``translate`` would run for these ``options`` (inspect it with ``str(route)``)."""
    reg = registry()
    via = [via] if isinstance(via, str) else list(via or [])
    b = bridge_step(bridge, reg) if bridge is not None else None
    if b is not None and b.name in reg.steps:
        via, b = via + [b.name], None
    return reg.plan(source_node(x), node_name(to), via=via, x=x, bridge=b, options=options)


def translate(x, to, via=None, bridge=None, trace: bool = False, **options):
    """Translate ``x`` into the medium ``to`` along the cheapest route (``via=`` / ``bridge=`` to choose).

    ``trace=True`` returns a ``Trace`` holding every intermediate value (the embedding, the decoder's
    controls...) with the result as ``trace.output``."""
    return plan(x, to, via=via, bridge=bridge, options=options).run(x, trace=trace, **options)


def routes() -> list[tuple[str, str, Route]]:
    return registry().routes()
