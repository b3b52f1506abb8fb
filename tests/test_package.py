"""The built wheel installs into a fresh virtual environment and runs from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

START_AND_QUIT = """
import sys
from PySide6.QtWidgets import QApplication
import aegui.__main__ as entry
from aegui.qt import main_window

original_init = main_window.MainWindow.__init__

def init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)

    def shown(session):
        print("MODEL", session.model.path, session.latent_dim, flush=True)
        QApplication.instance().quit()

    self.model_shown.connect(shown)
    self.model_refused.connect(lambda message: (print("REFUSED", message, flush=True), QApplication.instance().quit()))

main_window.MainWindow.__init__ = init
sys.exit(entry.main(["--settings", sys.argv[1]]))
"""


def dependency_paths() -> list[str]:
    """Where this interpreter finds the installed dependencies (torch, PySide6...), without any
    checkout of aegui itself. Inside a virtual environment these are the environment's own
    folders, which a new venv's ``system_site_packages`` would not see (it sees the base
    interpreter's), so they are handed over explicitly."""
    return [entry for entry in sys.path if entry and Path(entry).is_dir() and not (Path(entry) / "aegui").is_dir() and not (Path(entry) / "training").is_dir()]


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """A wheel built from this checkout, installed into a new venv that reuses the installed dependencies."""
    folder = tmp_path_factory.mktemp("package")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder / "dist"), str(REPO)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((folder / "dist").glob("aegui-*.whl"))
    venv.EnvBuilder(with_pip=False).create(folder / "venv")
    python = folder / "venv" / "bin" / "python"
    site_packages = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True, check=True).stdout.strip()
    Path(site_packages, "dependencies-of-the-test-run.pth").write_text("\n".join(dependency_paths()) + "\n")
    # --ignore-installed: the aegui that the handed-over folders may show is not this one; nothing is uninstalled
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    return wheel, python, elsewhere


def run_installed(python: Path, args: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_STATE_HOME": str(cwd), "XDG_CACHE_HOME": str(cwd), **env}
    environment.pop("PYTHONPATH", None)
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=environment)


def test_the_wheel_holds_the_bundled_models_and_reference_digits(installed_wheel):
    wheel, _, _ = installed_wheel
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("aegui/resources/checkpoints/mnist-conv-k32.ckpt", "aegui/resources/checkpoints/mnist-conv-k2.ckpt", "aegui/resources/data/mnist-sample-images-idx3-ubyte.gz", "aegui/resources/data/mnist-sample-labels-idx1-ubyte.gz", "aegui/resources/icons/aegui.png", "training/configs/mnist-conv-k32.yaml", "aegui-0.1.0.dist-info/licenses/LICENSE"):
        assert expected in names
    top_level = {name.split("/")[0] for name in names if not name.startswith("aegui-0.1.0.dist-info")}
    assert top_level == {"aegui", "training"}  # no generic top-level names such as resources/


def test_the_installed_app_starts_on_the_bundled_model_from_another_folder(installed_wheel):
    _, python, elsewhere = installed_wheel
    result = run_installed(python, ["-c", START_AND_QUIT, str(elsewhere / "settings.ini")], elsewhere)
    assert result.returncode == 0, result.stderr[-3000:]
    model_line = next(line for line in result.stdout.splitlines() if line.startswith(("MODEL", "REFUSED")))
    _, path, latent_dim = model_line.split()
    assert latent_dim == "32" and path.endswith("mnist-conv-k32.ckpt")
    assert str(python.parents[1]) in path  # the installed copy, not this checkout's
    assert str(REPO) not in path


def test_the_installed_trainer_evaluates_a_bundled_checkpoint(installed_wheel, tiny_mnist_dir):
    _, python, elsewhere = installed_wheel
    located = run_installed(python, ["-c", "from aegui.core.resources import CHECKPOINTS_DIR; print(CHECKPOINTS_DIR / 'mnist-conv-k2.ckpt')"], elsewhere)
    checkpoint = located.stdout.strip()
    assert str(REPO) not in checkpoint and Path(checkpoint).is_file()
    result = run_installed(python.with_name("aegui-train"), ["evaluate", checkpoint, "--data-dir", str(tiny_mnist_dir), "--fashion-dir", str(tiny_mnist_dir), "--robustness-digits", "0", "--json"], elsewhere)  # tiny stand-ins: the install is tested here, not the figures
    assert result.returncode == 0, result.stderr[-3000:]
    assert '"test_mse"' in result.stdout
