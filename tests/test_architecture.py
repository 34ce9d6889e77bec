"""The structure the product's design requires, checked on the source itself.

- Imports go one way: core (``xmedia/`` except the CLI shell) -> adapters -> bridges -> zoo, never back, and no
  cycle anywhere. A function-local import does not hide one: every import statement counts, and so do a
  ``"module:attr"`` step target, a module named by a string to ``import_module`` / ``importlib.import_module`` /
  ``__import__`` (directly or through a module-level constant), and a run-time entry-point reach-up.
- Entry points are the plug-in mechanism, and which look-ups through them are allowed is decided here:

  * allowed: a core service (a module of ``xmedia/``) reading a whole group, in name order, and handing each
    plug-in's contributions to whoever asks (``xmedia.routing`` collects the providers' steps,
    ``xmedia.pretrained.locate(name)`` asks every registered zoo). The core depends on no plug-in: the plug-ins
    depend on it. So an adapter may call ``xmedia.pretrained.locate("visual-onsets")``: it names a saved process,
    not the package that has it, and works (or falls back) whichever zoos are installed;
  * a reach-up: a module of ``adapters/``, ``bridges/`` or ``zoo/`` reading a group itself
    (``entry_points(group="xmedia.zoos")``) depends on every module registered there, as an import would;
  * a reach-up too, in any layer: picking one entry by name (``entry_points(group=..., name="zoo")``,
    ``entry_points(group=...)["zoo"]``) depends on the module it names, as an import would.

  The groups' modules are read from pyproject.toml; both kinds of reach-up become edges of the import graph, so the
  one-way and no-cycle tests judge them like imports.
- One definition of the perceptual axes, modules of 400 lines at most (tests exempt), no machine paths.
- A third-party package adds a route step and a file format through entry points alone.
"""
import ast
import json
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"xmedia": ROOT / "xmedia", "xmedia.adapters": ROOT / "adapters", "xmedia.bridges": ROOT / "bridges",
            "xmedia.zoo": ROOT / "zoo"}
SHELL = ("xmedia", "xmedia.cli", "xmedia.commands")  # the facade's lazy names and the CLI may import anything
LAYER = {"xmedia": 0, "xmedia.adapters": 1, "xmedia.bridges": 2, "xmedia.zoo": 3}
TARGET = re.compile(r"^(xmedia(?:\.\w+)+):[\w.]+$")
IMPORT_CALLS = ("import_module", "__import__")  # also reached as importlib.import_module
ENTRY_POINT_CALLS = ("entry_points", "select")  # importlib.metadata.entry_points(group=...), eps.select(group=...)
MAX_LINES = 400


def modules(packages=PACKAGES) -> dict[str, Path]:
    found = {}
    for package, folder in packages.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if name.startswith("xmedia.") and name.split(".")[1] in ("adapters", "bridges", "zoo") and package == "xmedia":
                continue
            found[name] = path
    return found


def entry_point_groups(pyproject=ROOT / "pyproject.toml") -> dict[str, dict[str, str]]:
    """``{group: {entry name: module}}`` as pyproject.toml registers them."""
    groups = tomllib.loads(Path(pyproject).read_text())["project"].get("entry-points", {})
    return {g: {k: v.split(":", 1)[0].strip() for k, v in eps.items()} for g, eps in groups.items()}


MODULES = modules()
GROUPS = entry_point_groups()


def _resolve(name: str, is_pkg: bool, level: int, target: str | None) -> str:
    if level:
        base = name.split(".") if is_pkg else name.split(".")[:-1]
        base = base[: len(base) - (level - 1)]
        return ".".join(base + ([target] if target else []))
    return target or ""


