"""The layering promises, checked by import-linter, by the import graph and by a cold interpreter."""

import os
import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports) if lint_imports.exists() else "lint-imports", "--config", str(REPO / "pyproject.toml")], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next((c for c in children if c in graph.modules), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return cycles


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("aegui", "training")
    assert module_cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert module_cycles(graph) == [["a.x", "a.y"]]


def test_the_app_does_not_import_lightning():
    code = "import sys, aegui.__main__, aegui.qt.main_window, aegui.core.session; print(any(m.split('.')[0] in ('lightning', 'pytorch_lightning', 'training') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert result.stdout.strip() == "False", result.stderr


def test_the_window_is_built_and_painted_before_torch_is_imported():
    """Importing torch takes seconds: start-up paints the window first and loads torch with
    the model in the background, so no module the window is built from may import it."""
    code = (
        "import sys, tempfile\n"
        "from PySide6.QtCore import QSettings\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from aegui.__main__ import create_window\n"
        "window = create_window(QSettings(tempfile.mkdtemp() + '/s.ini', QSettings.Format.IniFormat))\n"
        "window.show()\n"
        "app.processEvents()\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == "False", result.stderr


def test_torch_is_imported_past_pysides_import_hook_which_stays_in_place():
    """Start-up imports torch without PySide6's per-module source scan; PySide's hook is back
    in place afterwards and Qt works as before."""
    code = (
        "import builtins, sys\n"
        "from PySide6.QtWidgets import QApplication, QLabel\n"
        "hooked = builtins.__import__\n"
        "from aegui.__main__ import import_torch\n"
        "torch = import_torch()\n"
        "app = QApplication([])\n"
        "label = QLabel('drawn')\n"
        "print(builtins.__import__ is hooked, hooked is not builtins.__orig_import__, torch is sys.modules['torch'], label.text())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)})
    assert result.stdout.split() == ["True", "True", "True", "drawn"], result.stderr


def test_the_kernel_imports_without_lightning():
    code = "import sys, aegui.core.networks, aegui.core.idx, aegui.core.model_files, training.statistics; print(any(m.split('.')[0] in ('lightning', 'pytorch_lightning') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.strip() == "False", result.stderr


MAX_MODULE_LINES = 400


def test_every_module_has_one_job_and_stays_under_400_lines():
    """A module past 400 lines has grown a second job: split it by job, not by line count."""
    long_modules = {str(path.relative_to(REPO)): count for package in ("aegui", "training") for path in sorted((REPO / package).rglob("*.py")) if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long_modules == {}
