"""File ▸ Train a model…: choose data, network and epochs; see the exact command it will run.

The dialog only edits a ``TrainingPlan`` (aegui.core.training_plan); the plan builds the
``aegui-train fit`` command shown here, which a user can copy to a bigger machine, and the
one the app starts as a separate process.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from aegui.core.hyperparameters import ARCHITECTURES, HYPERPARAMETERS, RUN_SETTINGS, HyperparameterError
from aegui.core.training_plan import DATA_SOURCES, PRESETS, TrainingPlan, apply_preset, fashion_mnist_installed, matching_preset
from aegui.qt.views.command_view import CommandView
from aegui.qt.window_layout import FRAME_ALLOWANCE, fit_on_screen, scrolled

CUSTOM = "Custom (as set below)"
PROBLEM_COLOUR = "#b00020"
PROBLEM_TINT = "#fde8ec"  # a refused field's background
PROBLEM_TITLE = "Fix before Train:"


def as_typed(command: str, typed: dict[str, str]) -> str:
    """The command with each option's value as typed: what is shown is what is in the fields
    (an option the plan left out, such as an unset --data.limit_train, is added)."""
    words = shlex.split(command)
    for option, text in typed.items():
        if option in words:
            words[words.index(option) + 1] = text
        else:
            words += [option, text]
    return shlex.join(words)


def _number_field(name: str) -> QLineEdit:
    """A field that keeps what was typed: the plan checks it against the hyperparameter table
    and the dialog marks it, instead of a spin box that silently clamps or rounds it."""
    field = QLineEdit()
    field.setObjectName(name)
    entry = HYPERPARAMETERS.get(name) or RUN_SETTINGS[name]
    field.setPlaceholderText(entry.allowed())
    field.setToolTip(f"{entry.help[:1].upper()}{entry.help[1:]} ({entry.allowed()}; {entry.option})")
    return field


class TrainDialog(QDialog):
    plan_changed = Signal(object)  # the TrainingPlan the fields now describe

    def __init__(self, plan: TrainingPlan, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self._updating = False

        self.preset_combo = QComboBox()
        self.preset_combo.addItems([CUSTOM, *PRESETS])
        self.preset_combo.setToolTip("Fill in the fields below for a typical run; change any of them afterwards")

        self.data_combo = QComboBox()
        for source, label in DATA_SOURCES.items():
            if source == "fashion-mnist":
                label = "Fashion-MNIST (" + ("installed" if fashion_mnist_installed() else "downloaded once") + ")"
            self.data_combo.addItem(label, source)
        self.data_dir_edit = QLineEdit()
        self.data_dir_edit.setPlaceholderText("folder with train-images-idx3-ubyte.gz and the other three")
        self.data_dir_button = QPushButton("Browse…")
        self.limit_edit = _number_field("limit_train")

        self.architecture_combo = QComboBox()
        self.architecture_combo.addItems(ARCHITECTURES)
        self.latent_edit = _number_field("latent_dim")
        self.width_edit = _number_field("hidden_dim")
        self.layers_edit = _number_field("hidden_layers")
        self.channels_edit = _number_field("channels")
        self.variational_box = QCheckBox("variational (VAE)")
        self.beta_edit = _number_field("beta")
        self.classifier_edit = _number_field("classifier_weight")
        self.outlier_edit = _number_field("outlier_weight")
        self.augmentation_edit = _number_field("augmentation")
        self.learning_rate_edit = _number_field("learning_rate")
        self.epochs_edit = _number_field("max_epochs")
        # the plan's field -> its edit; a value the table refuses is marked here, with the sentence
        self.number_edits = {
            "limit_train": self.limit_edit, "latent_dim": self.latent_edit, "hidden_dim": self.width_edit, "hidden_layers": self.layers_edit,
            "channels": self.channels_edit, "beta": self.beta_edit, "classifier_weight": self.classifier_edit, "outlier_weight": self.outlier_edit,
            "augmentation": self.augmentation_edit, "learning_rate": self.learning_rate_edit, "max_epochs": self.epochs_edit,
        }  # fmt: skip
        self.field_edits: dict[str, QLineEdit] = {}  # the edit marked when its value is refused
        self._field_tips: dict[str, str] = {}  # each edit's own tooltip, back once the value is fixed
        self.shown_problems: dict[str, str] = {}  # field -> the sentence shown for it
        self.input_noise_edit = QLineEdit()
        self.input_noise_edit.setPlaceholderText("none (e.g. gaussian=0.3,erased_blocks=0.25)")
        self.input_noise_edit.setToolTip("Denoising: noise added to each training digit (kinds: gaussian, salt_and_pepper, erased_blocks, stroke_across; strength up to 0..1), the clean digit the target")
        self.init_from_edit = QLineEdit()
        self.init_from_edit.setPlaceholderText("random weights")
        self.init_from_edit.setToolTip(
            "Fine-tune: start from this checkpoint's network (and its linear probe as the classifier) instead of random weights; "
            "its network must match the one above. Use a lower learning rate than from scratch."
        )
        self.init_from_button = QPushButton("Browse…")
        self.output_edit = QLineEdit()
        self.output_button = QPushButton("Browse…")

        self.command_view = CommandView()
        self.command_view.setReadOnly(True)
        self.command_view.setAccessibleName("command")
        self.copy_button = QPushButton("Copy command")
        self.copy_button.setToolTip("The same run on another machine (add --trainer.devices N or --trainer.num_nodes N for more GPUs)")
        self.problem_label = QLabel("")
        self.problem_label.setStyleSheet(f"color: {PROBLEM_COLOUR}")
        self.problem_label.setWordWrap(True)
        self.problem_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # a box of fixed height: however many values are refused, no field above it moves. Its
        # title stands beside the list, not above it, so three refusals show in three lines.
        self.problem_title = QLabel("")
        self.problem_title.setStyleSheet(f"color: {PROBLEM_COLOUR}; font-weight: bold")
        self.problem_title.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.problem_title.setFixedWidth(self.problem_title.fontMetrics().horizontalAdvance(PROBLEM_TITLE) + 12)  # bold: a little wider
        self.problem_area = QScrollArea()
        self.problem_area.setWidget(self.problem_label)
        self.problem_area.setWidgetResizable(True)
        self.problem_area.setFrameShape(QFrame.Shape.NoFrame)
        self.problem_area.setFixedHeight(3 * self.problem_label.fontMetrics().lineSpacing() + 4)
        # a Tab stop only when there is more to scroll to, and then with a visible focus frame
        # (frameless, it took the focus and showed nothing)
        self.problem_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.problem_area.setStyleSheet("QScrollArea { border: 1px solid transparent; } QScrollArea:focus { border: 1px solid palette(highlight); }")
        self.problem_area.verticalScrollBar().rangeChanged.connect(self._on_problem_scroll_range_changed)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)

        data_box = QGroupBox("Data")
        data_form = QFormLayout(data_box)
        data_form.addRow("Digits", self.data_combo)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_dir_edit, 1)
        folder_row.addWidget(self.data_dir_button)
        data_form.addRow("Folder", self._marked("data_dir", folder_row))
        data_form.addRow("Digits used", self._marked("limit_train", self.limit_edit))  # a tenth of them validates (the tooltip says so)
        network_box = QGroupBox("Network")
        network_form = QFormLayout(network_box)
        network_form.addRow("Architecture", self.architecture_combo)
        network_form.addRow("Bottleneck k", self._marked("latent_dim", self.latent_edit))
        network_form.addRow("Width", self._marked("hidden_dim", self.width_edit))
        network_form.addRow("Hidden layers", self._marked("hidden_layers", self.layers_edit))
        network_form.addRow("Channels", self._marked("channels", self.channels_edit))
        vae_row = QHBoxLayout()
        vae_row.addWidget(self.variational_box)
        vae_row.addWidget(QLabel("beta"))
        vae_row.addWidget(self._marked("beta", self.beta_edit))
        network_form.addRow("", vae_row)
        network_form.addRow("Classifier weight", self._marked("classifier_weight", self.classifier_edit))
        network_form.addRow("Outlier exposure", self._marked("outlier_weight", self.outlier_edit))
        network_form.addRow("Augmentation", self._marked("augmentation", self.augmentation_edit))
        network_form.addRow("Learning rate", self._marked("learning_rate", self.learning_rate_edit))
        network_form.addRow("Input noise", self._marked("input_noise", self.input_noise_edit))
        run_box = QGroupBox("Run")
        run_form = QFormLayout(run_box)
        run_form.addRow("Epochs", self._marked("max_epochs", self.epochs_edit))
        start_row = QHBoxLayout()
        start_row.addWidget(self.init_from_edit, 1)
        start_row.addWidget(self.init_from_button)
        run_form.addRow("Start from", self._marked("init_from", start_row))
        output_row = QHBoxLayout()
        output_row.addWidget(self.output_edit, 1)
        output_row.addWidget(self.output_button)
        run_form.addRow("Output folder", self._marked("output_dir", output_row))

        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(data_box)
        left.addWidget(run_box)
        left.addStretch(1)
        columns.addLayout(left, 1)
        columns.addWidget(network_box, 1)
        preset_row = QFormLayout()
        preset_row.addRow("Preset", self.preset_combo)
        command_row = QHBoxLayout()
        command_row.addWidget(QLabel("It runs:"))
        command_row.addStretch(1)
        command_row.addWidget(self.copy_button)
        form = QWidget()
        form_layout = QVBoxLayout(form)
        form_layout.setContentsMargins(0, 0, 0, 0)
        form_layout.addLayout(preset_row)
        form_layout.addLayout(columns)
        self.form_area = scrolled(form, around_controls=True)  # the fields scroll on a screen too short for them; the buttons stay on it
        self.form_area.setSizeAdjustPolicy(QScrollArea.SizeAdjustPolicy.AdjustToContents)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form_area, 1)
        layout.addLayout(command_row)
        layout.addWidget(self.command_view)
        problem_row = QHBoxLayout()
        problem_row.addWidget(self.problem_title, 0, Qt.AlignmentFlag.AlignTop)
        problem_row.addWidget(self.problem_area, 1)
        layout.addLayout(problem_row)
        layout.addWidget(self.buttons)

        self._field_palette = QPalette(self.latent_edit.palette())
        self._problem_palette = QPalette(self._field_palette)
        self._problem_palette.setColor(QPalette.ColorRole.Base, QColor(PROBLEM_TINT))
        self._problem_palette.setColor(QPalette.ColorRole.Text, QColor(PROBLEM_COLOUR))
        self.set_plan(plan)
        self.preset_combo.currentTextChanged.connect(self._on_preset_combo_text_changed)
        self.data_dir_button.clicked.connect(self._on_data_dir_button_clicked)
        self.output_button.clicked.connect(self._on_output_button_clicked)
        self.init_from_button.clicked.connect(self._on_init_from_button_clicked)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for edit in (self.data_dir_edit, self.output_edit, self.init_from_edit, self.input_noise_edit):
            edit.textChanged.connect(self._on_field_changed)
        for combo in (self.data_combo, self.architecture_combo):
            combo.currentIndexChanged.connect(self._on_field_changed)
        for edit in self.number_edits.values():
            edit.textChanged.connect(self._on_field_changed)
        self.variational_box.toggled.connect(self._on_field_changed)

    # --- the plan <-> the fields ------------------------------------------------------------
    def showEvent(self, event) -> None:
        """The fields at their full size when the screen has room; on a shorter screen they
        scroll, so the command, the refusals and the buttons stay on it."""
        super().showEvent(event)
        content, extent = self.form_area.widget().sizeHint(), self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.form_area.setMinimumSize(content.width() + extent, content.height())
        self.adjustSize()
        if self.screen() is not None:
            room = self.screen().availableGeometry().size() - FRAME_ALLOWANCE - self.size()
            self.form_area.setMinimumSize(max(200, content.width() + extent + min(0, room.width())), max(120, content.height() + min(0, room.height())))
            self.adjustSize()
        fit_on_screen(self)

    def _marked(self, name: str, field) -> QWidget:
        """A field whose edit is marked (tinted, the refusing sentence as its tooltip) when its
        value is refused; the sentences themselves are listed above the buttons. A line
        under each field moved every field below it as it came and went (clicks landed in the
        wrong field) and was cut where the screen left the dialog no room."""
        if isinstance(field, QWidget):
            box, edit = field, field
        else:
            box = QWidget()
            field.setContentsMargins(0, 0, 0, 0)
            box.setLayout(field)
            edit = next(field.itemAt(index).widget() for index in range(field.count()) if isinstance(field.itemAt(index).widget(), QLineEdit))
        self.field_edits[name] = edit
        self._field_tips[name] = edit.toolTip()
        return box

    # --- the plan <-> the fields ------------------------------------------------------------
    def set_plan(self, plan: TrainingPlan) -> None:
        self._updating = True
        self.data_combo.setCurrentIndex(max(0, self.data_combo.findData(plan.data_source)))
        self.data_dir_edit.setText(plan.data_dir)
        self.architecture_combo.setCurrentText(plan.architecture)
        for name, edit in self.number_edits.items():
            value = getattr(plan, name)
            edit.setText(f"{value:g}" if isinstance(value, float) else str(value))
        self.variational_box.setChecked(plan.variational)
        self.output_edit.setText(plan.output_dir)
        self.init_from_edit.setText(plan.init_from)
        self.input_noise_edit.setText(plan.input_noise)
        self._updating = False
        self._on_field_changed()

    def _typed_values(self) -> tuple[dict, dict[str, str]]:
        """(the values typed, as the plan's fields; the sentence for each that is not a number).
        A value out of range is kept as typed: the plan refuses it, the dialog never rewrites it."""
        values, problems = {}, {}
        for name, edit in self.number_edits.items():
            entry = HYPERPARAMETERS.get(name) or RUN_SETTINGS[name]
            try:
                values[name] = entry.kind(edit.text().strip())
            except ValueError:
                try:
                    entry.parse(edit.text())
                except HyperparameterError as error:
                    problems[name] = error.sentence
        return values, problems

    def plan(self) -> TrainingPlan:
        values, _ = self._typed_values()
        return TrainingPlan(
            output_dir=self.output_edit.text().strip(),
            data_source=self.data_combo.currentData(),
            data_dir=self.data_dir_edit.text().strip(),
            architecture=self.architecture_combo.currentText(),
            variational=self.variational_box.isChecked(),
            init_from=self.init_from_edit.text().strip(),
            input_noise=self.input_noise_edit.text().strip(),
            **values,
        )

    def field_problems(self) -> dict[str, str]:
        """Each field's refusal: the sentence ``aegui-train fit`` gives for the same value."""
        _, typed = self._typed_values()
        return self.plan().field_problems() | typed

    def _on_field_changed(self, *_) -> None:
        if self._updating:
            return
        plan = self.plan()
        folder = plan.data_source == "folder"
        self.data_dir_edit.setEnabled(folder)
        self.data_dir_button.setEnabled(folder)
        self.beta_edit.setEnabled(plan.variational)
        self.channels_edit.setEnabled(plan.architecture == "conv")
        self.preset_combo.blockSignals(True)  # the preset the values match, or Custom once edited
        self.preset_combo.setCurrentText(matching_preset(plan) or CUSTOM)
        self.preset_combo.blockSignals(False)
        found = self.field_problems()
        problems = {name: found[name] for name in self.field_edits if name in found} | found  # in the form's order
        self.shown_problems = {name: problem for name, problem in problems.items() if name in self.field_edits}
        # a refused number falls back to its last accepted value in the plan: show it as typed
        refused_numbers = {(HYPERPARAMETERS.get(name) or RUN_SETTINGS[name]).option: edit.text() for name, edit in self.number_edits.items() if name in problems}
        self.command_view.set_command(as_typed(plan.shell_command(), refused_numbers))
        for name, edit in self.field_edits.items():
            edit.setPalette(self._problem_palette if name in problems else self._field_palette)  # colour only: the field keeps its size
            edit.setToolTip(problems.get(name, self._field_tips[name]))
        self.problem_title.setText(PROBLEM_TITLE if problems else "")
        self.problem_label.setText("\n".join(problems.values()))
        self.train_button.setEnabled(not problems)
        self.command_view.setEnabled(not problems)  # greyed: the command of the values last accepted
        self.copy_button.setEnabled(not problems)
        self.plan_changed.emit(plan)

    def _on_preset_combo_text_changed(self, name: str) -> None:
        if name in PRESETS:
            self.set_plan(apply_preset(self.plan(), name))

    # --- folders and the clipboard -----------------------------------------------------------
    def _on_data_dir_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of MNIST IDX files", self.data_dir_edit.text() or str(Path.home()))
        if folder:
            self.data_dir_edit.setText(folder)

    def _on_output_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder of the run", str(Path(self.output_edit.text()).parent))
        if folder:
            self.output_edit.setText(folder)

    def _on_init_from_button_clicked(self) -> None:
        start = self.init_from_edit.text() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Checkpoint to start from", start, "aegui checkpoints (*.ckpt *.safetensors);;All files (*)")
        if path:
            self.init_from_edit.setText(path)

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.plan().shell_command())

    def _on_problem_scroll_range_changed(self, low: int, high: int) -> None:
        self.problem_area.setFocusPolicy(Qt.FocusPolicy.StrongFocus if high > low else Qt.FocusPolicy.NoFocus)
