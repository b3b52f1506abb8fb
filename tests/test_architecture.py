"""The layering promises, checked by import-linter and by a cold interpreter."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports) if lint_imports.exists() else "lint-imports", "--config", str(REPO / "pyproject.toml")], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_app_does_not_import_lightning():
    code = "import sys, aegui.__main__, aegui.qt.main_window, aegui.core.session; print(any(m.split('.')[0] in ('lightning', 'pytorch_lightning') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert result.stdout.strip() == "False", result.stderr


def test_networks_import_without_lightning():
    code = "import sys, training.networks, training.idx, training.statistics; print(any(m.split('.')[0] in ('lightning', 'pytorch_lightning') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.strip() == "False", result.stderr
