"""The ``skmm`` / ``python -m skmm`` command line and the benchmark runner."""

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

import skmm
from skmm import MultiModalData
from skmm.__main__ import main
from skmm.benchmark import (
    check_benchmark_data, format_missing, format_table, make_method, run_benchmark,
)
from skmm.datasets import make_missing_modalities


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
    results = run_benchmark(
        X, y, methods=["mean", "zero+indicator"], cv=3, missing_rates=[0.3]
    )
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


def _per_method_reference(X, y, methods, rates, cv):
    """The benchmark's protocol written plainly: one method and fold at a time."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from skmm.metrics import imputation_rmse

    folds = list(StratifiedKFold(cv, shuffle=True, random_state=0).split(X["a"], y))
    out = []
    for rate in rates:
        Xm, hidden = make_missing_modalities(X, rate, random_state=0, return_mask=True)
        for name in methods:
            accuracies, rmses = [], []
            for train, test in folds:
                est, is_imputer = make_method(name, 0)
                est = clone(est).fit(Xm[train], y[train])
                accuracies.append(np.mean(est.predict(Xm[test]) == y[test]))
                if is_imputer:
                    filled = est[0].transform(Xm[test])
                    rmses.append(imputation_rmse(X[test], filled,
                                                 hidden[test])["overall"])
            out.append((name, rate, accuracies, np.mean(rmses) if rmses else np.nan))
    return out


def test_one_pool_for_all_methods_gives_the_per_method_results(monkeypatch):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = MultiModalData(a=rng.normal(size=(60, 3)) + y[:, None], b=rng.normal(size=(60, 2)),
                       c=rng.normal(size=(60, 2)) - y[:, None])
    methods, rates = ["mean", "knn", "zero+indicator"], [0.3, 0.5]
    expected = _per_method_reference(X, y, methods, rates, 3)
    messages = []
    for n_jobs in (None, 2):
        results = run_benchmark(X, y, methods=methods, missing_rates=rates, cv=3,
                                n_jobs=n_jobs, progress=messages.append)
        assert [(r.method, r.missing_rate) for r in results] == [e[:2] for e in expected]
        for r, (_, _, accuracies, rmse) in zip(results, expected):
            # same folds, seeds and arithmetic: identical
            assert r.accuracies == accuracies
            assert r.rmse == rmse or (np.isnan(r.rmse) and np.isnan(rmse))
    assert messages[0].startswith("[1/6] rate 0.30 mean") and len(messages) == 12
    # each test fold is imputed once (for the RMSE and the classifier alike)
    from sklearn.impute import KNNImputer

    calls = []
    real = KNNImputer.transform

    def spy(self, X):
        calls.append(len(X["a"]) if isinstance(X, dict) else len(X))
        return real(self, X)

    monkeypatch.setattr(KNNImputer, "transform", spy)
    run_benchmark(X, y, methods=["knn"], missing_rates=[0.3], cv=3)
    assert calls.count(20) == 3


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


def test_cli_runs_on_a_bundled_dataset(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["benchmark", "--dataset", "nutrimouse", "--estimators", "mean", "--cv",
                 "3", "--missing-rate", "0.3", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith(
        "data: bundled data set nutrimouse (skmm.datasets.load_nutrimouse(target='diet')): "
        "40 samples, "
        "modalities {'gene': 120, 'lipid': 21}"
    )
    (row,) = json.loads((out / "results.json").read_text())
    assert (row["method"], row["missing_rate"]) == ("mean", 0.3)
    assert len(row["scores"]) == 3 and row["metric"] == "accuracy"
    assert row["data"] == "nutrimouse"


def test_cli_scores_regressors_on_a_continuous_target(tmp_path, capsys):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(60, 3))
    path = _save(tmp_path, a=a, y=a @ [1.0, -1.0, 0.5] + 0.1 * rng.normal(size=60))
    out = tmp_path / "out"
    code = main(["benchmark", "--data", str(path), "--estimators", "mean,late-fusion",
                 "--cv", "3", "--missing-rate", "0.3", "--out", str(out)])
    assert code == 0
    assert "r2" in capsys.readouterr().out
    rows = json.loads((out / "results.json").read_text())
    assert [r["metric"] for r in rows] == ["r2", "r2"]
    # a linear target from an observed modality: a linear probe explains most of it
    assert all(0.3 < r["score_mean"] <= 1.0 for r in rows)
    assert rows[0]["data"] == str(path)


def test_benchmark_task_reads_the_target():
    from skmm.benchmark import benchmark_task

    assert benchmark_task(np.repeat([0, 1], 30)) == "classification"
    assert benchmark_task(np.repeat([1.0, 2.0, 3.0], 20)) == "classification"
    assert benchmark_task(np.linspace(0, 1, 60)) == "regression"
    # many integer-valued floats (the diabetes progression): a quantity, not classes
    assert benchmark_task(np.arange(60.0)) == "regression"
    assert benchmark_task(np.arange(60)) == "classification"
    assert benchmark_task(np.arange(60), "regression") == "regression"
    with pytest.raises(ValueError, match="needs class labels"):
        benchmark_task(np.linspace(0, 1, 60), "classification")
    with pytest.raises(ValueError, match="numeric target"):
        benchmark_task(np.array(["a", "b"] * 5), "regression")
    with pytest.raises(ValueError, match="task must be"):
        benchmark_task(np.arange(4), "ranking")


def test_benchmark_refuses_labels_of_no_task():
    X = MultiModalData(a=np.ones((4, 2)))
    with pytest.raises(ValueError, match="or a continuous target.*mixed types"):
        check_benchmark_data(X, np.array(["a", 0.5, "b", 1.5], dtype=object), cv=2)


def test_cli_dataset_choices_are_the_registry(monkeypatch, capsys):
    from skmm.datasets import BENCHMARK_DATASETS

    assert list(BENCHMARK_DATASETS) == ["mfeat", "nutrimouse", "breast-cancer", "digits",
                                        "diabetes"]
    with pytest.raises(SystemExit):
        main(["benchmark", "--help"])
    # argparse may wrap the lines at a hyphen
    help_text = " ".join(re.sub(r"-\n\s*", "-", capsys.readouterr().out).split())
    assert ("among mfeat, nutrimouse, breast-cancer, digits, diabetes (default mfeat"
            in help_text)
    # no --dataset and no --data: mfeat, loaded through the registry
    calls = []

    def fake_loader(return_X_y):
        calls.append(return_X_y)
        raise RuntimeError("stop here")

    monkeypatch.setattr("skmm.datasets.BENCHMARK_DATASETS",
                        {**BENCHMARK_DATASETS, "mfeat": fake_loader})
    with pytest.raises(RuntimeError, match="stop here"):
        main(["benchmark", "--estimators", "mean"])
    assert calls == [True]


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
def test_cli_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_unreadable_data(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_text("not an archive")
    with pytest.raises(SystemExit) as info:
        main(["benchmark", "--data", str(bad)])
    assert info.value.code == 2
    assert "is not a valid .npz archive" in capsys.readouterr().err
    no_y = tmp_path / "no_y.npz"
    np.savez(no_y, a=np.ones((4, 2)))
    with pytest.raises(SystemExit) as info:
        main(["benchmark", "--data", str(no_y)])
    assert info.value.code == 2
    assert "has no array named 'y' (the labels); it holds ['a']" in capsys.readouterr().err


# --- program name, --version -----------------------------------------------------------


def test_help_names_the_script(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: skmm [")
    with pytest.raises(SystemExit):
        main(["benchmark", "--help"])
    assert capsys.readouterr().out.startswith("usage: skmm benchmark [")


def test_help_of_python_m_skmm_names_python_m_skmm():
    out = subprocess.run(
        [sys.executable, "-m", "skmm", "benchmark", "--help"], check=True,
        capture_output=True, text=True,
    ).stdout
    assert out.startswith("usage: python -m skmm benchmark [")


def test_console_script_names_itself():
    script = shutil.which("skmm", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the skmm console script is not installed next to this Python")
    out = subprocess.run([script, "--help"], check=True, capture_output=True,
                         text=True).stdout
    assert out.startswith("usage: skmm [")


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"skmm {skmm.__version__}\n"


# --- (a) data already incomplete: the true missing shares ------------------------------


def test_cli_reports_missing_in_file_hidden_and_total(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    a = rng.normal(size=(60, 3)) + y[:, None]
    a[::3] = np.nan  # 20 of 60 samples miss 'a' in the user's file
    b = rng.normal(size=(60, 2))
    path = tmp_path / "incomplete.npz"
    np.savez(path, a=a, b=b, y=y)
    out_dir = tmp_path / "out"
    code = main(["benchmark", "--data", str(path), "--estimators", "mean", "--cv", "2",
                 "--missing-rate", "0.5", "--out", str(out_dir)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "already missing in the data: a 33.3%, b 0.0% of the samples" in printed
    assert "(16.7% of all modality rows)" in printed

    (row,) = json.loads((out_dir / "results.json").read_text())
    X = MultiModalData(a=a, b=b)
    _, hidden = make_missing_modalities(X, 0.5, random_state=0, return_mask=True)
    assert row["missing_in_data"] == pytest.approx(20 / 120)
    assert row["missing_added"] == pytest.approx(hidden.mean())
    assert row["missing_total"] == pytest.approx(20 / 120 + hidden.mean())
    per = row["missing_by_modality"]
    assert per["a"]["in_data"] == pytest.approx(1 / 3) and per["b"]["in_data"] == 0
    for j, m in enumerate("ab"):
        assert per[m]["added"] == pytest.approx(hidden[:, j].mean())
        assert per[m]["total"] == pytest.approx(per[m]["in_data"] + per[m]["added"])
    # What the methods see missing is more than the benchmark hid: both are printed.
    assert row["missing_total"] > row["missing_added"] > 0
    assert f"{row['missing_total']:.1%}" in printed
    assert f"{per['a']['total']:.1%}" in printed and "in data" in printed
    header = (out_dir / "results.csv").read_text().splitlines()[0].split(",")
    assert "missing_total" in header and "missing_by_modality" not in header


def test_run_benchmark_missing_shares_on_complete_data():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 20)
    X = MultiModalData(a=rng.normal(size=(40, 2)), b=rng.normal(size=(40, 2)))
    (r0, r1) = run_benchmark(X, y, methods=["mean"], cv=2, missing_rates=[0.0, 0.4])
    assert (r0.missing_in_data, r0.missing_added, r0.missing_total) == (0.0, 0.0, 0.0)
    assert r1.missing_in_data == 0.0
    assert 0 < r1.missing_added == r1.missing_total < 0.5
    table = format_missing([r0, r1])
    assert "all modalities" in table and f"{r1.missing_total:>7.1%}" in table


# --- (b) labels -----------------------------------------------------------------------


def _save(tmp_path, name="data.npz", n=60, **arrays):
    rng = np.random.default_rng(0)
    arrays.setdefault("a", rng.normal(size=(n, 3)))
    arrays.setdefault("b", rng.normal(size=(n, 2)))
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def _usage_error(argv, capsys):
    """Run the CLI, expect exit status 2; return stderr."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "y, expected",
    [
        (np.repeat([0, 1], 25), ["y have 50 entries", "60 samples"]),
        (np.zeros(60), ["single class (0.0)", "at least 2 classes"]),
        (np.r_[np.nan, np.repeat([0.0, 1.0], 30)[1:]], ["1 NaN", "rows 0"]),
        (np.repeat([0, 1], 30)[:, None], ["1-D", "(60, 1)", "y.ravel()"]),
    ],
    ids=["wrong-length", "one-class", "nan", "2-d"],
)
def test_cli_bad_labels(tmp_path, capsys, y, expected):
    path = _save(tmp_path, y=y)
    err = _usage_error(["benchmark", "--data", str(path), "--estimators", "mean"], capsys)
    assert err.count("\n") == 1 and err.startswith("skmm benchmark: error: --data ")
    for text in expected:
        assert text in err
    assert "solver needs samples" not in err


