"""The window on a 1366 x 768 and a 1280 x 720 screen, in every configuration a user can reach,
and the texts that must read as written.

The layout matrix runs tests/qt/layout_probe.py once per screen (Qt's offscreen platform
configured as that screen; both at once): a probe walks every visible widget of each
configuration and reports what a user would see cut. docs/layout.md shows the matrix and how to
run the same probe under Xvfb.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from aegui.core.model_names import distinguishing_names
from aegui.qt.painting.math_text import X_HAT, draws_hat_over_x, rendered
from tests.qt.conftest import SIGNAL_TIMEOUT_MS, canvas_points, draw_stroke, wait_until_idle
from tests.qt.layout_probe import make_tiny_checkpoints

REPO = Path(__file__).resolve().parents[2]
SCREENS = [(1366, 768), (1280, 720)]
EXPECTED_CONFIGURATIONS = 44  # 21 with and without the maps extra, and noise on and two models compared with it only


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """k = 16 and k = 64 checkpoints of small networks (k = 2 and 32 are bundled)."""
    folder = tmp_path_factory.mktemp("layout-models")
    make_tiny_checkpoints(folder)
    return folder


def start_probe(models: Path, screen: tuple[int, int], folder: Path) -> subprocess.Popen:
    config = folder / f"screen-{screen[0]}x{screen[1]}.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": screen[0], "height": screen[1], "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    environment = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    workspace = folder / f"probe-{screen[0]}"
    workspace.mkdir()
    for checkpoint in models.glob("*.ckpt"):
        shutil.copy(checkpoint, workspace / checkpoint.name)
    command = [sys.executable, "-m", "tests.qt.layout_probe", "--models", str(workspace)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, cwd=REPO)


def test_every_configuration_fits_a_1366x768_and_a_1280x720_screen(tiny_models, tmp_path):
    probes = {screen: start_probe(tiny_models, screen, tmp_path) for screen in SCREENS}  # both at once
    failures = []
    for screen, probe in probes.items():
        out, err = probe.communicate(timeout=600)
        assert probe.returncode == 0, "\n".join(line for line in err.splitlines() if "This plugin does not support" not in line)[-3000:]  # Qt's offscreen notes hide the traceback
        report = json.loads(out.strip().splitlines()[-1])
        assert report["screen"] == list(screen)
        assert len(report["results"]) == EXPECTED_CONFIGURATIONS  # every configuration was reached and checked
        failures += [f"{screen[0]}x{screen[1]} {name}: {problem}" for name, problems in report["results"].items() for problem in problems]
    assert not failures, "\n".join(failures)


def test_x_hat_is_drawn_with_its_hat_over_the_x(qtbot, window):
    view = window.decoded_view
    font = view.images.font()
    assert draws_hat_over_x(font) or "ŷ" in view.error_caption  # a hat over the x, or the precomposed ŷ
    formula = view.error_caption[view.error_caption.index("(") :]  # "(x − x̂)²": short enough to be drawn whole
    caption_hat = rendered(formula, font) < 128
    caption_plain = rendered(formula.replace(X_HAT, "x").replace("ŷ", "y"), font) < 128
    assert not caption_hat[:, 0].any() and not caption_hat[:, -1].any()  # nothing cut off at the edges
    assert caption_hat.sum() > caption_plain.sum()  # the hat is drawn: more ink than without it
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    assert view.error_formula in view.error_label.text()


def test_the_hat_check_tells_a_lost_hat_or_one_beside_the_x_from_one_over_it(qapp, monkeypatch):
    import aegui.qt.painting.math_text as math_text

    font = math_text.math_font(QFont())
    assert math_text.draws_hat_over_x(font) or math_text.math_text(X_HAT, font)[0] == "ŷ"
    monkeypatch.setattr(math_text, "X_HAT", "x")  # the hat lost, as some fonts draw it
    assert not math_text.draws_hat_over_x(font)
    monkeypatch.setattr(math_text, "X_HAT", "x^")  # a hat beside the x
    assert not math_text.draws_hat_over_x(font)


def test_models_in_compare_are_told_apart_by_their_run(qtbot, window, default_checkpoint, k2_checkpoint, tmp_path):
    for run, source in (("run-a", default_checkpoint), ("run-b", k2_checkpoint)):
        (tmp_path / run / "checkpoints").mkdir(parents=True)
        shutil.copy(source, tmp_path / run / "checkpoints" / "best.ckpt")
    checkpoint = torch.load(tmp_path / "run-b" / "checkpoints" / "best.ckpt", weights_only=True)
    checkpoint["epoch"] = 7  # Lightning's index of the epoch it was saved in: the eighth
    torch.save(checkpoint, tmp_path / "run-b" / "checkpoints" / "best.ckpt")
    paths = [tmp_path / "run-a" / "checkpoints" / "best.ckpt", tmp_path / "run-b" / "checkpoints" / "best.ckpt"]
    assert distinguishing_names(paths) == ["run-a/best", "run-b/best"]
    assert distinguishing_names([default_checkpoint, paths[0]]) == ["mnist-conv-k32", "best"]
    with qtbot.waitSignal(window.explorer.comparison_changed, timeout=SIGNAL_TIMEOUT_MS):
        window.explorer.open_comparison(paths)
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    status = window.compare_panel.status.text()
    assert "A: run-b/best (k = 2, epoch 8)" in status and "B: run-a/best (k = 32)" in status
    assert window.compare_panel.strip.tooltips[0].startswith("A: run-b/best (k = 2, epoch 8)")
    assert window.windowTitle() == "aegui — mnist-conv-k32.ckpt (k = 32)"  # a bundled model: its name alone
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(paths[1])
    assert window.windowTitle() == "aegui — run-b/best.ckpt (k = 2)"  # every run's best is best.ckpt: its run tells it apart
    assert "run-b/best.ckpt" in window.model_panel.text()  # the Model panel too (it said "best.ckpt")
    assert window.statusBar().currentMessage().startswith("Loaded run-b/best.ckpt: k = 2")
    # and so does every other place that names a model: the noise robustness rows, the recent
    # files, the refusal that says which model stays loaded (each said "best" or "best.ckpt")
    qtbot.waitUntil(lambda: len(window.robustness.results) == 2, timeout=SIGNAL_TIMEOUT_MS)
    assert [name for name, _ in window.robustness.results] == ["run-b/best", "run-a/best"]
    with qtbot.waitSignal(window.model_shown, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(paths[0])
    recent = [action.text() for action in window.recent_menu.actions()]
    assert recent[:2] == ["run-a/best.ckpt", "run-b/best.ckpt"] and window.recent_menu.toolTipsVisible()
    (tmp_path / "notes.ckpt").write_text("meeting notes")
    with qtbot.waitSignal(window.model_refused, timeout=SIGNAL_TIMEOUT_MS):
        window.open_model(tmp_path / "notes.ckpt")
    assert "Still using run-a/best.ckpt." in window._error_box.text()


def test_edit_by_meaning_previews_the_sweep_while_its_slider_moves(qtbot, window):
    from training.stroke_properties import thickness

    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    window.explore_tabs.setCurrentIndex(window.explore_tabs.count() - 1)
    panel = window.direction_panel
    assert len(panel.strip.images) == 0
    slider = panel.sliders["thickness"]
    slider.setFocus()
    for _ in range(3):  # key presses a user makes: each a request, the latest wins
        QTest.keyClick(slider, Qt.Key.Key_Right)
    wait_until_idle(qtbot, window)
    images = panel.strip.images
    assert len(images) == 9 and slider.value() == 3
    widths = thickness(np.array(images))
    assert widths[-1] > widths[0]  # thinner to thicker, before any export
    assert np.allclose(images, window.explorer.direction_sweep("thickness"), atol=1e-5)
    # in a dock as short as a 768-pixel screen leaves it, the sweep is in view beside the
    # slider being moved (under the five sliders it was scrolled out of view)
    window.resizeDocks([window.explore_dock], [150], Qt.Orientation.Vertical)
    QApplication.processEvents()
    slider.setFocus()
    QTest.keyClick(slider, Qt.Key.Key_Right)
    wait_until_idle(qtbot, window)
    shown = panel.strip.visibleRegion().boundingRect()
    assert slider.visibleRegion().boundingRect().height() > 0
    assert shown.top() <= panel.strip.image_rect(0).top() and shown.bottom() >= panel.strip.image_rect(0).bottom()
    draw_stroke(window.canvas, canvas_points(window.canvas, "one"))
    wait_until_idle(qtbot, window)
    assert len(panel.strip.images) == 0  # a new sketch: a new starting point, no stale sweep


def test_exports_and_the_sweep_they_need_run_off_the_gui_thread(qtbot, window, tmp_path, monkeypatch):
    import threading

    import aegui.qt.export_actions as export_actions

    threads = []
    for name in ("save_strip", "save_image_png"):
        original = getattr(export_actions, name)

        def recorded(*args, original=original):
            threads.append(threading.current_thread())
            return original(*args)

        monkeypatch.setattr(export_actions, name, recorded)
    decode_threads = []
    draw_stroke(window.canvas, canvas_points(window.canvas, "seven"))
    wait_until_idle(qtbot, window)
    session = window.explorer.session
    original_decode = type(session).decode_many
    monkeypatch.setattr(type(session), "decode_many", lambda self, codes: (decode_threads.append(threading.current_thread()), original_decode(self, codes))[1])
    window.explore_tabs.setCurrentIndex(window.explore_tabs.count() - 1)  # Edit by meaning: the sweep of the direction moved is computed for the export
    window.direction_panel.sliders["thickness"].setValue(20)
    wait_until_idle(qtbot, window)
    with qtbot.waitSignal(window.exports.saved, timeout=SIGNAL_TIMEOUT_MS):
        assert window.exports.export_strip(tmp_path / "sweep.gif")
    with qtbot.waitSignal(window.exports.saved, timeout=SIGNAL_TIMEOUT_MS):
        window.exports.export_sketch(tmp_path / "sketch.png")
    assert (tmp_path / "sweep.gif").is_file() and (tmp_path / "sketch.png").is_file()
    assert len(threads) == 2 and decode_threads
    assert all(thread is not threading.main_thread() for thread in threads + decode_threads)


def test_at_the_windows_smallest_the_decoded_views_captions_keep_every_word_whole(qtbot, window):
    """Shrunk as far as it goes, "reconstruction" was cut to "econstructio" and "where h looks
    (click a bar)" lost its top and bottom: the row never gets narrower than its captions need."""
    images = window.decoded_view.images
    window.showNormal()
    window.resize(1, 1)  # the window's minimum
    QApplication.processEvents()
    metrics = images.fontMetrics()
    cell = images.width() / images.count
    assert cell >= metrics.horizontalAdvance("reconstruction") + 2
    room = metrics.height() * 2 + 2
    for caption in (images.caption(index) for index in range(images.count)):
        assert metrics.boundingRect(0, 0, int(cell), 10 * room, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, caption).height() <= room, caption


def test_the_model_panel_names_its_file_on_one_line_in_a_laptops_dock(qtbot, window):
    """At a first start's 1366 x 740 layout the file's name sat in the value column and broke at
    a hyphen ("mnist-conv-" / "k32.ckpt"): it now heads the panel across both columns."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QTextDocument

    from aegui.qt import window_layout

    window_layout.reset_layout(window, QRect(0, 0, 1366, 740))
    window.model_dock.show()
    window.model_dock.raise_()
    wait_until_idle(qtbot, window)
    QApplication.processEvents()
    panel = window.model_panel
    document = QTextDocument()
    document.setDefaultFont(panel.font())
    document.setHtml(panel.text())
    document.setTextWidth(panel.contentsRect().width() - 2 * panel.margin())
    document.documentLayout().documentSize()  # laid out now, not when first painted
    block = document.begin()
    while block.isValid() and "mnist-conv-k32.ckpt" not in block.text():
        block = block.next()
    assert block.isValid() and block.text() == "mnist-conv-k32.ckpt"
    assert block.layout().lineCount() == 1, panel.contentsRect().width()