def _owner(dotted: str, mods=None) -> str | None:
    """The longest known module that ``dotted`` names or lies in."""
    mods = MODULES if mods is None else mods
    while dotted:
        if dotted in mods:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def _constants(tree) -> dict[str, list[str]]:
    """Module-level names bound to a string or a tuple/list of strings (``GROUP = "xmedia.zoos"``)."""
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            value = node.value
            items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
            strings = [v.value for v in items if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            if strings and len(strings) == len(items):
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(t, ast.Name):
                        found[t.id] = strings
    return found


def _call_name(node) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _keyword(node: ast.Call, name: str):
    return next((k.value for k in node.keywords if k.arg == name), None)


class _Source:
    """One module's parsed source, with what its names hold (its string constants and what it imports)."""

    def __init__(self, name: str, path: Path):
        self.name, self.is_pkg = name, path.name == "__init__.py"
        self.tree = ast.parse(path.read_text(), str(path))
        self.constants = _constants(self.tree)
        self.imported = {}  # local name -> (module, name there), for a constant imported from another module
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                mod = _resolve(name, self.is_pkg, node.level, node.module)
                for a in node.names:
                    self.imported[a.asname or a.name] = (mod, a.name)

    def strings(self, node, sources: dict) -> list[str]:
        """The strings an expression holds, where that is known from the source alone (else none)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return self.constants[node.id]
            mod, attr = self.imported.get(node.id, (None, None))
            if mod in sources:
                return sources[mod].constants.get(attr, [])
            if node.id in ("__name__", "__package__"):
                return [self.name if self.is_pkg or node.id == "__name__" else self.name.rpartition(".")[0]]
        return []


def _imported_by_call(src: _Source, node: ast.Call, sources: dict) -> list[str]:
    """``import_module("x.y")``, ``import_module(".y", __package__)``, ``__import__("x.y")``."""
    if _call_name(node) not in IMPORT_CALLS or not node.args:
        return []
    found = []
    package = node.args[1] if len(node.args) > 1 else _keyword(node, "package")
    for target in src.strings(node.args[0], sources):
        if target.startswith("."):
            level = len(target) - len(target.lstrip("."))
            for base in src.strings(package, sources) if package is not None else []:
                found.append(_resolve(base, True, level, target.lstrip(".") or None))
        else:
            found.append(target)
    return found


def _entry_point_reach(src: _Source, node, sources: dict, groups: dict) -> list[str]:
    """The modules a run-time entry-point look-up depends on (see the module docstring for the rules)."""
    picked = None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call):  # entry_points(group=...)["zoo"]
        picked, node = src.strings(node.slice, sources), node.value
    if not isinstance(node, ast.Call) or _call_name(node) not in ENTRY_POINT_CALLS:
        return []
    group = _keyword(node, "group")
    if group is None:
        return []
    if picked is None and _keyword(node, "name") is not None:
        picked = src.strings(_keyword(node, "name"), sources)
    found = []
    for g in src.strings(group, sources):
        registered = groups.get(g, {})
        if picked is not None:
            found += [registered[n] for n in picked if n in registered]
        elif layer(src.name) not in (0, None):  # the core (and its CLI shell) reading a whole group is the mechanism
            found += registered.values()
    return found


def edges(mods=None, groups=None) -> dict[str, set[str]]:
    """``{module: the modules it depends on}``: imports, ``"module:attr"`` targets, ``import_module`` strings and
    entry-point reach-ups (``mods``/``groups`` default to this tree and its pyproject.toml)."""
    mods = MODULES if mods is None else mods
    groups = GROUPS if groups is None else groups
    sources = {name: _Source(name, path) for name, path in mods.items()}
    graph = {m: set() for m in mods}
    for name, src in sources.items():
        for node in ast.walk(src.tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mod = _resolve(name, src.is_pkg, node.level, node.module)
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TARGET.match(node.value):
                targets = [TARGET.match(node.value).group(1)]
            elif isinstance(node, ast.Call):
                targets = _imported_by_call(src, node, sources) + _entry_point_reach(src, node, sources, groups)
            elif isinstance(node, ast.Subscript):
                targets = _entry_point_reach(src, node, sources, groups)
            for t in targets:
                owner = _owner(t, mods)
                if owner and owner != name:
                    graph[name].add(owner)
    return graph


def layer(module: str) -> int | None:
    if module == "xmedia" or module.startswith(("xmedia.cli", "xmedia.commands")):
        return None
    for package in ("xmedia.zoo", "xmedia.bridges", "xmedia.adapters"):
        if module == package or module.startswith(package + "."):
            return LAYER[package]
    return LAYER["xmedia"]


def reverse_edges(graph) -> list[str]:
    reverse = []
    for src, dsts in graph.items():
        if layer(src) is None:
            continue
        for dst in dsts:
            if dst == "xmedia" or (layer(dst) is not None and layer(dst) > layer(src)):
                reverse.append(f"{src} -> {dst}")
            if layer(dst) is None and dst != "xmedia":
                reverse.append(f"{src} -> {dst} (the CLI shell)")
    return sorted(reverse)


def test_the_source_tree_is_what_the_graph_sees():
    for expected in ("xmedia.routing", "xmedia.adapters.perceptual", "xmedia.bridges.base", "xmedia.zoo",
                     "xmedia.commands.soundtrack"):
        assert expected in MODULES
    assert "xmedia.routing" in edges()["xmedia.io"] or "xmedia.formats" in edges()["xmedia.io"]
    assert "xmedia.zoos" in GROUPS and "xmedia.providers" in GROUPS


def test_imports_go_one_way():
    reverse = reverse_edges(edges())
    assert not reverse, "imports against the direction core -> adapters -> bridges -> zoo:\n" + "\n".join(reverse)


def cycles_of(graph) -> list[list[str]]:
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycles():
    cycles = cycles_of(edges())
    assert not cycles, f"import cycles (function-local imports included): {cycles}"


SYNTHETIC = {  # a tree with each kind of violation, and the allowed plug-in look-up
    "xmedia/__init__.py": "",
    "xmedia/plain.py": "def f():\n    import xmedia.bridges.base\n",
    "xmedia/from_import.py": "def f():\n    from xmedia.adapters.perceptual import AXES\n",
    "xmedia/by_string.py": "import importlib\n\ndef f():\n    return importlib.import_module('xmedia.bridges.base')\n",
    "xmedia/by_constant.py": "from importlib import import_module\nMOD = 'xmedia.zoo'\n\ndef f():\n"
                             "    return import_module(MOD)\n",
    "xmedia/by_dunder.py": "def f():\n    return __import__('xmedia.adapters.perceptual')\n",
    "xmedia/relative.py": "from importlib import import_module\n\ndef f():\n"
                          "    return import_module('.adapters.perceptual', 'xmedia')\n",
    "xmedia/target.py": "T = 'xmedia.bridges.base:Bridge'\n",
    "xmedia/service.py": "from importlib import metadata\nGROUP = 'xmedia.zoos'\n\ndef zoos():\n"
                         "    return [e.load() for e in metadata.entry_points(group=GROUP)]\n",
    "xmedia/picks_one.py": "from importlib.metadata import entry_points\n\ndef zoo():\n"
                           "    return entry_points(group='xmedia.zoos', name='zoo')\n",
    "adapters/__init__.py": "",
    "adapters/perceptual.py": "AXES = ()\n",
    "adapters/video.py": "from importlib import metadata\nfrom xmedia.service import GROUP\n\ndef encode():\n"
                         "    return [e.load() for e in metadata.entry_points(group=GROUP)]\n",
    "adapters/subscript.py": "from importlib.metadata import entry_points\n\ndef f():\n"
                             "    return entry_points(group='xmedia.zoos')['zoo'].load()\n",
    "adapters/uses_service.py": "from xmedia.service import zoos\n\ndef f():\n    return zoos()\n",
    "bridges/__init__.py": "",
    "bridges/base.py": "Bridge = object\n",
    "zoo/__init__.py": "",
}


def test_each_kind_of_violation_is_caught(tmp_path):
    """The checker itself, on a synthetic tree: ``edges()`` must see every kind of dependency on a higher layer."""
    for rel, text in SYNTHETIC.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    mods = modules({"xmedia": tmp_path / "xmedia", "xmedia.adapters": tmp_path / "adapters",
                    "xmedia.bridges": tmp_path / "bridges", "xmedia.zoo": tmp_path / "zoo"})
    graph = edges(mods, groups={"xmedia.zoos": {"zoo": "xmedia.zoo"}})
    reverse = set(reverse_edges(graph))
    expected = {
        "xmedia.plain -> xmedia.bridges.base",  # a plain import, inside a function
        "xmedia.from_import -> xmedia.adapters.perceptual",  # a from-import
        "xmedia.by_string -> xmedia.bridges.base",  # importlib.import_module("...")
        "xmedia.by_constant -> xmedia.zoo",  # import_module(A_CONSTANT)
        "xmedia.by_dunder -> xmedia.adapters.perceptual",  # __import__("...")
        "xmedia.relative -> xmedia.adapters.perceptual",  # import_module(".x", package)
        "xmedia.target -> xmedia.bridges.base",  # a "module:attr" step target
        "xmedia.picks_one -> xmedia.zoo",  # the core picking one plug-in by name
        "xmedia.adapters.video -> xmedia.zoo",  # an adapter reading the zoos' group (a constant imported)
        "xmedia.adapters.subscript -> xmedia.zoo",  # entry_points(group=...)["zoo"]
    }
    assert expected <= reverse, f"not seen: {sorted(expected - reverse)}"
    assert "xmedia.zoo" not in graph["xmedia.service"]  # a core service reading a whole group: the mechanism
    assert graph["xmedia.adapters.uses_service"] == {"xmedia.service"}  # asking that service: allowed
    assert not reverse - expected


def test_a_cycle_through_a_string_import_is_caught(tmp_path):
    (tmp_path / "xmedia").mkdir()
    (tmp_path / "xmedia" / "a.py").write_text("from . import b\n")
    (tmp_path / "xmedia" / "b.py").write_text("import importlib\nM = importlib.import_module('xmedia.a')\n")
    graph = edges(modules({"xmedia": tmp_path / "xmedia"}), groups={})
    assert cycles_of(graph) == [["xmedia.a", "xmedia.b"]]


def test_adapters_reach_zoo_processes_through_the_core_service_only(monkeypatch):
    """``encode_video``'s default onset model is a zoo name: the adapter asks ``xmedia.pretrained.locate``, which
    asks every registered zoo. With no zoo registered, the adapter still works (the classic detector)."""
    import xmedia.pretrained as pretrained
    from xmedia.adapters.onsets.model import DEFAULT, resolve

    assert pretrained.locate(DEFAULT).is_dir()  # found by the shipped zoo, through its entry point...
    monkeypatch.setattr(pretrained, "zoos", lambda: [])
    with pytest.warns(UserWarning, match="classic"):
        assert resolve(DEFAULT) is None  # ...and without any zoo the adapter falls back instead of failing


def test_axes_defined_once():
    where = [str(p.relative_to(ROOT)) for p in MODULES.values() if re.search(r"^AXES\s*=", p.read_text(), re.M)]
    assert where == ["adapters/perceptual/space.py"]


def test_modules_are_short():
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"


def test_no_machine_paths_in_code_or_docs():
    files = list(MODULES.values()) + list((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
    bad = [str(p.relative_to(ROOT)) for p in files if re.search(r"/work/|/home/\w+/", p.read_text())]
    assert not bad, f"machine-specific paths (use ../shared/... or a setting): {bad}"


def test_third_party_backend_through_entry_points(tmp_path):
    """A package installed beside xmedia adds a route step and a file format without editing xmedia."""
    site = tmp_path / "site"
    src = ROOT / "tests" / "plugin_demo" / "xmedia_demo_backend"
    (site / "xmedia_demo_backend").mkdir(parents=True)
    (site / "xmedia_demo_backend" / "__init__.py").write_text((src / "__init__.py").read_text())
    dist = site / "xmedia_demo_backend-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: xmedia-demo-backend\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[xmedia.providers]\ndemo = xmedia_demo_backend\n\n"
                                           "[xmedia.formats]\ndemo = xmedia_demo_backend\n")
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(site)!r})
        import xmedia
        route = xmedia.plan(xmedia.Text("x"), to="audio", via="demo-morse")
        audio = xmedia.translate(xmedia.Text("sos"), to="audio", via="demo-morse", tone_hz=800)
        xmedia.Text("hello").save({str(tmp_path / "note.morse")!r})
        back = xmedia.load({str(tmp_path / "note.morse")!r})
        print(json.dumps({{"steps": [s.name for s in route.steps], "options": sorted(route.options()),
                           "seconds": float(audio.duration_s), "back": back.text}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout.strip().splitlines()[-1])
    assert d["steps"] == ["demo-morse"] and d["options"] == ["dot_s", "tone_hz"]
    assert d["seconds"] == pytest.approx((1 + 1 + 3 + 1 + 1 + 1) * 0.05, abs=1e-3)  # s . o - s .
    assert d["back"] == "hello"


def test_core_steps_and_formats_come_from_entry_points():
    from importlib import metadata

    providers = {ep.value for ep in metadata.entry_points(group="xmedia.providers")}
    formats = {ep.value for ep in metadata.entry_points(group="xmedia.formats")}
    areas = {ep.value for ep in metadata.entry_points(group="xmedia.areas")}
    media = {ep.value for ep in metadata.entry_points(group="xmedia.media_types")}
    assert {"xmedia.adapters.perceptual", "xmedia.bridges.routes", "xmedia.zoo"} <= providers
    assert {"xmedia.io", "xmedia.embedding"} <= formats
    assert {"xmedia.commands.soundtrack", "xmedia.commands.robot"} <= areas
    assert {"xmedia.media", "xmedia.embedding"} <= media
    for module in providers | formats | areas | media:
        assert _owner(module) == module, f"entry point {module} names no module of the tree"
    assert areas == set(GROUPS["xmedia.areas"].values())  # the installed metadata is pyproject's (pip install -e .)


def test_cli_areas_run_in_their_documented_order():
    """Built-in areas keep their order (``ORDER`` 10..100); the first ``write_result`` that returns True wins."""
    from xmedia.commands import DEFAULT_ORDER, areas

    found = areas()
    orders = [getattr(a, "ORDER", DEFAULT_ORDER) for a in found]
    assert orders == sorted(orders) and all(isinstance(o, int) for o in orders)
    assert [a.__name__.rsplit(".", 1)[1] for a in found][:3] == ["soundtrack", "look", "robot"]
