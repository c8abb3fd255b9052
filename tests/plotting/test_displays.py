import json
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from skmm import MultiModalData  # noqa: E402
from skmm.benchmark import BenchmarkResult, write_results  # noqa: E402
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


def test_benchmark_display_one_rate_ranks_bars_best_first():
    results = [BenchmarkResult(m, 0.5, acc, 0.01, rmse, 0.1)
               for m, acc, rmse in [("mean", 0.90, 1.0), ("knn", 0.95, 0.8),
                                    ("zero+indicator", 0.92, float("nan"))]]
    disp = BenchmarkDisplay.from_results(results)
    assert disp.kind_ == "bar" and disp.methods_ == ["knn", "zero+indicator", "mean"]
    widths = sorted((bar.get_y(), bar.get_width()) for bar in disp.ax_.patches)
    np.testing.assert_allclose([w for _, w in widths[::-1]], [0.95, 0.92, 0.90])
    rmse = BenchmarkDisplay.from_results(results, metric="rmse")
    assert rmse.methods_ == ["knn", "mean"]  # lowest error first; no RMSE left out
    lines = BenchmarkDisplay.from_results(results + [
        BenchmarkResult("mean", 0.3, 0.93, 0.01, 0.9, 0.1)], kind="auto")
    assert lines.kind_ == "line"
    with pytest.raises(ValueError, match="kind"):
        BenchmarkDisplay(results, kind="pie")


def test_benchmark_display_reads_json_rows_with_null(tmp_path):
    results = [BenchmarkResult("zero+indicator", 0.5, 0.9, 0.01, float("nan"), 0.1),
               BenchmarkResult("mean", 0.5, 0.88, 0.02, 1.0, 0.1)]
    _, json_path = write_results(results, tmp_path)
    text = json_path.read_text()
    assert "NaN" not in text
    rows = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert rows[0]["rmse"] is None and rows[1]["rmse"] == 1.0
    disp = BenchmarkDisplay.from_results(rows, metric="rmse")
    assert disp.methods_ == ["mean"]


def test_training_curve_display_from_history():
    class Fitted:
        history_ = [{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.0}]

    disp = TrainingCurveDisplay.from_estimator(Fitted())
    np.testing.assert_array_equal(disp.ax_.lines[0].get_ydata(), [2.0, 1.0])


def _fitted_coral():
    pytest.importorskip("torch")
    from skmm.embed import COrALEmbedder

    rng = np.random.default_rng(0)
    X = MultiModalData(a=rng.normal(size=(40, 3)), b=rng.normal(size=(40, 2)))
    emb = COrALEmbedder(
        embedding_dim=4, n_tokens=2, hidden_dim=8, n_heads=2, projection_dim=8,
        max_epochs=3, early_stopping=True, validation_fraction=0.25,
        n_iter_no_change=10, random_state=0,
    )
    with warnings.catch_warnings():  # 3 epochs: the validation loss still improves
        warnings.simplefilter("ignore", ConvergenceWarning)
        return emb.fit(X)


def test_training_curve_display_draws_only_losses_of_a_fitted_embedder():
    emb = _fitted_coral()
    assert "dur" in emb.history_[0]  # the bookkeeping column the default leaves out
    disp = TrainingCurveDisplay.from_estimator(emb)
    expected = [
        f"{split}_{name}"
        for split in ("train", "valid")
        for name in ("loss", "shared", "unique", "orth")
    ]
    assert sorted(disp.keys_) == sorted(expected)
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == disp.keys_
    for key, line in disp.lines_.items():
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(line.get_ydata(), [h[key] for h in emb.history_])
    assert disp.ax_.get_ylabel() == "loss"


def test_training_curve_display_draws_the_columns_named():
    emb = _fitted_coral()
    disp = TrainingCurveDisplay.from_estimator(emb, keys=["train_loss", "valid_loss"])
    assert disp.keys_ == ["train_loss", "valid_loss"]
    assert len(disp.ax_.lines) == 2
    np.testing.assert_array_equal(
        disp.lines_["valid_loss"].get_ydata(), emb.validation_loss_curve_
    )
    dur = TrainingCurveDisplay(emb.history_, keys="dur").plot()
    assert dur.keys_ == ["dur"] and dur.ax_.get_ylabel() == "seconds per epoch"
    np.testing.assert_array_equal(
        dur.lines_["dur"].get_ydata(), [h["dur"] for h in emb.history_]
    )


def test_training_curve_display_leaves_gaps_for_epochs_without_a_column():
    history = [{"epoch": 1, "train_loss": 2.0, "dur": 0.1},
               {"epoch": 2, "train_loss": 1.5, "valid_loss": 1.7, "dur": 0.1}]
    disp = TrainingCurveDisplay(history).plot()
    assert disp.keys_ == ["train_loss", "valid_loss"]
    np.testing.assert_array_equal(disp.lines_["valid_loss"].get_ydata(), [np.nan, 1.7])


@pytest.mark.parametrize(
    "keys, error, match",
    [
        (["train_loss", "val_loss"], ValueError, "keys names 'val_loss', which is not"),
        ("epochs", ValueError, "columns: 'epoch', 'train_loss', 'dur'"),
        ([1], TypeError, "keys must be None, a str or a sequence of str; got 1"),
        (3, TypeError, "keys must be None, a str or a sequence of str; got 3"),
    ],
)
def test_training_curve_display_rejects_bad_keys(keys, error, match):
    history = [{"epoch": 1, "train_loss": 2.0, "dur": 0.1}]
    with pytest.raises(error, match=re.escape(match)):
        TrainingCurveDisplay(history, keys=keys).plot()


def test_benchmark_display_puts_a_long_legend_beside_the_axes():
    few = [BenchmarkResult(f"m{i}", r, 0.9, 0.01, 1.0, 0.1) for i in range(3)
           for r in (0.3, 0.5)]
    many = [BenchmarkResult(f"m{i}", r, 0.9, 0.01, 1.0, 0.1) for i in range(9)
            for r in (0.3, 0.5)]
    assert not BenchmarkDisplay.from_results(few).legend_beside_
    disp = BenchmarkDisplay.from_results(many)
    assert disp.legend_beside_
    # the legend starts right of the axes, so it hides no line
    legend = disp.ax_.get_legend().get_window_extent(disp.figure_.canvas.get_renderer())
    assert legend.x0 >= disp.ax_.get_window_extent().x1