def test_run_benchmark_refuses_wrong_length_labels():
    X = MultiModalData(a=np.random.default_rng(0).normal(size=(60, 2)))
    with pytest.raises(ValueError, match="50 entries but the modalities have 60 samples"):
        run_benchmark(X, np.repeat([0, 1], 25), methods=["mean"])


# --- (c) files that are not .npz archives ----------------------------------------------


def _write_text(path):
    path.write_text("a,b,y\n1,2,0\n")


def _write_pickle(path):
    with open(path, "wb") as fh:
        pickle.dump({"a": np.ones((4, 2)), "y": np.arange(4)}, fh)


def _write_npy(path):
    with open(path, "wb") as fh:
        np.save(fh, np.ones((4, 2)))


def _write_zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "1,2\n")


def _write_truncated(path):
    np.savez(path, a=np.ones((100, 50)), y=np.arange(100))
    path.write_bytes(path.read_bytes()[:-200])


@pytest.mark.parametrize(
    "write, expected",
    [
        (_write_text, "is not a valid .npz archive (not a zip file"),
        (_write_pickle, "is not a valid .npz archive (not a zip file"),
        (lambda p: p.write_bytes(b""), "is not a valid .npz archive (not a zip file"),
        (_write_npy, "is a .npy file (a single array), not a .npz archive"),
        (_write_zip, "members ['a.csv'] are not .npy arrays"),
        (_write_truncated, "is not a valid .npz archive"),
        (lambda p: np.savez(p, a=np.ones((4, 2)).astype(object), y=np.arange(4)),
         "array 'a' holds Python objects (dtype=object), which skmm never unpickles"),
    ],
    ids=["text", "pickle", "empty", "npy", "zip", "truncated", "object-array"],
)
def test_cli_file_not_an_npz(tmp_path, capsys, monkeypatch, write, expected):
    path = tmp_path / "data.npz"
    write(path)
    real_load = np.load
    calls = []

    def load(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", load)
    err = _usage_error(["benchmark", "--data", str(path)], capsys)
    assert err.count("\n") == 1 and expected in err
    if "dtype=object" not in expected:  # says how the file must be written
        assert "numpy.savez(FILE, <modality>=<2-D array>, ..., y=<1-D labels>)" in err
    assert "allow_pickle" not in err
    assert all(flag is False for flag in calls)


# --- (d) other broken inputs: one line on stderr, exit status 2 ------------------------


def _partly_nan(n=60):
    a = np.random.default_rng(0).normal(size=(n, 3))
    a[4, 1] = np.nan
    return a


@pytest.mark.parametrize(
    "arrays, extra, expected",
    [
        ({}, ["--pattern", "standard", "--complete-modality", "zz"],
         "--complete-modality 'zz' is not a modality of the data; choose from ['a', 'b']"),
        ({"a": np.ones(60)}, [], "Modality 'a' must be a 2-D array"),
        ({"b": np.ones((50, 2))}, [], "same number of rows; got b: 50, a: 60"),
        ({"a": _partly_nan()}, [], "only partly NaN: rows [4]"),
        ({"a": np.full((60, 3), np.inf)}, [], "infinite values"),
        ({"a": np.full((60, 3), np.nan)}, [], "['a'] are missing in every sample"),
        ({"a": np.full((60, 3), np.nan), "b": np.r_[np.full((1, 2), np.nan),
                                                    np.ones((59, 2))]},
         [], "missing in every sample"),
        ({}, ["--cv", "100"], "--cv 100 folds need at least 100 samples in a class, but "
         "the largest class has 30"),
        ({"a": np.array(["x"] * 180).reshape(60, 3)}, [], "non-numeric dtype"),
    ],
    ids=["unknown-modality", "1-d", "rows", "partial-nan", "inf", "never-observed",
         "empty-sample-and-modality", "cv", "strings"],
)
def test_cli_bad_data(tmp_path, capsys, arrays, extra, expected):
    path = _save(tmp_path, y=np.repeat([0, 1], 30), **arrays)
    err = _usage_error(["benchmark", "--data", str(path), "--estimators", "mean"] + extra,
                       capsys)
    assert err.count("\n") == 1 and err.startswith("skmm benchmark: error: ")
    assert expected in err


def test_cli_sample_without_any_modality(tmp_path, capsys):
    a = np.random.default_rng(0).normal(size=(60, 3))
    b = np.ones((60, 2))
    a[[3, 7]] = np.nan
    b[[3, 7]] = np.nan
    path = _save(tmp_path, a=a, b=b, y=np.repeat([0, 1], 30))
    err = _usage_error(["benchmark", "--data", str(path)], capsys)
    assert "2 samples have no observed modality: rows [3, 7]" in err


def test_cli_missing_file_folder_and_output(tmp_path, capsys):
    err = _usage_error(["benchmark", "--data", str(tmp_path / "absent.npz")], capsys)
    absent = tmp_path / "absent.npz"
    assert err == f"skmm benchmark: error: --data {absent}: no such file.\n"
    err = _usage_error(["benchmark", "--data", str(tmp_path)], capsys)
    assert "is a folder, not a file" in err
    (tmp_path / "taken").write_text("")
    err = _usage_error(["benchmark", "--out", str(tmp_path / "taken")], capsys)
    assert "--out" in err and "is a file" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["benchmark", "--missing-rate", "-0.1"],
            "argument --missing-rate: must be in [0, 1)",
        ),
        (
            ["benchmark", "--missing-rate", "nan"],
            "argument --missing-rate: must be in [0, 1)",
        ),
        (["benchmark", "--missing-rate", "half"], "expected a number; got 'half'"),
        (["benchmark", "--n-jobs", "0"], "argument --n-jobs: must be a non-zero integer"),
        (["benchmark", "--random-state", "-1"], "argument --random-state"),
        (["benchmark", "--cv", "two"], "argument --cv: expected an integer"),
        (["benchmark", "--complete-modality", "a"], "needs --pattern standard"),
        (["benchmark", "--estimators", ","], "names no method"),
        (["benchmark", "--dataset", "iris"], "argument --dataset: invalid choice: 'iris'"),
        (["benchmark", "--dataset", "digits", "--data", "x.npz"],
         "argument --data: not allowed with argument --dataset"),
        (["bench"], "invalid choice: 'bench'"),
    ],
)
def test_cli_usage_errors(argv, message, capsys):
    err = _usage_error(argv, capsys)
    assert message in err.splitlines()[-1]


