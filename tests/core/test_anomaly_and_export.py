import numpy as np
import pytest

from aegui.core.anomaly import error_percentile, reconstruction_error, verdict
from aegui.core.export import load_code, save_code


def test_percentile_reads_the_stored_distribution():
    quantiles = np.linspace(0.0, 0.1, 1001)  # uniform errors on [0, 0.1]
    assert error_percentile(0.05, quantiles) == pytest.approx(50.0)
    assert error_percentile(0.099, quantiles) == pytest.approx(99.0)
    assert error_percentile(1.0, quantiles) == 100.0
    assert error_percentile(-1.0, quantiles) == 0.0


def test_verdicts_at_the_documented_thresholds():
    assert verdict(50) == "typical digit"
    assert verdict(97) == "unusual"
    assert verdict(99.5) == "not a digit"


def test_reconstruction_error_is_mean_squared_error_per_pixel():
    a = np.zeros((28, 28))
    b = np.full((28, 28), 0.5)
    assert reconstruction_error(a, b) == pytest.approx(0.25)


@pytest.mark.parametrize("suffix", [".json", ".csv", ".npy"])
def test_code_round_trips(tmp_path, suffix):
    code = np.array([0.5, -1.25, 3.0], np.float32)
    save_code(tmp_path / f"code{suffix}", code, {"checkpoint": "x.ckpt"})
    assert np.array_equal(load_code(tmp_path / f"code{suffix}"), code)


def test_unknown_code_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        save_code(tmp_path / "code.txt", np.zeros(2))
