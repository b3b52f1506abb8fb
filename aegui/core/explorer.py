"""The app's state without any view: the loaded model, the sketch, the current code.

Views subscribe to the signals below and forward user intent to the methods; the explorer
never knows which views exist. Slow work goes through the injected executor on two channels,
"model" (loading, fitting a map) and "live" (encoding and decoding as the user draws), each
latest-wins, so a fast stroke never builds a backlog.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from aegui.core.checkpoint import CheckpointError, LoadedModel, load_model
from aegui.core.events import Signal
from aegui.core.executor import Executor
from aegui.core.preprocess import to_mnist
from aegui.core.projection import default_cache_dir, fit_projection
from aegui.core.resources import ReferenceDigits
from aegui.core.session import Analysis, ModelSession, compare_reconstructions

LIVE = "live"
MODEL = "model"
COMPARE = "compare"
MAX_FAMILY_SIZE = 12


def read_family(family_file: Path) -> list[Path]:
    """Checkpoint paths listed in a sweep's family.json (relative to that file)."""
    family_file = Path(family_file)
    try:
        listing = json.loads(family_file.read_text())
        paths = [family_file.parent / str(item) for item in listing["checkpoints"]][:MAX_FAMILY_SIZE]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{family_file.name} is not a sweep family list ({error}).") from None
    return paths