def test_cli_method_failure_exits_1(npz, tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("skmm.benchmark.run_benchmark", fail)
    code = main(["benchmark", "--data", str(npz), "--estimators", "mean", "--cv", "2",
                 "--out", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.endswith("skmm benchmark: error: a method failed: boom\n")


def test_cli_small_class_note(tmp_path, capsys):
    path = _save(tmp_path, y=np.r_[np.repeat([0, 1], 29), [1, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's own warning is replaced by the note
        code = main(["benchmark", "--data", str(path), "--estimators", "mean", "--cv", "2",
                     "--missing-rate", "0.2", "--out", str(tmp_path / "out")])
    assert code == 0
    err = capsys.readouterr().err
    assert "note: classes [2] have fewer samples than the 2 folds" in err


def test_benchmark_imputers_fit_small_data():
    # 30 samples and 9 features: fewer than the 64 clusters and 64 latent dimensions
    # the benchmark's imputers use; their sizes are clipped to the data.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 15)
    X = MultiModalData(a=rng.normal(size=(30, 5)) + y[:, None],
                       b=rng.normal(size=(30, 4)) - y[:, None])
    results = run_benchmark(X, y, methods=["pmkmeans", "calmrl", "fusion"], cv=2,
                            missing_rates=[0.3])
    assert [r.method for r in results] == ["pmkmeans", "calmrl", "fusion"]
    assert all(np.isfinite(r.accuracy_mean) for r in results)
    assert all(np.isfinite(r.rmse) for r in results[:2])
    est, _ = make_method("calmrl")
    assert est.get_params()["calmrlimputer__n_components"] == 64  # defaults unchanged


def test_benchmark_sizes_follow_the_training_rows_and_features():
    from skmm.benchmark import _fit_sizes_to_data

    def sizes(n_samples, n_features):
        est = _fit_sizes_to_data(make_method("calmrl")[0], n_samples, n_features)
        clusters = _fit_sizes_to_data(make_method("pmkmeans")[0], n_samples, n_features)
        return (est.get_params()["calmrlimputer__n_components"],
                clusters.get_params()["partialmodalitykmeansimputer__n_clusters"])

    assert sizes(1600, 649) == (64, 64)  # mfeat: the paper-scale sizes hold
    assert sizes(32, 141) == (3, 3)  # nutrimouse: about ten samples per size
    assert sizes(353, 10) == (10, 35)  # diabetes: the latent is capped by the features
