"""The shape of sessions/: one folder per capability, and imports that point one way.

Read from the source (every import statement, those inside functions too), so a new module that
reaches the wrong way fails here before anyone has to notice it in review.
"""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPABILITIES = ["booking", "care", "reminders", "flags", "demo", "online", "waitlist"]

# package -> the packages it must never import
FORBIDDEN = {
    "parlor": ["sessions", "screening", "clients"],
    "clients": ["sessions", "screening"],
    "sessions.booking": ["sessions.care", "sessions.flags", "sessions.demo", "sessions.online", "sessions.waitlist"],
    "sessions.reminders": ["sessions.care", "sessions.flags", "sessions.demo", "sessions.online", "sessions.waitlist"],
    "sessions.flags": ["sessions.care", "sessions.demo", "sessions.online", "sessions.waitlist"],
    "sessions.care": ["sessions.demo", "sessions.online", "sessions.waitlist"],
    # Online booking uses booking and reminders; the waiting list builds on online (the signed-in client).
    "sessions.online": ["sessions.care", "sessions.flags", "sessions.demo", "sessions.waitlist"],
    "sessions.waitlist": ["sessions.care", "sessions.flags", "sessions.demo"],
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources(package: str) -> list[Path]:
    folder = ROOT.joinpath(*package.split("."))
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    wrong = [
        f"{_module_name(path)} imports {name}"
        for path in _sources(package)
        for name in sorted(_imports(path))
        for banned in FORBIDDEN[package]
        if _within(name, banned)
    ]
    assert wrong == []


def test_screening_reaches_sessions_only_inside_functions():
    # screening answers sessions' questions; it may look at appointments lazily, never at import time.
    wrong = []
    for path in _sources("screening"):
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            wrong += [f"{_module_name(path)} imports {n}" for n in names if _within(n, "sessions")]
    assert wrong == []


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_each_capability_is_a_package_that_imports(capability):
    package = importlib.import_module(f"sessions.{capability}")
    modules = [p for p in _sources(f"sessions.{capability}") if p.name != "__init__.py"]
    assert modules
    for path in modules:
        importlib.import_module(_module_name(path))
    assert Path(package.__file__).parent == ROOT / "sessions" / capability


def test_no_flat_modules_left_beside_the_capabilities():
    flat = sorted(p.name for p in (ROOT / "sessions").glob("*.py"))
    assert flat == ["__init__.py", "admin.py", "apps.py", "localtime.py", "tasks.py", "urls.py"]
