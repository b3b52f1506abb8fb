"""The one table of a training run's hyperparameters: defaults, allowed values, and the
sentence that refuses anything else.

Read by the training module's signature (``training/module.py``), ``aegui-train``'s checks
before Lightning starts (``training/arguments.py``), the Train dialog's plan and its presets
(``aegui/core/training_plan.py``) and the checkpoint reader (a file's values must be allowed
too). Plain Python: no torch, Qt or Lightning, so the command line can refuse a mistake in a
fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aegui.core.noise import input_noise_problem
from aegui.core.quoting import quote

ARCHITECTURES = ("dense", "conv")
RECONSTRUCTION_LOSSES = ("bce", "mse")
RESTYLE_TARGETS = ("clean", "restyled")

def _number(value: float) -> str:
    """1 rather than 1.0, 100000000 rather than 1e+08; 0.003 as it is."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


class HyperparameterError(ValueError):
    """A value the table does not allow; ``sentence`` names the option, the value and what is allowed."""

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


@dataclass(frozen=True)
class Hyperparameter:
    """One setting of a training run: ``--{group}.{name}`` on the command line."""

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    defines_network: bool = False
    group: str = "model"  # model, data or trainer: the LightningCLI group of its flag
    above_low: bool = False  # low itself is not allowed (a learning rate of 0 trains nothing)
    also: tuple[Any, ...] = ()  # values allowed outside the range (-1: no limit)
    help: str = ""
    check: Callable[[Any], str | None] | None = None  # a further rule for a text value
    allowed_text: str = ""  # what is allowed, in words, when ``check`` decides it

    @property
    def option(self) -> str:
        return f"--{self.group}.{self.name}"

    def allowed(self) -> str:
        """What may be given, in words: 'from 1 to 256', 'above 0', 'one of dense, conv'."""
        if self.allowed_text:
            return self.allowed_text
        if self.choices is not None:
            return f"one of {', '.join(self.choices)}"
        if self.kind is bool:
            return "true or false"
        if self.low is None:
            return f"a {self.kind.__name__}"
        low = _number(self.low)
        if self.high is None or math.isinf(self.high):
            text = f"above {low}" if self.above_low else f"{low} or more"
        else:
            text = f"above {low} and at most {_number(self.high)}" if self.above_low else f"from {low} to {_number(self.high)}"
        return text + "".join(f", or {value} for no limit" for value in self.also)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed (as a file's value: '<name> must be ..., got ...'), or None."""
        accepted = (int, float) if self.kind is float else (self.kind,)
        if not isinstance(value, accepted) or (isinstance(value, bool) and self.kind is not bool):
            return f"{self.name} must be {self.kind.__name__}, got {quote(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.name} must be finite, got {value}"
        if value in self.also:
            return None
        if self.choices is not None and value not in self.choices:
            return f"{self.name} must be {self.allowed()}, got {quote(value)}"
        if self.low is not None:
            below = value <= self.low if self.above_low else value < self.low
            if below or (self.high is not None and value > self.high):
                return f"{self.name} must be {self.allowed()}, got {quote(value)}"
        if self.check is not None:
            return self.check(value)
        return None

    def refusal(self, value: Any) -> str | None:
        """The sentence the command line and the Train dialog give for a value not allowed:
        the option, the value and what is allowed. None when it is allowed."""
        problem = self.problem(value)
        if problem is None:
            return None
        if isinstance(value, bool):
            shown = str(value).lower()
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:
            shown = str(value)[:40] if isinstance(value, (int, str)) else quote(value)
        nothing = " (nothing to train)" if self.group == "trainer" and value == 0 else ""
        if self.check is not None and isinstance(value, self.kind) and self.check(value):
            return f"{self.option} {shown}: {self.check(value).removeprefix(self.name + ': ')}"  # the rule's own words
        return f"{self.option} {shown}{nothing}: must be {self.allowed()}"

    def parse(self, text: str) -> Any:
        """The value typed as ``text`` (a flag's argument or a dialog field); raises
        HyperparameterError with the refusal when it is not allowed."""
        text = text.strip()
        try:
            if self.kind is bool:
                lowered = text.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                value: Any = lowered in ("true", "1", "yes")
            elif self.kind is int:
                value = int(text)
            elif self.kind is float:
                value = float(text)
            else:
                value = text
        except ValueError:
            kind = {int: "a whole number ", float: "a number "}.get(self.kind, "")
            raise HyperparameterError(f"{self.option} {text[:40] or '(empty)'}: must be {kind}{self.allowed()}") from None
        refusal = self.refusal(value)
        if refusal:
            raise HyperparameterError(refusal)
        return value

    def checked(self, value: Any) -> Any:
        """``value`` itself when allowed; otherwise HyperparameterError with the refusal."""
        refusal = self.refusal(value)
        if refusal:
            raise HyperparameterError(refusal)
        return value


def _table(*entries: Hyperparameter) -> dict[str, Hyperparameter]:
    return {entry.name: entry for entry in entries}


# The training module's init arguments, as checkpoints store them. The defaults are what a
# checkpoint means when it leaves a value out, so they never change for the network's own.
HYPERPARAMETERS: dict[str, Hyperparameter] = _table(
    Hyperparameter("architecture", str, "conv", choices=ARCHITECTURES, defines_network=True, help="encoder and decoder: dense or conv(olutional)"),
    Hyperparameter("latent_dim", int, 32, 1, 256, defines_network=True, help="k, the bottleneck: how many numbers the code has"),
    Hyperparameter("hidden_dim", int, 256, 4, 4096, defines_network=True, help="units of each fully connected hidden layer"),
    Hyperparameter("channels", int, 16, 1, 256, defines_network=True, help="channels of the first convolution (conv only)"),
    Hyperparameter("hidden_layers", int, 1, 1, 4, defines_network=True, help="fully connected hidden layers"),
    Hyperparameter("variational", bool, False, defines_network=True, help="a variational autoencoder (VAE)"),
    Hyperparameter("beta", float, 1.0, 0.0, 1e6, help="weight of the KL term of a VAE"),
    Hyperparameter("learning_rate", float, 3e-3, 0.0, math.inf, above_low=True, help="peak learning rate of AdamW"),
    Hyperparameter("weight_decay", float, 1e-4, 0.0, 10.0, help="AdamW's weight decay"),
    Hyperparameter("augmentation", float, 0.0, 0.0, 10.0, help="random shifts, turns and scaling of the training digits"),
    Hyperparameter("classifier_weight", float, 0.0, 0.0, 1e3, help="weight of a digit classifier on the code while training"),
    Hyperparameter("outlier_weight", float, 0.0, 0.0, 1e3, help="outlier exposure: non-digits leave the classifier undecided (needs classifier_weight)"),
    Hyperparameter("reconstruction_loss", str, "bce", choices=RECONSTRUCTION_LOSSES, help="per-pixel binary cross-entropy or mean squared error"),
    # denoising: noise added to each training input, the clean digit the target
    Hyperparameter(
        "input_noise", str, "", check=input_noise_problem, allowed_text="kinds with strengths from 0 to 1, e.g. gaussian=0.3,erased_blocks=0.25",
        help="denoising: noise added to each training input (empty: none)",
    ),
    # other hands: a share of each training batch restyled, the clean digit the target
    Hyperparameter("input_restyle", float, 0.0, 0.0, 1.0, help="share of inputs restyled"),
    Hyperparameter("outlier_drawings", bool, False, help="varied drawings among the outliers too"),
    Hyperparameter("restyle_target", str, "clean", choices=RESTYLE_TARGETS, help="rebuild restyled inputs clean or as restyled"),
)

# The run's other settings a user changes: the data module's and the trainer's.
RUN_SETTINGS: dict[str, Hyperparameter] = _table(
    Hyperparameter("batch_size", int, 128, 1, 65536, group="data", help="digits per step"),
    Hyperparameter("limit_train", int, 0, 0, 10_000_000, group="data", help="use the first N digits of the training file, a tenth of them held out for validation (0: all)"),
    Hyperparameter("val_fraction", float, 0.1, 0.0, 0.9, above_low=True, group="data", help="part of the training file held out for validation"),
    Hyperparameter("num_workers", int, 0, 0, 256, group="data", help="data-loading worker processes"),
    Hyperparameter("max_epochs", int, 20, 1, 100_000, group="trainer", also=(-1,), help="epochs to train (-1: until max_steps or stopped)"),
    Hyperparameter("max_steps", int, -1, 1, 100_000_000, group="trainer", also=(-1,), help="steps to train at most (-1: no limit)"),
)

DEFAULTS: dict[str, Any] = {name: entry.default for name, entry in HYPERPARAMETERS.items()}
RUN_DEFAULTS: dict[str, Any] = {name: entry.default for name, entry in RUN_SETTINGS.items()}

# Checked together: outlier exposure trains the code's classifier on non-digits.
OUTLIER_NEEDS_CLASSIFIER = "--model.outlier_weight needs the classifier on the code: set --model.classifier_weight above 0 as well"


def check_model_arguments(values: dict[str, Any]) -> None:
    """Raise HyperparameterError for the first model value not allowed (alone or together)."""
    for name, value in values.items():
        if name in HYPERPARAMETERS:
            HYPERPARAMETERS[name].checked(value)
    if values.get("outlier_weight", 0) > 0 and values.get("classifier_weight", DEFAULTS["classifier_weight"]) <= 0:
        raise HyperparameterError(OUTLIER_NEEDS_CLASSIFIER)


def by_option() -> dict[str, Hyperparameter]:
    """Every entry by its command-line option (``--model.latent_dim``...)."""
    return {entry.option: entry for entry in (*HYPERPARAMETERS.values(), *RUN_SETTINGS.values())}
