"""The app's state without any view: the model, the sketch, the requested code, the selection.

Every request (a sketch, a slider move, a map click, a selection, a projection, models to
compare, kept end points) is stored here at once, on the caller's thread; only the
computation runs through the injected executor, on channels whose latest request wins, so a
fast stroke never builds a backlog. A job captures what it needs when it is submitted and
changes no state; its result is published through the signals below, to which each view
subscribes itself.

The thread rule (docs/architecture.md): what a job reads never changes once published (the
session is a frozen value, replaced whole; requests are copied), caches are keyed by value, and
every job starts in ``BackgroundTasks``, which reports a failure to its requester, never raises.

This module imports neither torch nor Qt at import time: the window can be built and painted
while the model's libraries still load in the background.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aegui.core.events import Signal
from aegui.core.executor import Executor
from aegui.core.noise import NO_NOISE, NoiseSettings
from aegui.core.noisy_sketch import analyse_with_noise
from aegui.core.preprocess import to_mnist
from aegui.core.projection import default_cache_dir, fit_projection
from aegui.core.tasks import BackgroundTasks

if TYPE_CHECKING:
    from aegui.core.model_files import LoadedModel
    from aegui.core.resources import LabelledImages
    from aegui.core.session import Analysis, DecodedGrid, ModelSession

LIVE = "live"
MODEL = "model"
PROJECTION = "projection"
COMPARE = "compare"
GRID = "grid"  # the decoded map behind the map's points
SALIENCY = "saliency"  # where the selected dimension looks, after each sketch's analysis
SKETCH = "sketch"
DIRECTION = "direction"  # the code moved along named property directions


def _kernel(module: str):
    """A kernel module that imports torch, imported when a job first needs it (not at start-up)."""
    return importlib.import_module(f"aegui.core.{module}")


class Explorer:
    def __init__(self, reference: LabelledImages, executor: Executor, projection_method: str = "pca", projection_cache_dir: Path | None = None, seed: int | None = None):
        self.reference = reference
        self.projection_cache_dir = projection_cache_dir or default_cache_dir()
        self._rng = np.random.default_rng(seed)
        # --- state: each field is the request as last made ---------------------------------
        self.session: ModelSession | None = None  # a frozen value, replaced whole (thread rule)
        self.projection_method = projection_method
        self.sketch: np.ndarray | None = None  # the drawing's raster, None when blank
        self.origin = "mean"  # what set the current code: sketch, sliders, map, random, mean, interpolation
        self.code: np.ndarray | None = None  # the requested code; None while the sketch sets it
        self.selected_dimension: int | None = None
        self.decoded_map_shown = False
        self._decoded_grids: dict[tuple[int, str], DecodedGrid] = {}  # (model number, map name) -> grid
        self._direction_base: np.ndarray | None = None  # the code the named directions move from
        self.direction_amounts: dict[str, float] = {}
        self.kept_codes: dict[str, np.ndarray] = {}  # "A" and "B" for interpolation
        self.compared_paths: list[Path] = []
        self.compared_models: list[LoadedModel] = []
        self.noise: NoiseSettings = NO_NOISE  # added to the sketch's model input
        # --- results -------------------------------------------------------------------------
        self.analysis: Analysis | None = None  # the newest result published
        self.trail: list[np.ndarray] = []  # map positions of the sketch over the current stroke
        self.drawing = False  # a stroke is under way (between pen down and pen up)
        # --- events ------------------------------------------------------------------------------
        self.model_changed = Signal()  # (ModelSession)
        self.model_load_failed = Signal()  # (path, message)
        self.analysis_changed = Signal()  # (Analysis)
        self.sketch_changed = Signal()  # (has a sketch: bool)
        self.selection_changed = Signal()  # (dimension or None)
        self.projection_method_changed = Signal()  # (method)
        self.projection_changed = Signal()  # (ModelSession), the same model on the refitted map
        self.projection_failed = Signal()  # (method, message)
        self.tasks = BackgroundTasks(executor)  # every job goes through it: one failure path
        self.task_started, self.task_finished, self.task_failed = self.tasks.started, self.tasks.finished, self.tasks.unclaimed_failure
        self.kept_changed = Signal()  # (dict of kept codes)
        self.comparison_changed = Signal()  # (list of LoadedModel, list of problems)
        self.decoded_map_changed = Signal()  # (DecodedGrid or None)
        self.saliency_changed = Signal()  # (dimension, 28 x 28 gradient) or (None, None)
        self.noise_changed = Signal()  # (NoiseSettings)

    # --- models ----------------------------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        """Load a model in the background; on failure the current model stays loaded."""
        path = Path(path)
        method, reference, cache_dir = self.projection_method, self.reference, self.projection_cache_dir

        def done(session: ModelSession) -> None:
            self._set_session(session)
            if method != self.projection_method:  # the map changed while the model loaded
                self._fit_map()

        self.tasks.run(MODEL, f"Loading {path.name}", lambda: _kernel("session").ModelSession.from_file(path, reference, method, cache_dir), done, lambda message: self.model_load_failed.emit(path, message))

    def _set_session(self, session: ModelSession) -> None:
        self.session = session
        self.kept_codes.clear()  # codes of another model mean nothing here
        self.kept_changed.emit(self.kept_codes)
        if self.selected_dimension is not None and self.selected_dimension >= session.latent_dim:
            self.select_dimension(None)
        if self.origin != SKETCH:  # codes of another model mean nothing here
            self.code, self.origin = None, "mean"
        self.trail.clear()
        self._decoded_grids = {key: grid for key, grid in self._decoded_grids.items() if key[0] == session.model_number}
        self.model_changed.emit(session)
        self._resubmit()
        self._request_decoded_map()

    def set_projection_method(self, method: str) -> None:
        """Refit the map with another projection in the background (the old map stays meanwhile)."""
        if method != self.projection_method:
            self.projection_method = method
            self.projection_method_changed.emit(method)
        self._fit_map()

    def _fit_map(self) -> None:
        session, method = self.session, self.projection_method
        if session is None:
            return

        def done(projection) -> None:
            current = self.session
            if current is None or current.model_number != session.model_number or method != self.projection_method:
                return  # another model or map was asked for meanwhile
            self.session = current.with_projection(projection)  # a new value: workers keep the old one
            self.trail.clear()
            self.projection_changed.emit(self.session)
            self._resubmit()
            self._request_decoded_map()

        codes, cache_dir = session.reference_codes, self.projection_cache_dir
        self.tasks.run(PROJECTION, f"Fitting the {method.upper()} map", lambda: fit_projection(method, codes, cache_dir), done, lambda message: self.projection_failed.emit(method, message))

    # --- the sketch ------------------------------------------------------------------------
    def begin_stroke(self) -> None:
        self.trail.clear()
        self.drawing = True

    def end_stroke(self) -> None:  # pen up: what follows whole strokes takes the next analysis
        self.drawing = False

    def set_sketch(self, raster: np.ndarray | None) -> None:
        """A new raster of the drawing (float ink 0..1, or uint8 ink 0..255, at canvas
        resolution); None or blank clears it and shows the mean code."""
        had_sketch = self.sketch is not None
        if raster is None or not np.any(raster):
            self.sketch = None
            self.trail.clear()
            if had_sketch:
                self.sketch_changed.emit(False)
            self.reset_to_mean()
            return
        self.sketch = raster
        self.origin, self.code = SKETCH, None
        if not had_sketch:
            self.sketch_changed.emit(True)
        self._submit_live()

    def back_to_sketch(self) -> None:
        if self.sketch is not None:
            self.origin, self.code = SKETCH, None
            self._submit_live()

    def set_noise(self, settings: NoiseSettings) -> None:
        """Add this noise to what the model sees of the sketch from now on (stored at once)."""
        if settings == self.noise:
            return
        self.noise = settings
        self.noise_changed.emit(settings)
        if self.origin == SKETCH:
            self._submit_live()

    # --- codes -----------------------------------------------------------------------------
    def current_code(self) -> np.ndarray | None:
        """The code as last requested; for a sketch, its newest encoding."""
        if self.code is not None:
            return self.code
        if self.analysis is not None and self.session is not None and self.analysis.session.model_number == self.session.model_number:
            return self.analysis.code
        return None

    def set_dimension(self, dimension: int, value: float) -> None:
        """Move one dimension of the requested code (not of the last result: moves made
        before a result returns all survive)."""
        code = self.current_code()
        if code is None:
            return
        code = code.copy()
        code[dimension] = value
        self._request_code(code, "sliders")

    def set_map_point(self, x: float, y: float) -> None:
        if self.session is None:
            return
        point = self.session.clamp_map_point(float(x), float(y))
        if point is None:
            return
        code = self.session.projection.inverse_transform(np.array([point], dtype=np.float32))[0]
        self._request_code(code, "map")

    def show_decoded_map(self, shown: bool) -> None:
        """Decoded digits on a grid behind the map: computed in the background, once per model
        and map (kept while the app runs)."""
        self.decoded_map_shown = bool(shown)
        self._request_decoded_map()

    def _request_decoded_map(self) -> None:
        session = self.session
        if not self.decoded_map_shown or session is None:
            self.decoded_map_changed.emit(None)
            return
        key = (session.model_number, session.projection.name)
        if key in self._decoded_grids:
            self.decoded_map_changed.emit(self._decoded_grids[key])
            return

        def done(grid: DecodedGrid) -> None:
            current = self.session
            if current is None or current.model_number != key[0]:
                return  # another model: its own grid is requested with it
            self._decoded_grids[key] = grid
            if self.decoded_map_shown and key == (current.model_number, current.projection.name):
                self.decoded_map_changed.emit(grid)

        self.tasks.run(GRID, "Decoding the map", session.decoded_grid, done)

    def set_direction(self, name: str, amount: float) -> None:
        """Move the code along the named property's direction by ``amount`` spreads of the
        training codes, from the code shown when the first direction moved (the sketch's, or
        one made with the sliders or the map); other directions keep their amounts."""
        if self.session is None or name not in self.session.property_directions:
            return
        if self.origin != DIRECTION or self._direction_base is None:
            base = self.current_code()
            if base is None:
                return
            self._direction_base, self.direction_amounts = base.copy(), {}
        self.direction_amounts[name] = float(amount)
        code = self._direction_base.astype(np.float64).copy()
        for moved, value in self.direction_amounts.items():
            direction, spread, _ = self.session.property_directions[moved]
            code += value * spread * direction
        self._request_code(code, DIRECTION)

    def direction_sweep(self, name: str | None = None, steps: int = 9) -> np.ndarray:
        """The code on show (before any direction moved it) decoded along a named direction
        (by default the one moved last) from -3 to +3 spreads; empty without a model, a code or
        directions. ``direction_sweep_job`` captures it now to compute it off the GUI thread."""
        return self.direction_sweep_job(name, steps)()

    def direction_sweep_job(self, name: str | None = None, steps: int = 9):
        session = self.session
        base = self._direction_base if self.origin == DIRECTION and self._direction_base is not None else self.current_code()
        if session is None or not session.property_directions or base is None:
            return lambda: np.zeros((0, 28, 28), np.float32)
        direction, spread, _ = session.property_directions[name or next(reversed(self.direction_amounts), None) or next(iter(session.property_directions))]
        codes = [np.array(base, np.float32) + amount * spread * direction for amount in np.linspace(-3.0, 3.0, steps)]
        return lambda: session.decode_many(np.stack([session.clamp_code(code) for code in codes]))

    def sample_random(self) -> None:
        if self.session is not None:
            self._request_code(self.session.random_code(self._rng), "random")

    def reset_to_mean(self) -> None:
        if self.session is not None:
            self._request_code(self.session.latent_mean, "mean")
        else:
            self.origin, self.code = "mean", None

    def interpolate(self, fraction: float) -> None:
        """Move to the code a ``fraction`` of the way from A to B."""
        if "A" in self.kept_codes and "B" in self.kept_codes:
            self._request_code((1 - fraction) * self.kept_codes["A"] + fraction * self.kept_codes["B"], "interpolation")

    def _request_code(self, code: np.ndarray, origin: str) -> None:
        code = np.array(code, dtype=np.float32).reshape(-1)
        if self.session is not None and len(code) == self.session.latent_dim:
            code = self.session.clamp_code(code)  # finite and bounded before it is stored
        self.origin, self.code = origin, code
        self._submit_live()

    # --- what the strips show --------------------------------------------------------------
    def select_dimension(self, dimension: int | None) -> None:
        """Show the traversal strip of ``dimension`` with every analysis from now on."""
        if dimension == self.selected_dimension:
            return
        self.selected_dimension = dimension
        self.selection_changed.emit(dimension)
        if dimension is None:
            self.saliency_changed.emit(None, None)  # at once: nothing is selected any more
        self._resubmit()

    def keep_current(self, slot: str) -> None:
        """Keep the current code as end point "A" or "B" of the interpolation."""
        code = self.current_code()
        if code is not None:
            self.kept_codes[slot] = code.copy()
            self.kept_changed.emit(self.kept_codes)
            self._resubmit()

    def open_comparison(self, paths: list[Path]) -> None:
        """Load models to compare side by side, in the background; bad files are reported."""
        self.compared_paths = requested = [Path(p) for p in paths]

        def done(result) -> None:
            if requested != self.compared_paths:
                return  # a newer comparison was asked for meanwhile
            self.compared_models = result[0]
            self.comparison_changed.emit(self.compared_models, result[1])
            self._resubmit()

        self.tasks.run(COMPARE, f"Loading {len(paths)} models to compare", lambda: _kernel("comparison").load_models(requested), done, lambda message: self.comparison_changed.emit(self.compared_models, [message]))

    def open_family(self, family_file: Path) -> None:
        """Compare the checkpoints a sweep listed in its family.json."""
        self.open_comparison(_kernel("comparison").read_family(family_file))

    def clear_comparison(self) -> None:
        self.compared_paths, self.compared_models = [], []
        self.comparison_changed.emit([], [])
        self._resubmit()

    # --- the live computation --------------------------------------------------------------
    def _resubmit(self) -> None:
        """Compute the current request again (the model, map or strips changed)."""
        if self.origin == SKETCH and self.sketch is None:
            self.origin = "mean"
        if self.origin == "mean" or (self.code is None and self.origin != SKETCH):
            self.reset_to_mean()
        else:
            self._submit_live()

    def _submit_live(self) -> None:
        """Capture the request and hand its computation to the live channel."""
        session = self.session
        if session is None:
            return
        origin, code, sketch = self.origin, self.code, self.sketch
        dimension, compared = self.selected_dimension, list(self.compared_models)
        kept, noise = dict(self.kept_codes), self.noise
        moved = next(reversed(self.direction_amounts), None) if origin == DIRECTION else None
        sweep = self.direction_sweep_job(moved) if moved is not None else None

        def analyse() -> Analysis:
            if origin == SKETCH:
                if noise.is_off():
                    analysis = session.analyse_image(to_mnist(sketch), SKETCH)
                else:
                    analysis = analyse_with_noise(session, to_mnist(sketch), noise, SKETCH)
            else:
                analysis = session.analyse_code(code, origin)
            if dimension is not None and dimension < session.latent_dim:
                analysis.extras["traversal"] = (dimension, *session.traversal(analysis.code, dimension))
            if "A" in kept and "B" in kept:
                analysis.extras["interpolation"] = session.interpolation(kept["A"], kept["B"])
            if compared:
                given, image = ("sketch" if noise.is_off() else "noisy sketch", analysis.input_image) if analysis.input_image is not None else ("decoded", analysis.reconstruction)
                analysis.extras["comparison"], analysis.extras["comparison_input"] = _kernel("comparison").compare_reconstructions(compared, image), given
            if sweep is not None:  # Edit by meaning: the sweep along the direction moved last, live
                analysis.extras["direction_sweep"] = (moved, sweep())
            return analysis

        self.tasks.run(LIVE, "", analyse, self._on_live_done)

    def _on_live_done(self, analysis: Analysis) -> None:
        if analysis.session is not self.session:
            return  # computed with a model or map that has since been replaced
        self.analysis = analysis
        if analysis.origin == SKETCH:
            self.trail.append(analysis.map_position)
        self.analysis_changed.emit(analysis)
        self._request_saliency()

    def _request_saliency(self) -> None:
        """Where the selected dimension looks in the sketch: one backward pass, after the analysis is shown."""
        analysis, dimension = self.analysis, self.selected_dimension
        if analysis is None or dimension is None or analysis.input_image is None or dimension >= analysis.session.latent_dim:
            self.saliency_changed.emit(None, None)
            return
        session, image = analysis.session, analysis.input_image

        def done(gradient) -> None:
            current = self.session
            if current is not None and current.model_number == session.model_number and dimension == self.selected_dimension:
                self.saliency_changed.emit(dimension, gradient)

        self.tasks.run(SALIENCY, "", lambda: session.saliency(image, dimension), done)
