"""Start-up problems a user can fix are one sentence saying what to do, not a Qt abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aegui.__main__ import XCB_LIBRARIES, display_problem, missing_system_libraries


def test_without_any_display_the_app_says_so_and_exits():
    environment = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "aegui"], capture_output=True, text=True, timeout=60, env=environment)
    assert result.returncode == 1
    assert "neither DISPLAY nor WAYLAND_DISPLAY is set" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def xcb_loads() -> bool:
    import ctypes

    try:
        ctypes.CDLL("libxcb.so.1")
    except OSError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux") or not xcb_loads(), reason="asks libxcb whether an X server answers")
def test_a_display_no_x_server_answers_on_is_said_in_one_line_not_a_qt_abort(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    environment["DISPLAY"] = ":97"  # no server there (its socket would be /tmp/.X11-unix/X97)
    assert not Path("/tmp/.X11-unix/X97").exists()
    result = subprocess.run([sys.executable, "-m", "aegui"], capture_output=True, text=True, timeout=60, env=environment, cwd=tmp_path)
    server = "aegui cannot open a window: no X server answers on DISPLAY=:97 (is that desktop session still running? For a virtual one, start aegui under xvfb-run)"
    missing = missing_system_libraries()  # a machine without Qt's X libraries is told both
    expected = server + (f"; and Qt needs system libraries that are missing; install them with: sudo apt-get install {' '.join(missing)}" if missing else ".")
    assert (result.returncode, result.stderr.strip()) == (1, expected)


def test_a_dead_display_and_missing_libraries_are_both_said_in_one_line(monkeypatch):
    monkeypatch.setattr("aegui.__main__.missing_system_libraries", lambda: ["libxcb-icccm4"])
    monkeypatch.setattr("aegui.__main__.x_server_answers", lambda display: False)
    problem = display_problem({"DISPLAY": ":5"}, "linux")
    assert problem.startswith("aegui cannot open a window: no X server answers on DISPLAY=:5")
    assert problem.endswith("; and Qt needs system libraries that are missing; install them with: sudo apt-get install libxcb-icccm4")
    monkeypatch.setattr("aegui.__main__.x_server_answers", lambda display: True)
    assert display_problem({"DISPLAY": ":5"}, "linux") == "aegui cannot open a window: Qt needs system libraries that are missing; install them with: sudo apt-get install libxcb-icccm4"


def test_missing_x11_libraries_are_named_by_package(monkeypatch):
    monkeypatch.setattr("aegui.__main__.missing_system_libraries", lambda: [p for lib, p in XCB_LIBRARIES.items() if lib in ("libxcb-shape.so.0", "libEGL.so.1")])
    problem = display_problem({"DISPLAY": ":0"}, "linux")
    assert problem.endswith("sudo apt-get install libegl1 libxcb-shape0")


def test_the_library_probe_reports_what_cannot_be_loaded():
    assert missing_system_libraries({"libdoes-not-exist.so.9": "no-such-package", "libc.so.6": "libc6"}) == ["no-such-package"]


def test_offscreen_wayland_and_other_systems_need_no_x11_check():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({}, "darwin") is None


BASE_LIBRARIES = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1", "libzstd.so.1", "ld-linux-x86-64.so.2", "libdl.so.2", "libpthread.so.0", "librt.so.1"}


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("readelf") is None, reason="reads Linux ELF files with readelf")
def test_the_library_list_names_everything_the_x11_plugin_and_qt_need_directly():
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *(qt / "lib" / f"libQt6{name}.so.6" for name in ("XcbQpa", "Gui", "Core", "DBus"))]
    needed = set()
    for path in files:
        dynamic = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
        needed |= {line.split("[", 1)[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line}
    shipped = {path.name for path in (qt / "lib").iterdir()}
    assert needed - shipped - BASE_LIBRARIES <= set(XCB_LIBRARIES)
