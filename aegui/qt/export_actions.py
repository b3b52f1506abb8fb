"""File ▸ Export…: ask where, capture what is on show, write it off the GUI thread, say where.

What to write is captured on the GUI thread when asked (the sketch's raster, the decoded digit,
the code, the Explore strip on show); the writing, and a direction's sweep when no preview
holds it yet, run on the executor (aegui.core.export does the work). Each export has its own
channel, so two exports asked for quickly both happen.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

from aegui.core.export import CODE_FORMATS, direction_text, save_code, save_image_png, save_strip, strip_images, strip_text
from aegui.qt.settings import EXPORT_DIR, Settings

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.qt.worker import LatestWinsExecutor

EXPORT = "export"


def with_filter_suffix(path: Path, chosen_filter: str, filters: str) -> Path:
    """``path`` as typed, or with the chosen file type's suffix added when it has none of the
    dialog's types ("mycode" with NumPy chosen is mycode.npy; "my.v2" with PNG is my.v2.png)."""
    suffixes = re.findall(r"\*(\.\w+)", filters)
    if path.suffix.lower() in suffixes:
        return path
    chosen = re.findall(r"\*(\.\w+)", chosen_filter) or suffixes[:1]
    return path.with_name(path.name + chosen[0]) if chosen else path


class WindowExports(QObject):
    """The export menu's actions for one window."""

    saved = Signal(str, object)  # what, the path written
    failed = Signal(str)  # the one-line reason nothing was written
    nothing_to_export = Signal(str)  # what is empty

    def __init__(self, window: QMainWindow, explorer: Explorer, executor: LatestWinsExecutor, settings: Settings, strip_kind: Callable[[], tuple[str, str]]):
        super().__init__(window)
        self._window, self._explorer, self._executor, self._settings = window, explorer, executor, settings
        self._strip_kind = strip_kind  # (the extras key of the strip on show, its tab's name)
        self._numbers = itertools.count()

    def add_to(self, menu: QMenu) -> None:
        menu.addAction("E&xport sketch as PNG…", lambda: self._ask_and("Export sketch", "sketch.png", "PNG image (*.png)", self.export_sketch))
        menu.addAction("Export &decoded image as PNG…", lambda: self._ask_and("Export decoded image", "decoded.png", "PNG image (*.png)", self.export_decoded))
        code_filters = ";;".join(f"{name} (*{suffix})" for suffix, name in CODE_FORMATS.items())
        menu.addAction("Export latent &code (JSON, CSV, NPY)…", lambda: self._ask_and("Export latent code", "code.json", code_filters, self.export_code))
        menu.addAction("Export Explore &strip (PNG strip or animated GIF)…", lambda: self._strip_on_show() and self._ask_and("Export Explore strip", "strip.gif", "Animated GIF (*.gif);;PNG strip (*.png)", self.export_strip))

    def _ask_and(self, title: str, name: str, filters: str, export: Callable[[Path], object]) -> None:
        start = Path(self._settings.read(EXPORT_DIR)) / name
        path, chosen_filter = QFileDialog.getSaveFileName(self._window, title, str(start), filters)
        if path:
            path = with_filter_suffix(Path(path), chosen_filter, filters)
            self._settings.write(EXPORT_DIR, str(path.parent))
            export(path)

    def _write(self, what: str, path: Path, job: Callable[[], object]) -> None:
        def failed(error: BaseException) -> None:
            self.failed.emit(f"Could not write {Path(path).resolve()}: {error}")

        self._executor.submit(f"{EXPORT}-{next(self._numbers)}", job, lambda _: self.saved.emit(what, Path(path)), failed)

    # --- what each export writes ----------------------------------------------------------------
    def export_sketch(self, path: Path) -> None:
        raster = self._explorer.sketch
        if raster is None:
            self.nothing_to_export.emit("Nothing to export: the canvas is empty.")
            return
        raster = raster.copy()
        self._write("the sketch", path, lambda: save_image_png(path, raster))

    def export_decoded(self, path: Path) -> None:
        analysis = self._explorer.analysis
        if analysis is not None:
            self._write("the decoded image", path, lambda: save_image_png(path, analysis.reconstruction))

    def export_code(self, path: Path) -> None:
        analysis = self._explorer.analysis
        if analysis is None:
            return
        if Path(path).suffix.lower() not in CODE_FORMATS:
            self.failed.emit(f"Cannot export {Path(path).name}: use one of {', '.join(CODE_FORMATS)}.")
            return
        metadata = {"checkpoint": analysis.session.model.path.name, "origin": analysis.origin}
        self._write("the latent code", path, lambda: save_code(path, analysis.code, metadata))

    def _strip_on_show(self) -> bool:
        """Something to export (said before asking where): a strip on show, or a direction's sweep to compute."""
        kind, tab = self._strip_kind()
        images = strip_images(self._explorer.analysis, kind)
        if (images is None or len(images) == 0) and not self._direction_to_sweep(kind, images):
            self._say_empty(kind, tab)
            return False
        return True

    def _say_empty(self, kind: str, tab: str) -> None:
        self.nothing_to_export.emit(f"Nothing to export: the {tab} strip is empty" + (" (move one of its sliders first)." if kind == "direction_sweep" else "."))

    def _direction_to_sweep(self, kind: str, images) -> bool:
        """Edit by meaning with no sweep in the analysis, but a direction moved (its sweep is on
        show beside the sliders): computed for the file. With none moved, the tab shows only its
        hint, and so does the file: nothing."""
        return kind == "direction_sweep" and images is None and bool(self._explorer.direction_amounts)

    def export_strip(self, path: Path) -> bool:
        """The Explore strip on show: ``.gif`` as an animation that plays forward and back,
        anything else as one PNG strip. False (and why, in the status bar) when it is empty."""
        kind, tab = self._strip_kind()
        analysis = self._explorer.analysis
        images = strip_images(analysis, kind)
        if self._direction_to_sweep(kind, images):  # the sweep of the direction moved last, computed for the file
            directions = self._explorer.session.property_directions if self._explorer.session is not None else {}
            sweep, name = self._explorer.direction_sweep_job(), next(reversed(self._explorer.direction_amounts), None) or next(iter(directions), "")

            def write_sweep():
                images = sweep()
                return save_strip(path, images, *direction_text(name, len(images)))

            self._write("the Explore strip", path, write_sweep)
            return True
        if images is None or len(images) == 0:
            self._say_empty(kind, tab)
            return False
        title, captions = strip_text(analysis, kind)  # what each image is, written with it
        self._write("the Explore strip", path, lambda: save_strip(path, images, title, captions))
        return True
