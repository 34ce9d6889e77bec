"""The structure the product's design requires, checked on the source itself.

- Imports go one way: core (``xmedia/`` except the CLI shell) -> adapters -> bridges -> zoo, never back, and no
  cycle anywhere (a function-local import does not hide one: every import statement counts, and so does a
  ``"module:attr"`` step target).
- One definition of the perceptual axes, modules of about 400 lines at most, no machine paths.
- A third-party package adds a route step and a file format through entry points alone.
"""
import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"xmedia": ROOT / "xmedia", "xmedia.adapters": ROOT / "adapters", "xmedia.bridges": ROOT / "bridges",
            "xmedia.zoo": ROOT / "zoo"}
SHELL = ("xmedia", "xmedia.cli", "xmedia.commands")  # the facade's lazy names and the CLI may import anything
LAYER = {"xmedia": 0, "xmedia.adapters": 1, "xmedia.bridges": 2, "xmedia.zoo": 3}
TARGET = re.compile(r"^(xmedia(?:\.\w+)+):[\w.]+$")


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if name.startswith("xmedia.") and name.split(".")[1] in ("adapters", "bridges", "zoo") and package == "xmedia":
                continue
            found[name] = path
    return found


MODULES = modules()


def _resolve(name: str, is_pkg: bool, level: int, target: str | None) -> str:
    if level:
        base = name.split(".") if is_pkg else name.split(".")[:-1]
        base = base[: len(base) - (level - 1)]
        return ".".join(base + ([target] if target else []))
    return target or ""


def _owner(dotted: str) -> str | None:
    """The longest known module that ``dotted`` names or lies in."""
    while dotted:
        if dotted in MODULES:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def edges() -> dict[str, set[str]]:
    graph = {m: set() for m in MODULES}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mod = _resolve(name, is_pkg, node.level, node.module)
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TARGET.match(node.value):
                targets = [TARGET.match(node.value).group(1)]
            for t in targets:
                owner = _owner(t)
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


def test_the_source_tree_is_what_the_graph_sees():
    for expected in ("xmedia.routing", "xmedia.adapters.perceptual", "xmedia.bridges.base", "xmedia.zoo",
                     "xmedia.commands.soundtrack"):
        assert expected in MODULES
    assert "xmedia.routing" in edges()["xmedia.io"] or "xmedia.formats" in edges()["xmedia.io"]


def test_imports_go_one_way():
    reverse = []
    for src, dsts in edges().items():
        if layer(src) is None:
            continue
        for dst in dsts:
            if dst == "xmedia" or (layer(dst) is not None and layer(dst) > layer(src)):
                reverse.append(f"{src} -> {dst}")
            if layer(dst) is None and dst != "xmedia":
                reverse.append(f"{src} -> {dst} (the CLI shell)")
    assert not reverse, "imports against the direction core -> adapters -> bridges -> zoo:\n" + "\n".join(sorted(reverse))


def test_no_import_cycles():
    graph = edges()
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
    assert not cycles, f"import cycles (function-local imports included): {cycles}"


def test_a_reverse_import_would_be_caught(tmp_path):
    """The checker itself: a core module importing an adapter, even inside a function, is a reverse edge."""
    tree = ast.parse("def f():\n    from xmedia.adapters.perceptual import AXES\n")
    found = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert layer(_owner(found[0].module)) > layer("xmedia.io")


def test_axes_defined_once():
    where = [str(p.relative_to(ROOT)) for p in MODULES.values() if re.search(r"^AXES\s*=", p.read_text(), re.M)]
    assert where == ["adapters/perceptual/space.py"]


def test_modules_are_short():
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > 450}
    assert not long, f"modules over ~400 lines (split them by job): {long}"


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
    assert {"xmedia.adapters.perceptual", "xmedia.bridges.routes", "xmedia.zoo"} <= providers
    assert {"xmedia.io", "xmedia.embedding"} <= formats
    for module in providers | formats:
        assert _owner(module) == module, f"entry point {module} names no module of the tree"
