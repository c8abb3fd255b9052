import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from skmm import MultiModalData  # noqa: E402
from skmm.benchmark import BenchmarkResult  # noqa: E402
from skmm.plotting import (  # noqa: E402
    BenchmarkDisplay,
    MissingPatternDisplay,
    TrainingCurveDisplay,
)


def test_missing_pattern_display():
    a = np.ones((4, 2))
    a[1] = np.nan
    disp = MissingPatternDisplay.from_data(MultiModalData(a=a, b=np.ones((4, 1))))
    assert disp.observed.shape == (4, 2)
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["a\n75%", "b\n100%"]


def test_benchmark_display_one_line_per_method():
    results = [BenchmarkResult("mean", r, 0.9 - r / 10, 0.01, 1.0, 0.1) for r in (0.3, 0.5)]
    results.append(BenchmarkResult("knn", 0.3, 0.8, 0.02, 1.0, 0.1))
    disp = BenchmarkDisplay.from_results(results)
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == ["mean", "knn"]


def test_benchmark_display_rmse_leaves_out_methods_without_it():
    results = [BenchmarkResult("mean", r, 0.9, 0.01, 1.0 + r, 0.1) for r in (0.3, 0.5)]
    results.append(BenchmarkResult("zero+indicator", 0.3, 0.9, 0.01, float("nan"), 0.1))
    disp = BenchmarkDisplay.from_results(results, metric="rmse")
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == ["mean"]
    np.testing.assert_allclose(disp.ax_.lines[0].get_ydata(), [1.3, 1.5])
    with pytest.raises(ValueError, match="metric"):
        BenchmarkDisplay(results, metric="f1")


def test_training_curve_display_from_history():
    class Fitted:
        history_ = [{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.0}]

    disp = TrainingCurveDisplay.from_estimator(Fitted())
    np.testing.assert_array_equal(disp.ax_.lines[0].get_ydata(), [2.0, 1.0])