class Explorer:
    def __init__(self, reference: ReferenceDigits, executor: Executor, projection_method: str = "pca", seed: int | None = None):
        self.reference = reference
        self.executor = executor
        self.projection_method = projection_method
        self.projection_cache_dir = default_cache_dir()
        self.session: ModelSession | None = None
        self.analysis: Analysis | None = None
        self.sketch_raster: np.ndarray | None = None
        self.sketch_analysis: Analysis | None = None
        self.trail: list[np.ndarray] = []
        self.selected_dimension: int | None = None
        self.kept_codes: dict[str, np.ndarray] = {}  # "A" and "B" for interpolation
        self.compared_models: list[LoadedModel] = []
        self._rng = np.random.default_rng(seed)
        self.model_changed = Signal()  # (ModelSession)
        self.model_load_failed = Signal()  # (path, message)
        self.model_loading = Signal()  # (path)
        self.analysis_changed = Signal()  # (Analysis)
        self.projection_changed = Signal()  # (ModelSession)
        self.projection_failed = Signal()  # (method, message)
        self.task_started = Signal()  # (description)
        self.task_finished = Signal()  # (description)
        self.kept_changed = Signal()  # (dict of kept codes)
        self.comparison_changed = Signal()  # (list of LoadedModel, list of problems)

    # --- models ----------------------------------------------------------------------------
    def open_model(self, path: str | Path) -> None:
        """Load a model in the background; on failure the current model stays loaded."""
        path = Path(path)
        method = self.projection_method
        reference = self.reference
        cache_dir = self.projection_cache_dir
        description = f"Loading {path.name}"
        self.model_loading.emit(path)
        self.task_started.emit(description)

        def done(session: ModelSession) -> None:
            self.task_finished.emit(description)
            self._set_session(session)

        def failed(error: BaseException) -> None:
            self.task_finished.emit(description)
            self.model_load_failed.emit(path, str(error))

        self.executor.submit(MODEL, lambda: ModelSession.from_file(path, reference, method, cache_dir), done, failed)

    def _set_session(self, session: ModelSession) -> None:
        self.session = session
        self.kept_codes.clear()  # codes of another model mean nothing here
        self.kept_changed.emit(self.kept_codes)
        if self.selected_dimension is not None and self.selected_dimension >= session.latent_dim:
            self.selected_dimension = None
        self.model_changed.emit(session)
        self.trail.clear()
        if self.sketch_raster is not None:
            self.set_sketch(self.sketch_raster)
        else:
            self.reset_to_mean()

    def set_projection_method(self, method: str) -> None:
        """Refit the map with another projection in the background (the old map stays meanwhile)."""
        self.projection_method = method
        session = self.session
        if session is None:
            return
        description = f"Fitting the {method.upper()} map"
        self.task_started.emit(description)

        def done(projection) -> None:
            self.task_finished.emit(description)
            if session is not self.session:
                return
            session.set_projection(projection)
            self.trail.clear()
            self.projection_changed.emit(session)
            if self.analysis is not None:
                self._analyse_code(self.analysis.code, self.analysis.origin)

        def failed(error: BaseException) -> None:
            self.task_finished.emit(description)
            self.projection_failed.emit(method, str(error))

        codes = session.reference_codes
        cache_dir = self.projection_cache_dir
        self.executor.submit(MODEL, lambda: fit_projection(method, codes, cache_dir), done, failed)

    # --- the sketch ------------------------------------------------------------------------
    def begin_stroke(self) -> None:
        self.trail.clear()

    def set_sketch(self, raster: np.ndarray | None) -> None:
        """A new raster of the drawing (float ink 0..1, or uint8 ink 0..255, at canvas
        resolution); None or blank clears."""
        if raster is None or not np.any(raster):
            self.sketch_raster = None
            self.sketch_analysis = None
            self.trail.clear()
            self.reset_to_mean()
            return
        self.sketch_raster = raster
        session = self.session
        if session is None:
            return
        self._submit_live(lambda: session.analyse_image(to_mnist(raster), "sketch"))

    # --- codes -----------------------------------------------------------------------------
    def set_code(self, code: np.ndarray, origin: str) -> None:
        self._analyse_code(code, origin)

    def set_dimension(self, dimension: int, value: float) -> None:
        if self.analysis is None:
            return
        code = self.analysis.code.copy()
        code[dimension] = value
        self._analyse_code(code, "sliders")

    def set_map_point(self, x: float, y: float) -> None:
        if self.session is None:
            return
        code = self.session.projection.inverse_transform(np.array([[x, y]], dtype=np.float32))[0]
        self._analyse_code(code, "map")

    def back_to_sketch(self) -> None:
        if self.sketch_raster is not None:
            self.set_sketch(self.sketch_raster)

    def sample_random(self) -> None:
        if self.session is not None:
            self._analyse_code(self.session.random_code(self._rng), "random")

    def reset_to_mean(self) -> None:
        if self.session is not None:
            self._analyse_code(self.session.latent_mean, "mean")

    def select_dimension(self, dimension: int | None) -> None:
        """Show the traversal strip of ``dimension`` with every analysis from now on."""
        self.selected_dimension = dimension
        self._refresh()

    def _refresh(self) -> None:
        """Recompute the current analysis (its strips depend on the selection and kept codes)."""
        if self.analysis is None:
            return
        if self.analysis.origin == "sketch":
            self.back_to_sketch()
        else:
            self._analyse_code(self.analysis.code, self.analysis.origin)

    def keep_current(self, slot: str) -> None:
        """Keep the current code as end point "A" or "B" of the interpolation."""
        if self.analysis is not None:
            self.kept_codes[slot] = self.analysis.code.copy()
            self.kept_changed.emit(self.kept_codes)
            self._refresh()

    def interpolate(self, fraction: float) -> None:
        """Move to the code a ``fraction`` of the way from A to B."""
        if "A" in self.kept_codes and "B" in self.kept_codes:
            code = (1 - fraction) * self.kept_codes["A"] + fraction * self.kept_codes["B"]
            self._analyse_code(code, "interpolation")

    def open_comparison(self, paths: list[Path]) -> None:
        """Load models to compare side by side, in the background; bad files are reported."""
        description = f"Loading {len(paths)} models to compare"
        self.task_started.emit(description)

        def load_all():
            models, problems = [], []
            for path in paths:
                try:
                    models.append(load_model(path))
                except CheckpointError as error:
                    problems.append(f"{Path(path).name}: {error}")
            return models, problems

        def done(result) -> None:
            self.task_finished.emit(description)
            self.compared_models = result[0]
            self.comparison_changed.emit(self.compared_models, result[1])
            self._refresh()

        def failed(error: BaseException) -> None:
            self.task_finished.emit(description)
            self.comparison_changed.emit(self.compared_models, [str(error)])

        self.executor.submit(COMPARE, load_all, done, failed)

    def open_family(self, family_file: Path) -> None:
        """Compare the checkpoints a sweep listed in its family.json."""
        self.open_comparison(read_family(family_file))

    def clear_comparison(self) -> None:
        self.compared_models = []
        self.comparison_changed.emit([], [])
        self._refresh()

    def _analyse_code(self, code: np.ndarray, origin: str) -> None:
        session = self.session
        if session is None:
            return
        code = np.array(code, dtype=np.float32)
        self._submit_live(lambda: session.analyse_code(code, origin))

    def _submit_live(self, job) -> None:
        dimension = self.selected_dimension
        kept = dict(self.kept_codes)
        compared = list(self.compared_models)

        def analyse_with_strips() -> Analysis:
            analysis = job()
            session = analysis.session
            if dimension is not None and dimension < session.latent_dim:
                analysis.extras["traversal"] = (dimension, *session.traversal(analysis.code, dimension))
            if "A" in kept and "B" in kept:
                analysis.extras["interpolation"] = session.interpolation(kept["A"], kept["B"])
            if compared:
                image = analysis.input_image if analysis.input_image is not None else analysis.reconstruction
                analysis.extras["comparison"] = compare_reconstructions(compared, image)
            return analysis

        self.executor.submit(LIVE, analyse_with_strips, self._on_live_done, self._on_live_failed)

    def _on_live_done(self, analysis: Analysis) -> None:
        if analysis.session is not self.session:
            return  # computed with a model that has since been replaced
        self.analysis = analysis
        if analysis.origin == "sketch":
            self.sketch_analysis = analysis
            self.trail.append(analysis.map_position)
        self.analysis_changed.emit(analysis)

    def _on_live_failed(self, error: BaseException) -> None:
        raise error
