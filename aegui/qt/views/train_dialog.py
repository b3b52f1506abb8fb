"""File ▸ Train a model…: choose data, network and epochs; see the exact command it will run.

The dialog only edits a ``TrainingPlan`` (aegui.core.training_plan); the plan builds the
``aegui-train fit`` command shown here, which a user can copy to a bigger machine, and the
one the app starts as a separate process.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aegui.core.model_format import ARCHITECTURES, HYPERPARAMETERS
from aegui.core.training_plan import DATA_SOURCES, PRESETS, TrainingPlan, apply_preset, fashion_mnist_installed, matching_preset

CUSTOM = "Custom (as set below)"


def _spin(name: str, maximum: int | None = None) -> QSpinBox:
    box = QSpinBox()
    schema = HYPERPARAMETERS[name]
    box.setRange(int(schema.low), int(maximum if maximum is not None else schema.high))
    return box


def _double(low: float, high: float, step: float, decimals: int = 3) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


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
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(0, 1_000_000)
        self.limit_spin.setSingleStep(1000)
        self.limit_spin.setSpecialValueText("all")
        self.limit_spin.setToolTip("Train on the first N digits of the training file (0: all of them); a tenth of them is held out for validation")

        self.architecture_combo = QComboBox()
        self.architecture_combo.addItems(ARCHITECTURES)
        self.latent_spin = _spin("latent_dim")
        self.latent_spin.setToolTip("k, the bottleneck: how many numbers the code has")
        self.width_spin = _spin("hidden_dim")
        self.width_spin.setToolTip("Units of each fully connected hidden layer")
        self.layers_spin = _spin("hidden_layers")
        self.channels_spin = _spin("channels")
        self.channels_spin.setToolTip("Channels of the first convolution (conv only)")
        self.variational_box = QCheckBox("variational (VAE)")
        self.beta_spin = _double(0.0, 100.0, 0.1)
        self.beta_spin.setToolTip("Weight of the KL term of a VAE")
        self.classifier_spin = _double(0.0, 10.0, 0.01)
        self.classifier_spin.setToolTip("Weight of a small digit classifier on the code while training: the code separates digits better")
        self.outlier_spin = _double(0.0, 10.0, 0.05)
        self.outlier_spin.setToolTip("Outlier exposure: non-digits made from the training digits (mirrored, turned, halves, overlaid) should leave the classifier undecided, which sharpens \"not a digit\" (needs a classifier weight)")
        self.augmentation_spin = _double(0.0, 2.0, 0.1, 2)
        self.augmentation_spin.setToolTip("Strength of random shifts, turns and scaling of the training digits")
        self.learning_rate_spin = _double(1e-5, 1.0, 1e-3, 5)
        self.input_noise_edit = QLineEdit()
        self.input_noise_edit.setPlaceholderText("none (e.g. gaussian=0.3,erased_blocks=0.25)")
        self.input_noise_edit.setToolTip("Denoising: noise added to each training digit (kinds: gaussian, salt_and_pepper, erased_blocks, stroke_across; strength up to 0..1), the clean digit the target")

        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 10_000)
        self.init_from_edit = QLineEdit()
        self.init_from_edit.setPlaceholderText("random weights")
        self.init_from_edit.setToolTip(
            "Fine-tune: start from this checkpoint's network (and its linear probe as the classifier) instead of random weights; "
            "its network must match the one above. Use a lower learning rate than from scratch."
        )
        self.init_from_button = QPushButton("Browse…")
        self.output_edit = QLineEdit()
        self.output_button = QPushButton("Browse…")

        self.command_view = QPlainTextEdit()
        self.command_view.setReadOnly(True)
        self.command_view.setMaximumHeight(90)
        self.command_view.setAccessibleName("command")
        self.copy_button = QPushButton("Copy command")
        self.copy_button.setToolTip("The same run on another machine (add --trainer.devices N or --trainer.num_nodes N for more GPUs)")
        self.problem_label = QLabel("")
        self.problem_label.setStyleSheet("color: #b00020")
        self.problem_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)

        data_box = QGroupBox("Data")
        data_form = QFormLayout(data_box)
        data_form.addRow("Digits", self.data_combo)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_dir_edit, 1)
        folder_row.addWidget(self.data_dir_button)
        data_form.addRow("Folder", folder_row)
        data_form.addRow("Training digits", self.limit_spin)
        network_box = QGroupBox("Network")
        network_form = QFormLayout(network_box)
        network_form.addRow("Architecture", self.architecture_combo)
        network_form.addRow("Bottleneck k", self.latent_spin)
        network_form.addRow("Width", self.width_spin)
        network_form.addRow("Hidden layers", self.layers_spin)
        network_form.addRow("Channels", self.channels_spin)
        vae_row = QHBoxLayout()
        vae_row.addWidget(self.variational_box)
        vae_row.addWidget(QLabel("beta"))
        vae_row.addWidget(self.beta_spin)
        network_form.addRow("", vae_row)
        network_form.addRow("Classifier weight", self.classifier_spin)
        network_form.addRow("Outlier exposure", self.outlier_spin)
        network_form.addRow("Augmentation", self.augmentation_spin)
        network_form.addRow("Learning rate", self.learning_rate_spin)
        network_form.addRow("Input noise", self.input_noise_edit)
        run_box = QGroupBox("Run")
        run_form = QFormLayout(run_box)
        run_form.addRow("Epochs", self.epochs_spin)
        start_row = QHBoxLayout()
        start_row.addWidget(self.init_from_edit, 1)
        start_row.addWidget(self.init_from_button)
        run_form.addRow("Start from", start_row)
        output_row = QHBoxLayout()
        output_row.addWidget(self.output_edit, 1)
        output_row.addWidget(self.output_button)
        run_form.addRow("Output folder", output_row)

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
        layout = QVBoxLayout(self)
        layout.addLayout(preset_row)
        layout.addLayout(columns)
        layout.addLayout(command_row)
        layout.addWidget(self.command_view)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

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
        for spin in (self.limit_spin, self.latent_spin, self.width_spin, self.layers_spin, self.channels_spin, self.epochs_spin, self.beta_spin, self.classifier_spin, self.outlier_spin, self.augmentation_spin, self.learning_rate_spin):
            spin.valueChanged.connect(self._on_field_changed)
        self.variational_box.toggled.connect(self._on_field_changed)

    # --- the plan <-> the fields ------------------------------------------------------------
    def set_plan(self, plan: TrainingPlan) -> None:
        self._updating = True
        self.data_combo.setCurrentIndex(max(0, self.data_combo.findData(plan.data_source)))
        self.data_dir_edit.setText(plan.data_dir)
        self.limit_spin.setValue(plan.limit_train)
        self.architecture_combo.setCurrentText(plan.architecture)
        self.latent_spin.setValue(plan.latent_dim)
        self.width_spin.setValue(plan.hidden_dim)
        self.layers_spin.setValue(plan.hidden_layers)
        self.channels_spin.setValue(plan.channels)
        self.variational_box.setChecked(plan.variational)
        self.beta_spin.setValue(plan.beta)
        self.classifier_spin.setValue(plan.classifier_weight)
        self.outlier_spin.setValue(plan.outlier_weight)
        self.augmentation_spin.setValue(plan.augmentation)
        self.learning_rate_spin.setValue(plan.learning_rate)
        self.epochs_spin.setValue(plan.max_epochs)
        self.output_edit.setText(plan.output_dir)
        self.init_from_edit.setText(plan.init_from)
        self.input_noise_edit.setText(plan.input_noise)
        self._updating = False
        self._on_field_changed()

    def plan(self) -> TrainingPlan:
        return TrainingPlan(
            output_dir=self.output_edit.text().strip(),
            data_source=self.data_combo.currentData(),
            data_dir=self.data_dir_edit.text().strip(),
            limit_train=self.limit_spin.value(),
            architecture=self.architecture_combo.currentText(),
            latent_dim=self.latent_spin.value(),
            hidden_dim=self.width_spin.value(),
            hidden_layers=self.layers_spin.value(),
            channels=self.channels_spin.value(),
            variational=self.variational_box.isChecked(),
            beta=self.beta_spin.value(),
            classifier_weight=self.classifier_spin.value(),
            outlier_weight=self.outlier_spin.value(),
            augmentation=self.augmentation_spin.value(),
            learning_rate=self.learning_rate_spin.value(),
            max_epochs=self.epochs_spin.value(),
            init_from=self.init_from_edit.text().strip(),
            input_noise=self.input_noise_edit.text().strip(),
        )

    def _on_field_changed(self, *_) -> None:
        if self._updating:
            return
        plan = self.plan()
        folder = plan.data_source == "folder"
        self.data_dir_edit.setEnabled(folder)
        self.data_dir_button.setEnabled(folder)
        self.beta_spin.setEnabled(plan.variational)
        self.channels_spin.setEnabled(plan.architecture == "conv")
        self.command_view.setPlainText(plan.shell_command())
        self.preset_combo.blockSignals(True)  # the preset the values match, or Custom once edited
        self.preset_combo.setCurrentText(matching_preset(plan) or CUSTOM)
        self.preset_combo.blockSignals(False)
        problems = plan.problems()
        self.problem_label.setText("; ".join(problems))
        self.train_button.setEnabled(not problems)
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

