"""Noise robustness of the compared models, side by side: numbers and a small plot.

Display only: the figures come from the core's ``RobustnessComparison`` (measured in the
background on the reference digits, the same noisy digits for every model).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QWidget

from aegui.core.noise import KIND_LABELS
from aegui.qt.painting.colours import HINT, toward_text
from aegui.qt.painting.fixed_plot import FixedPlot

if TYPE_CHECKING:
    from aegui.core.robustness import Robustness, RobustnessComparison

MAX_TABLE_WIDTH = 620
MODEL_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def robustness_html(results: list[tuple[str, Robustness]]) -> str:
    """One line per model, its name in its curve's colour: probe accuracy and reconstruction
    error to the clean digit at each strength, averaged over the four kinds of noise. Short
    enough for the Explore dock on a 768-pixel screen (the details are in the tooltip)."""
    if not results:
        return ""
    strengths = results[0][1].strengths
    head = "".join(f"<th style='padding:0 4px'>{'clean' if s == 0 else f'{s:g}'}</th>" for s in strengths)
    rows = []
    for index, (name, figures) in enumerate(results):
        accuracy = figures.mean_over_kinds("probe_accuracy")
        mse = figures.mean_over_kinds("mse_to_clean")
        cells = "".join(f"<td style='padding:0 4px'>{'–' if accuracy is None else f'{accuracy[i]:.2f}'} · {mse[i]:.3f}</td>" for i in range(len(strengths)))
        colour = MODEL_COLOURS[index % len(MODEL_COLOURS)]
        rows.append(f"<tr><td style='color:{colour}'><b>{name}</b></td>{cells}</tr>")
    # no line of its own for the note on the kinds of noise (the header row's first cell is
    # free) and no spacing between cells: three models' table fits a laptop's first-start dock
    note = f"<th style='color:{toward_text(HINT).name()};font-weight:normal;text-align:left'>mean of 4 kinds · hover</th>"
    return f"<b>Noise robustness</b>: probe accuracy · MSE to the clean digit<table cellspacing='0'><tr>{note}{head}</tr>{''.join(rows)}</table>"


def spaced_ticks(strengths, gap: float = 0.3) -> list[tuple[float, str]]:
    """The strengths as x ticks, leaving out those closer than ``gap`` of the range to the one
    before (0 and 0.1 would overlap in a plot a narrow screen leaves 120 px for)."""
    values = sorted(float(value) for value in strengths)
    span = (values[-1] - values[0]) or 1.0
    ticks: list[tuple[float, str]] = []
    for value in values:
        if not ticks or value - ticks[-1][0] >= gap * span:
            ticks.append((value, f"{value:g}"))
    return ticks


def robustness_tooltip(results: list[tuple[str, Robustness]]) -> str:
    if not results:
        return ""
    lines = [f"Measured on {results[0][1].n_digits} reference digits with each kind of noise (Gaussian, salt and pepper, erased blocks, stroke across) at each strength; the table and the plot show the mean over the kinds."]
    for name, figures in results:
        lines.append(name)
        for kind, values in (figures.probe_accuracy or {}).items():
            lines.append(f"  {KIND_LABELS[kind]}: probe " + ", ".join(f"{value:.3f}" for value in values))
    return "\n".join(lines)


class RobustnessView(QWidget):
    def __init__(self, comparison: RobustnessComparison, parent: QWidget | None = None):
        super().__init__(parent)
        self.numbers = QLabel("")
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.numbers.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # in a scroll area: many models (a sweep family) scroll instead of being cut by a short dock
        self.numbers_area = QScrollArea()
        self.numbers_area.setWidget(self.numbers)
        self.numbers_area.setWidgetResizable(True)
        self.numbers_area.setFrameShape(QFrame.Shape.NoFrame)
        self.plot = FixedPlot(minimum_height=90)
        self.plot.setMinimumWidth(150)  # its three x ticks drawn on a 1280-pixel screen
        self.plot.setMaximumWidth(220)
        item = self.plot.getPlotItem()
        item.setLabel("left", "accuracy")  # the probe's; the x axis: the strengths the table's head names
        item.getAxis("bottom").enableAutoSIPrefix(False)  # 0 to 0.5, not "(x0.001)"
        item.setYRange(-0.04, 1.08, padding=0)  # room for the 1.0 tick's text inside the axis
        self.curves: list[pg.PlotDataItem] = []  # coloured as the model names in the table: no legend over the lines
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.numbers_area, 1)
        layout.addWidget(self.plot)
        self.setVisible(False)
        comparison.robustness_changed.connect(self.show_results)

    def show_results(self, results: list[tuple[str, Robustness]]) -> None:
        for curve in self.curves:
            self.plot.getPlotItem().removeItem(curve)
        self.curves = []
        for index, (name, figures) in enumerate(results):
            accuracy = figures.mean_over_kinds("probe_accuracy")
            if accuracy is None:
                continue
            pen = pg.mkPen(MODEL_COLOURS[index % len(MODEL_COLOURS)], width=2)
            curve = self.plot.plot(list(figures.strengths), accuracy, pen=pen, symbol="o", symbolSize=5, symbolBrush=pen.color(), name=name)
            self.curves.append(curve)
        if results:
            strengths = results[0][1].strengths
            self.plot.getPlotItem().getAxis("bottom").setTicks([spaced_ticks(strengths)])
            span = (max(strengths) - min(strengths)) or 1.0  # room for the last tick's text inside the axis
            self.plot.getPlotItem().setXRange(min(strengths) - 0.06 * span, max(strengths) + 0.12 * span, padding=0)
        self.numbers.setText(robustness_html(results))
        # as wide as the table (up to a limit): scrolling is for many models, not for two
        document = QTextDocument()
        document.setDefaultFont(self.numbers.font())
        document.setHtml(self.numbers.text())
        scroll_bar = self.numbers_area.verticalScrollBar().sizeHint().width()
        self.numbers_area.setMinimumWidth(min(math.ceil(document.idealWidth()) + scroll_bar + 8, MAX_TABLE_WIDTH))
        self.setToolTip(robustness_tooltip(results))
        self.setVisible(bool(results))
