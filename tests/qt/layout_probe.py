"""The window in every configuration a user can reach, checked for what a user would see cut.

    python -m tests.qt.layout_probe --models DIR [--no-maps] [--only NAME]

Runs on whatever screen Qt was given (the offscreen platform configured as a 1366 x 768 or
1280 x 720 screen by tests/qt/test_layout.py, or a real X server such as Xvfb). For each
configuration (models of k = 2, 16, 32, 64, a sketch or the empty start, each dock shown, hidden,
tabbed or floating, a training run watched, a restart) it walks every visible widget and
reports, as one JSON line per configuration:

- a window frame outside the screen's available area (a window manager's frame allowed for);
- a text wider than its widget: labels, buttons, check boxes, combo box items, text painted
  by the app's own widgets and by pyqtgraph (axis ticks), plot titles and axis labels;
- an elided text (file names with the full name in a tooltip excepted);
- a tick label a plot dropped or overlapping its neighbour;
- a plot whose data area is under 60 px high;
- a slider whose track is under 60 px long (squeezed to its handle it looks like a check box);
- text under 9 pt.

``DIR`` holds ``k16.ckpt`` and ``k64.ckpt`` (see ``make_tiny_checkpoints``) and is where the
probe writes its run folder and settings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSettings, Qt
from PySide6.QtGui import QFontMetrics, QFontMetricsF, QPainter, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDockWidget,
    QLabel,
    QSlider,
    QTabBar,
    QWidget,
)

MIN_PLOT_HEIGHT = 60
MIN_SLIDER_TRACK = 60
MIN_POINT_SIZE = 9.0
MIN_STRIP_IMAGE_SIDE = 28  # px: an Explore strip's digits at MNIST's own size or larger
FRAME_ALLOWANCE = (8, 32, 8, 8)  # left, top, right, bottom: borders and a title bar

# --- painted text, recorded as it is painted ------------------------------------------------------
_painted: list[tuple[str, str]] = []  # (what, problem) found while painting
_elided: list[tuple[object, str, str]] = []  # (device, text, elided)
_painting_device: list[object] = []


def _device_name(device) -> str:
    if isinstance(device, QWidget):
        return widget_name(device)
    return type(device).__name__


def _checked_draw_text(original):
    def draw_text(painter, *args):
        text = args[-1] if args and isinstance(args[-1], str) else (args[2] if len(args) >= 3 and isinstance(args[2], str) else None)
        font = painter.font()
        size = font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize() * 72.0 / 96.0
        if text and text.strip() and size < MIN_POINT_SIZE - 0.01:
            _painted.append((_device_name(painter.device()), f"text {text!r} painted at {size:.1f} pt"))
        from PySide6.QtGui import QPicture

        recorded = isinstance(painter.device(), QPicture)  # pyqtgraph's axis ticks: checked by tick_problems
        if text and len(args) == 3 and isinstance(args[0], (QRect, QRectF)) and not recorded:
            rect, flags = QRectF(args[0]), int(args[1] if not hasattr(args[1], "value") else args[1].value)
            needed = QFontMetricsF(font).boundingRect(rect, flags, text)
            if needed.width() > rect.width() + 1.5 or needed.height() > rect.height() + 1.5:
                _painted.append((_device_name(painter.device()), f"painted text {text!r} needs {needed.width():.0f} x {needed.height():.0f}, has {rect.width():.0f} x {rect.height():.0f}"))
        return original(painter, *args)

    return draw_text


def _checked_elided_text(original):
    def elided_text(metrics, text, mode, width, *rest):
        result = original(metrics, text, mode, width, *rest)
        if result != text:
            _elided.append((_painting_device[-1] if _painting_device else None, text, result))
        return result

    return elided_text


def install_recorders() -> None:
    QPainter.drawText = _checked_draw_text(QPainter.drawText)
    QFontMetrics.elidedText = _checked_elided_text(QFontMetrics.elidedText)
    QFontMetricsF.elidedText = _checked_elided_text(QFontMetricsF.elidedText)


# --- the checks -----------------------------------------------------------------------------------
def widget_name(widget: QWidget) -> str:
    parts = []
    while widget is not None and len(parts) < 3:
        name = widget.objectName() or type(widget).__name__
        text = widget.text() if isinstance(widget, (QLabel, QAbstractButton)) and callable(getattr(widget, "text", None)) else ""
        parts.append(name + (f"[{text[:30]!r}]" if text else ""))
        widget = widget.parentWidget()
    return " < ".join(parts)


def point_size(widget: QWidget) -> float:
    font = widget.font()
    return font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize() * 72.0 / widget.logicalDpiY()


def _looks_rich(text: str) -> bool:
    return "<" in text and ">" in text


def label_problems(label: QLabel) -> list[str]:
    text = label.text()
    if not text or label.pixmap() is not None and not label.pixmap().isNull():
        return []
    area = label.contentsRect().adjusted(label.margin(), label.margin(), -label.margin(), -label.margin())
    if area.width() <= 0:
        return [f"label {text[:40]!r} has no width"]
    rich = label.textFormat() == Qt.TextFormat.RichText or (label.textFormat() == Qt.TextFormat.AutoText and _looks_rich(text))
    if label.wordWrap():  # Qt's own measure of the wrapped text at this width
        needed = label.heightForWidth(label.width())
        if needed > label.height() + 1:
            return [f"label {text[:40]!r} needs {needed} px high, has {label.height()}"]
        return []
    if rich:
        document = QTextDocument()
        document.setDefaultFont(label.font())
        document.setDocumentMargin(0)
        document.setHtml(text)
        width = document.idealWidth()
        shown = document.toPlainText()
    else:
        metrics = label.fontMetrics()
        width = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
        shown = text
    if width > area.width() + 1:
        return [f"label {shown[:40]!r} needs {width:.0f} px, has {area.width()}"]
    return []


def button_problems(button: QAbstractButton) -> list[str]:
    if not button.text():
        return []
    if isinstance(button.parentWidget(), QTabBar) or type(button).__name__ in {"QToolButton"}:
        return []
    needed = button.sizeHint().width()
    if button.width() + 1 < needed:
        return [f"button {button.text()!r} needs {needed} px, has {button.width()}"]
    return []


def combo_problems(combo: QComboBox) -> list[str]:
    problems = []
    metrics = combo.fontMetrics()
    chrome = combo.sizeHint().width() - max((metrics.horizontalAdvance(combo.itemText(i)) for i in range(combo.count())), default=0)
    for index in range(combo.count()):
        needed = metrics.horizontalAdvance(combo.itemText(index)) + max(chrome, 24)
        if needed > combo.width() + 1:
            problems.append(f"combo item {combo.itemText(index)!r} needs {needed} px, has {combo.width()}")
    return problems


def slider_problems(slider: QSlider) -> list[str]:
    length = slider.width() if slider.orientation() == Qt.Orientation.Horizontal else slider.height()
    if length < MIN_SLIDER_TRACK:
        return [f"slider {slider.accessibleName() or slider.toolTip()[:30]!r} has a {length} px track"]
    return []


def tab_problems(bar: QTabBar) -> list[str]:
    problems = []
    for index in range(bar.count()):
        if bar.elideMode() != Qt.TextElideMode.ElideNone and bar.tabRect(index).width() < bar.tabSizeHint(index).width() - 1:
            problems.append(f"tab {bar.tabText(index)!r} elided ({bar.tabRect(index).width()} < {bar.tabSizeHint(index).width()})")
    if bar.usesScrollButtons() and bar.count() and bar.tabRect(bar.count() - 1).right() > bar.width():
        problems.append(f"tabs need scroll buttons: {bar.tabRect(bar.count() - 1).right()} px > {bar.width()}")
    return problems


def plot_problems(widget) -> list[str]:
    """A pyqtgraph plot: its data area, title, axis labels and tick labels."""
    import pyqtgraph as pg

    plot = widget.getPlotItem()
    problems = []
    view = plot.getViewBox()
    height = view.sceneBoundingRect().intersected(widget.mapToScene(widget.viewport().rect()).boundingRect()).height()
    if height < MIN_PLOT_HEIGHT:
        problems.append(f"plot data area {height:.0f} px high (< {MIN_PLOT_HEIGHT})")
    shown = plot.sceneBoundingRect().intersected(widget.mapToScene(widget.viewport().rect()).boundingRect())
    if plot.sceneBoundingRect().width() > shown.width() + 1 or plot.sceneBoundingRect().height() > shown.height() + 1:
        problems.append(f"plot needs {plot.sceneBoundingRect().width():.0f} x {plot.sceneBoundingRect().height():.0f} px, its widget shows {shown.width():.0f} x {shown.height():.0f} (cut)")
    title = plot.titleLabel
    if title.isVisible() and title.text:
        needed = title.item.boundingRect().width()
        if needed > shown.width() + 1:
            problems.append(f"plot title {title.item.toPlainText()!r} needs {needed:.0f} px, has {shown.width():.0f}")
        if title.item.font().pointSizeF() not in (-1.0,) and title.item.font().pointSizeF() < MIN_POINT_SIZE - 0.01:
            problems.append(f"plot title at {title.item.font().pointSizeF():.1f} pt")
    for name in ("left", "bottom", "right", "top"):
        axis: pg.AxisItem = plot.getAxis(name)
        if not axis.isVisible():
            continue
        length = axis.sceneBoundingRect().width() if name in ("bottom", "top") else axis.sceneBoundingRect().height()
        if axis.label.isVisible() and axis.labelText:
            needed = axis.label.boundingRect().width()
            if needed > length + 1:
                problems.append(f"{name} axis label {axis.label.toPlainText()!r} needs {needed:.0f} px, has {length:.0f}")
        problems += tick_problems(axis, name)
    return problems


def tick_problems(axis, name: str) -> list[str]:
    """Tick labels the axis draws: each one the code asked for, none overlapping another."""
    from PySide6.QtGui import QImage

    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return []
    _, _, texts = specs
    problems = []
    rects = [(QRectF(rect), text) for rect, _, text in texts] if name in ("bottom", "top") else []
    rects.sort(key=lambda item: item[0].left())
    for (first, first_text), (second, second_text) in zip(rects, rects[1:]):
        if first.right() > second.left() + 0.5:
            problems.append(f"{name} tick labels {first_text!r} and {second_text!r} overlap")
    if axis._tickLevels and name in ("bottom", "top"):
        drawn = {text for _, _, text in texts}
        view_range = axis.range
        wanted = [text for value, text in axis._tickLevels[0] if view_range[0] <= value <= view_range[1]]
        missing = [text for text in wanted if text not in drawn]
        if missing:
            problems.append(f"{name} tick labels not drawn: {missing[:6]}")
    return problems


def graphics_text_problems(widget) -> list[str]:
    """Text items in a pyqtgraph scene under 9 pt."""
    from PySide6.QtWidgets import QGraphicsSimpleTextItem, QGraphicsTextItem

    problems = []
    for item in widget.scene().items():
        if isinstance(item, (QGraphicsTextItem, QGraphicsSimpleTextItem)) and item.isVisible():
            text = item.toPlainText() if isinstance(item, QGraphicsTextItem) else item.text()
            size = item.font().pointSizeF()
            if text.strip() and 0 < size < MIN_POINT_SIZE - 0.01:
                problems.append(f"scene text {text[:30]!r} at {size:.1f} pt")
    return problems


def frame_problems(window: QWidget) -> list[str]:
    available = (window.screen() or QApplication.primaryScreen()).availableGeometry()
    frame = window.frameGeometry()
    left, top, right, bottom = FRAME_ALLOWANCE
    if frame == window.geometry():  # no window manager: allow for the frame one would add
        frame = frame.adjusted(-left, -top, right, bottom)
    if not available.contains(frame):
        return [f"frame {frame.getRect()} outside the available area {available.getRect()}"]
    return []


def _depth(widget) -> int:
    depth = 0
    while isinstance(widget, QWidget) and widget.parentWidget() is not None:
        widget, depth = widget.parentWidget(), depth + 1
    return depth


def visible_widgets(root: QWidget):
    yield root
    for child in root.findChildren(QWidget):
        if child.isVisibleTo(root) and child.isVisible() and child.width() > 0 and child.height() > 0 and not _hidden_by_scroll(child):
            yield child


def _hidden_by_scroll(widget: QWidget) -> bool:
    """Outside its parent's area (Qt parks unused dock tab bars off the window): not seen."""
    parent = widget.parentWidget()
    return parent is not None and not widget.geometry().intersects(parent.rect())


