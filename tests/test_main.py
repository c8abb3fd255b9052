"""The ``python -m skmm benchmark`` command line and the benchmark runner."""

import json

import numpy as np
import pytest

from skmm import MultiModalData
from skmm.__main__ import main
from skmm.benchmark import format_table, make_method, run_benchmark


@pytest.fixture
def npz(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    path = tmp_path / "data.npz"
    np.savez(path, a=rng.normal(size=(60, 3)) + y[:, None], b=rng.normal(size=(60, 2)), y=y)
    return path


def test_run_benchmark_reports_accuracy_and_rmse():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = MultiModalData(a=rng.normal(size=(60, 3)) + y[:, None], b=rng.normal(size=(60, 2)))
    results = run_benchmark(X, y, methods=["mean", "zero+indicator"], cv=3, missing_rates=[0.3])
    assert [r.method for r in results] == ["mean", "zero+indicator"]
    assert all(0.5 < r.accuracy_mean <= 1.0 for r in results)
    assert np.isfinite(results[0].rmse) and np.isnan(results[1].rmse)
    assert "zero+indicator" in format_table(results)


def test_standard_pattern_keeps_one_modality_observed(monkeypatch):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = MultiModalData(a=rng.normal(size=(60, 3)) + y[:, None], b=rng.normal(size=(60, 2)),
                       c=rng.normal(size=(60, 2)))
    seen = []
    real_fold = __import__("skmm.benchmark", fromlist=["_run_fold"])._run_fold

    def spy(name, X_true, X_missing, hidden, *args):
        seen.append(hidden)
        return real_fold(name, X_true, X_missing, hidden, *args)

    monkeypatch.setattr("skmm.benchmark._run_fold", spy)
    results = run_benchmark(X, y, methods=["mean"], cv=2, missing_rates=[0.6],
                            pattern="standard", complete_modality="b")
    assert results[0].missing_rate == 0.6
    assert not seen[0][:, 1].any() and seen[0][:, [0, 2]].any()
    with pytest.raises(ValueError, match="complete_modality 'z'"):
        run_benchmark(X, y, methods=["mean"], pattern="standard", complete_modality="z")


def test_make_method_sets_embedder_epochs():
    est, is_imputer = make_method("clip", max_epochs=3)
    assert not is_imputer
    assert [v for k, v in est.get_params().items() if k.endswith("__max_epochs")] == [3]


def test_cli_writes_table_csv_json_and_figure(npz, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["benchmark", "--data", str(npz), "--estimators", "mean,knn", "--cv", "2",
                 "--missing-rate", "0.2", "0.4", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "knn" in printed and "accuracy" in printed
    rows = json.loads((out / "results.json").read_text())
    assert {(r["method"], r["missing_rate"]) for r in rows} == {
        ("mean", 0.2), ("mean", 0.4), ("knn", 0.2), ("knn", 0.4)
    }
    assert (out / "results.csv").exists() and (out / "benchmark.png").stat().st_size > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["benchmark", "--estimators", "nope"], "unknown estimators"),
        (["benchmark", "--missing-rate", "1.5"], "missing-rate"),
        (["benchmark", "--cv", "1"], "--cv"),
        (["benchmark", "--pattern", "block"], "--pattern"),
        (["benchmark", "--epochs", "0"], "--epochs"),
    ],
)
def test_cli_bad_arguments_exit_non_zero(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code != 0
    assert message in capsys.readouterr().err


def test_cli_unreadable_data(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not an archive")
    with pytest.raises(SystemExit, match="cannot read"):
        main(["benchmark", "--data", str(bad)])
    no_y = tmp_path / "no_y.npz"
    np.savez(no_y, a=np.ones((4, 2)))
    with pytest.raises(SystemExit, match="'y'"):
        main(["benchmark", "--data", str(no_y)])
