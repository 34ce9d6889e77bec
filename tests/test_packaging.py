"""The package ships its data files: a wheel install must find the lexicon, robot limits and zoo weights."""
import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")


def test_every_data_file_is_package_data():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    data, dirs = cfg["package-data"], cfg["package-dir"]
    missed = []
    for package, folder in dirs.items():
        patterns = data.get(package, [])
        base = ROOT / folder
        for path in base.rglob("*"):
            rel = path.relative_to(base).as_posix()
            if path.is_dir() or path.suffix in (".py", ".pyc", ".png") or "__pycache__" in rel:
                continue
            if package == "xmedia" and rel.startswith("commands/"):
                continue
            if not any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel, p.replace("**/", "")) for p in patterns):
                missed.append(f"{folder}/{rel}")
    assert not missed, f"not in [tool.setuptools.package-data]: {missed}"


def test_import_is_light():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys, xmedia; xmedia.routes(); "
                          "print(sorted(m for m in ('torch', 'cv2', 'av', 'transformers', 'matplotlib') if m in sys.modules))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"  # heavy libraries load when a route runs, not on import or planning


def test_every_package_folder_is_listed():
    """A wheel holds only the packages pyproject lists: a new subpackage must be added there."""
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed, dirs = set(cfg["packages"]), cfg["package-dir"]
    found = set()
    for package, folder in dirs.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            name = ".".join((package, *rel))
            if not any(name.startswith(other + ".") or name == other for other in dirs if other != package
                       and other.startswith(package + ".")):
                found.add(name)
    assert found <= listed, f"packages missing from [tool.setuptools] packages: {sorted(found - listed)}"