def check_window(window) -> list[str]:
    """Every problem a user would see in the window and its floating docks, as it is now."""
    import pyqtgraph as pg

    QApplication.processEvents()
    problems: list[str] = []
    tops = [window] + [dock for dock in window.findChildren(QDockWidget) if dock.isVisible() and dock.isFloating()]
    for top in tops:
        problems += [f"{widget_name(top)}: {problem}" for problem in frame_problems(top)]
    if not window.statusBar().isVisible() or window.statusBar().height() < window.statusBar().fontMetrics().height():
        problems.append("the status bar is not shown")
    central = window.centralWidget()  # scrolls only on a screen smaller than the layout: not on the ones checked here
    for bar in (central.horizontalScrollBar(), central.verticalScrollBar()):
        if bar.isVisible():
            problems.append(f"the views scroll ({bar.orientation().name}): {central.widget().minimumSizeHint().toTuple()} needed, {central.viewport().size().toTuple()} shown")
    _painted.clear()
    _elided.clear()
    for top in tops:
        for widget in visible_widgets(top):
            found: list[str] = []
            if point_size(widget) < MIN_POINT_SIZE - 0.01 and (isinstance(widget, (QLabel, QAbstractButton, QComboBox)) or type(widget).__module__.startswith("aegui")):
                found.append(f"font {point_size(widget):.1f} pt")
            if isinstance(widget, QLabel):
                found += label_problems(widget)
            elif isinstance(widget, QAbstractButton):
                found += button_problems(widget)
            elif isinstance(widget, QComboBox):
                found += combo_problems(widget)
            elif isinstance(widget, QTabBar):
                found += tab_problems(widget)
            elif isinstance(widget, QSlider):
                found += slider_problems(widget)
            elif isinstance(widget, pg.PlotWidget):
                found += plot_problems(widget) + graphics_text_problems(widget)
            if type(widget).__name__ == "ImageStrip" and len(widget.images):
                side = min(widget.image_rect(0).width(), widget.image_rect(0).height())
                if side < MIN_STRIP_IMAGE_SIDE:
                    found.append(f"strip images {side:.0f} px, less than MNIST's own {MIN_STRIP_IMAGE_SIDE}")
            if type(widget).__module__.startswith("aegui") or isinstance(widget, pg.GraphicsView):
                _painting_device.append(widget)
                widget.grab()  # paints it: painted text is checked as it is drawn
                _painting_device.pop()
            problems += [f"{widget_name(widget)}: {problem}" for problem in found]
    deepest: dict[str, tuple] = {}
    for device, text, result in _elided:  # a parent's grab paints its children: name the child
        if text not in deepest or _depth(device) > _depth(deepest[text][0]):
            deepest[text] = (device, text, result)
    for device, text, result in deepest.values():
        tooltip = device.toolTip() if isinstance(device, QWidget) else ""
        if text in tooltip:
            continue  # a file name, elided, with the whole name in its tooltip
        problems.append(f"{_device_name(device)}: elided {text[:50]!r} to {result!r}")
    problems += [f"{where}: {problem}" for where, problem in _painted]
    return sorted(set(problems))


# --- the configurations ---------------------------------------------------------------------------
def write_run_folder(folder: Path, latent_dim: int = 8, epochs: int = 15) -> Path:
    """A training run's progress folder as ``aegui-train fit --progress-dir`` writes it (losses,
    epochs, snapshots of 1,000 digits' codes; the stream's fields as ``training/progress.py``
    writes them), mid-run."""
    import numpy as np
    import torch

    progress = folder / "progress"
    (progress / "snapshots").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    labels = torch.arange(1000) % 10
    centres = torch.from_numpy(rng.normal(size=(10, latent_dim)).astype(np.float32)) * 3
    lines = [{"event": "start", "max_epochs": epochs, "time": 0.0}]
    step = 0
    for epoch in range(epochs - 5):
        for _ in range(20):
            step += 10
            lines.append({"event": "step", "epoch": epoch, "step": step, "train_loss": float(0.2 * np.exp(-step / 400) + 0.02), "time": step * 0.1, "elapsed": step * 0.1, "eta": (epochs * 200 - step) * 0.1})
        codes = centres[labels] * (epoch + 1) / epochs + torch.randn(1000, latent_dim)
        torch.save({"codes": codes, "labels": labels}, progress / "snapshots" / f"epoch-{epoch:04d}.pt")
        lines.append({"event": "epoch", "epoch": epoch, "step": step, "val_mse": float(0.05 - epoch / 400), "time": step * 0.1, "elapsed": step * 0.1, "eta": (epochs * 200 - step) * 0.1})
        lines.append({"event": "snapshot", "epoch": epoch, "path": f"snapshots/epoch-{epoch:04d}.pt"})
    (progress / "progress.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return progress


class Probe:
    reference = None

    def __init__(self, models: Path, maps: bool):
        from aegui.__main__ import create_window
        from aegui.core.resources import DEFAULT_CHECKPOINT, load_reference_digits

        self.models = models
        self.maps = maps
        if Probe.reference is None:  # the same digits for both installs: their sessions are shared
            Probe.reference = load_reference_digits(limit=1000)
        self.reference = Probe.reference
        self.checkpoints = {32: DEFAULT_CHECKPOINT, 2: DEFAULT_CHECKPOINT.parent / "mnist-conv-k2.ckpt", 16: models / "k16.ckpt", 64: models / "k64.ckpt"}
        self.settings_path = models / f"settings-{'maps' if maps else 'basic'}.ini"
        self.settings_path.unlink(missing_ok=True)
        self.create_window = create_window
        self.window = self.new_window()
        self.results: dict[str, list[str]] = {}

    def new_window(self):
        window = self.create_window(QSettings(str(self.settings_path), QSettings.Format.IniFormat), self.reference)
        window.restore_layout()
        window.show()
        self.wait(lambda: window.isVisible())
        return window

    def wait(self, condition, timeout: float = 60.0) -> None:
        import time

        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the window did not get there in time")
            QApplication.processEvents()
            time.sleep(0.005)
        QApplication.processEvents()

    def idle(self) -> None:
        self.wait(self.window.executor.is_idle)
        QApplication.processEvents()
        self.wait(self.window.executor.is_idle)

    def open(self, k: int) -> None:
        window = self.window
        window.open_model(self.checkpoints[k])
        self.wait(lambda: window.explorer.session is not None and window.explorer.session.model.path == self.checkpoints[k])
        self.idle()

    def draw(self) -> None:
        from tests.qt.conftest import canvas_points, draw_stroke

        self.window.canvas.clear()
        draw_stroke(self.window.canvas, canvas_points(self.window.canvas, "seven"))
        self.idle()

    def record(self, name: str) -> None:
        self.idle()
        self.results[f"{'maps' if self.maps else 'basic'}/{name}"] = check_window(self.window)

    def run(self, only: str | None = None) -> dict[str, list[str]]:
        window = self.window
        docks = {dock.objectName(): dock for dock in window.findChildren(QDockWidget)}
        steps = [
            ("empty start", lambda: self.open(32)),
            ("sketch, k=32", self.draw),
            ("sketch, k=2", lambda: self.open(2)),
            ("sketch, k=16", lambda: self.open(16)),
            ("sketch, k=64", lambda: self.open(64)),
            ("k=64, every Explore tab", lambda: self.each_tab()),
            *([("k=64, noise on", lambda: self.window.explorer.set_noise(self.window.explorer.noise.switched(True)))] if self.maps else []),  # with either install: once
            ("k=32, docks hidden", lambda: (self.open(32), self.window.explorer.set_noise(self.window.explorer.noise.switched(False)), [dock.hide() for dock in docks.values()])),
            ("k=32, only Latent sliders", lambda: docks["sliders"].show()),
            ("k=32, only Model", lambda: (docks["sliders"].hide(), docks["model"].show())),
            ("k=32, only Explore", lambda: (docks["model"].hide(), docks["explore"].show())),
            ("k=32, right docks tabbed", lambda: (docks["sliders"].show(), docks["model"].show(), window.tabifyDockWidget(docks["sliders"], docks["model"]))),
            ("k=32, docks floating", lambda: self.float_docks(docks)),
            ("k=32, training run watched", lambda: self.watch(docks)),
            ("k=2, training run watched", lambda: self.open(2)),
            ("k=64, training run watched", lambda: self.open(64)),
            *([("k=32, noise on, two models compared beside the run", lambda: self.compare(docks))] if self.maps else []),  # the maps extra changes nothing there
            ("restart, training run watched", self.restart),
            ("restart, the Interpolate strip filled", self.restart_and_interpolate),
        ]
        for name, step in steps:
            step()
            if only is None or only in name:
                self.record(name)
        return self.results

    def each_tab(self) -> None:
        """Every Explore tab with its strip filled, as a user fills it: a dimension swept, A and
        B kept and morphed, a direction moved (Compare is filled by its own step)."""
        tabs, explorer = self.window.explore_tabs, self.window.explorer
        self.interpolate()
        explorer.set_direction(next(iter(explorer.session.property_directions)), 1.0)
        explorer.select_dimension(3)
        self.idle()
        for index in range(tabs.count()):
            tabs.setCurrentIndex(index)
            self.record(f"k=64, Explore tab {tabs.tabText(index)!r}")
        tabs.setCurrentIndex(0)

    def compare(self, docks) -> None:
        """The Compare tab with two models and their noise robustness, the Explore dock raised
        where the Training run dock shares its place, noise on."""
        window = self.window
        self.open(32)
        docks["explore"].show()
        docks["explore"].raise_()
        window.explore_tabs.setCurrentWidget(window.compare_panel)
        window.robustness.digits = 100  # the same table and plot as the app's 500 digits give, sooner
        window.explorer.set_noise(window.explorer.noise.switched(True))  # the tallest sketch column with the tallest Explore panel
        window.explorer.open_comparison([self.checkpoints[2], self.checkpoints[32]])
        self.wait(lambda: window.compare_panel.robustness_view is not None and window.compare_panel.robustness_view.isVisible())
        self.idle()

    def float_docks(self, docks) -> None:
        for dock in docks.values():
            if dock.objectName() != "training":
                dock.setFloating(True)
        QApplication.processEvents()
        self.record("k=32, docks floating")
        for dock in docks.values():
            dock.setFloating(False)
        self.window.restoreState(self.window.saveState())  # back in their areas

    def watch(self, docks) -> None:
        folder = write_run_folder(self.models / f"run-{'maps' if self.maps else 'basic'}")
        window = self.window
        for name in ("sliders", "model", "explore"):
            docks[name].show()
        window.watch_training_run(folder)
        self.wait(lambda: len(window.training_run.maps) >= 10)
        self.draw()
        self.wait(lambda: window.training_view.sketch_row.image(0) is not None, timeout=10) if False else None

    def restart(self) -> None:
        """Closed with the run watched and opened again: the saved layout restored."""
        folder = self.window.training_run.folder or self.models / f"run-{'maps' if self.maps else 'basic'}"
        self.window.close()
        self.window.executor.shutdown()
        self.window = self.new_window()
        self.open(32)
        self.window.watch_training_run(folder)
        self.wait(lambda: len(self.window.training_run.maps) >= 10)
        self.draw()

    def restart_and_interpolate(self) -> None:
        """Closed with the Interpolate tab on show and no run, opened again (its strip empty: the dock
        restored as short as a hint), then A and B kept and morphed: the strip's digits stay
        readable (they were squeezed to 6 px)."""
        tabs = self.window.explore_tabs
        self.window.training_dock.hide()  # as a user who never trained has it
        self.window.explore_dock.raise_()
        tabs.setCurrentWidget(self.window.interpolation_panel)
        self.window.close()
        self.window.executor.shutdown()
        self.window = self.new_window()
        self.open(32)
        self.draw()
        self.window.explore_tabs.setCurrentWidget(self.window.interpolation_panel)
        self.interpolate()

    def interpolate(self) -> None:
        """The sketch kept as A, a random sample as B, and the code halfway between on show."""
        explorer = self.window.explorer
        explorer.keep_current("A")
        explorer.sample_random()
        self.idle()
        explorer.keep_current("B")
        explorer.interpolate(0.5)
        self.idle()

    def close(self) -> None:
        self.window.close()
        self.window.executor.shutdown()


def load_each_model_once() -> None:
    """A model is loaded (read, reference digits encoded, map fitted) once per probe, not again
    for the second install or after the restart: a session is a frozen value, as the window
    tests share it (tests/qt/conftest.py), and only the layout around it is checked here."""
    from aegui.core.session import ModelSession

    load, loaded = ModelSession.from_file, {}

    def load_once(cls, path, reference, projection_method="pca", projection_cache=None):
        key = (Path(path).resolve(), id(reference), projection_method, projection_cache)
        if key not in loaded:
            loaded[key] = load(path, reference, projection_method, projection_cache)
        return loaded[key]

    ModelSession.from_file = classmethod(load_once)


def make_tiny_checkpoints(folder: Path, latent_dims=(16, 64)) -> None:
    """Checkpoints of small, barely trained networks with the statistics the app reads (the
    combined anomaly score's table left out: that takes minutes to fit; such older files load)."""
    import numpy as np
    import torch

    from aegui.core.idx import read_images_and_labels
    from aegui.core.model_format import STATISTICS_KEY
    from aegui.core.networks import build_autoencoder
    from aegui.core.resources import REFERENCE_IMAGES, REFERENCE_LABELS
    from training.statistics import encode_dataset, fit_linear_probe, fit_property_directions, held_out_quantiles
    from training.stroke_properties import correlations, measure

    folder.mkdir(parents=True, exist_ok=True)
    images, labels = read_images_and_labels(REFERENCE_IMAGES, REFERENCE_LABELS)
    pixels = torch.from_numpy(images[:700].astype(np.float32) / 255.0).unsqueeze(1)
    digits = torch.from_numpy(labels[:700].astype(np.int64))
    train, val = pixels[:600], pixels[600:]
    for latent_dim in latent_dims:
        path = folder / f"k{latent_dim}.ckpt"
        if path.is_file():
            continue
        hparams = {"architecture": "conv", "latent_dim": latent_dim, "hidden_dim": 32, "channels": 4}
        torch.manual_seed(latent_dim)
        network = build_autoencoder(hparams)
        optimiser = torch.optim.Adam(network.parameters(), 1e-2)
        for _ in range(6):  # a few steps: the layout needs the shapes and statistics, not a good model
            batch = train[torch.randint(0, len(train), (32,))]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(network.decode_logits(network.encode(batch)), batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        network.eval()
        with torch.no_grad():
            codes = network.encode(train)
        val_codes, val_errors, _ = encode_dataset(network, val)
        weight, bias = fit_linear_probe(codes, digits[:600], max_iter=10)
        properties = measure(train.numpy())
        directions, quality = fit_property_directions(codes.numpy(), properties, val_codes.numpy(), measure(val.numpy()))
        statistics = {
            "latent_mean": codes.mean(0), "latent_std": codes.std(0).clamp_min(1e-6),
            "error_quantiles": held_out_quantiles(val_errors), "probe_weight": weight, "probe_bias": bias,
            "dimension_properties": {name: torch.from_numpy(values).float() for name, values in correlations(codes.numpy(), properties).items()},
            "property_directions": directions, "direction_quality": quality,
            "test_metrics": {"test_mse": float(val_errors.mean()), "n_test": len(val)}, "dataset": {"name": "mnist"},
        }  # fmt: skip
        state = {f"autoencoder.{name}": value for name, value in network.state_dict().items()}
        torch.save({"hyper_parameters": hparams, "state_dict": state, STATISTICS_KEY: statistics}, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--no-maps", action="store_true", help="as a basic install: UMAP and t-SNE reported unavailable")
    parser.add_argument("--only", help="check only the configurations whose name contains this")
    parser.add_argument("--strict", action="store_true", help="also list the problems on stderr and exit with 1 if there are any")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    make_tiny_checkpoints(args.models)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_recorders()
    load_each_model_once()
    results = {}
    for maps in ([False] if args.no_maps else [True, False]):
        if not maps:
            import aegui.core.projection as projection

            projection._OPTIONAL_MODULES = {method: f"aegui_not_installed_{method}" for method in projection._OPTIONAL_MODULES}
        probe = Probe(args.models, maps)
        results.update(probe.run(args.only))
        probe.close()
    screen = app.primaryScreen().availableGeometry()
    print(json.dumps({"screen": [screen.width(), screen.height()], "platform": app.platformName(), "results": results}))
    if args.strict:
        for name, problems in results.items():
            print(f"{'FAIL' if problems else 'ok  '} {screen.width()}x{screen.height()} {name}" + "".join(f"\n      {problem}" for problem in problems), file=sys.stderr)
        return 1 if any(results.values()) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
