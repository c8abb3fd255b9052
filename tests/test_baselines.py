import numpy as np
from sklearn.linear_model import LogisticRegression

from skmm import MultiModalData


def test_pattern_oracle_fits_one_classifier_per_pattern_on_complete_rows():
    from skmm._baselines import PatternOracleClassifier

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=200)
    full = MultiModalData(a=rng.normal(size=(200, 3)) + y[:, None],
                          b=rng.normal(size=(200, 2)) - 2 * y[:, None])
    train, test = np.arange(150), np.arange(150, 200)
    oracle = PatternOracleClassifier(estimator=LogisticRegression())
    oracle.fit(full[train], y[train])
    b_only = full["b"][test].copy()
    a_hidden = MultiModalData(a=np.full((50, 3), np.nan), b=b_only)
    expected = LogisticRegression().fit(full["b"][train], y[train]).predict(b_only)
    np.testing.assert_array_equal(oracle.predict(a_hidden), expected)
    both = np.hstack([full["a"][test], full["b"][test]])
    expected = LogisticRegression().fit(
        np.hstack([full["a"][train], full["b"][train]]), y[train]).predict(both)
    np.testing.assert_array_equal(oracle.predict(full[test]), expected)


def test_benchmark_runs_the_baseline_and_the_reference_rows():
    from skmm.benchmark import run_benchmark

    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, size=90)
    X = MultiModalData(a=rng.normal(size=(90, 4)) + y[:, None],
                       b=rng.normal(size=(90, 3)) - y[:, None])
    methods = ["late-fusion", "stacking", "oracle"]
    results = run_benchmark(X, y, methods=methods, cv=3, missing_rates=[0.5])
    assert [r.method for r in results] == methods
    assert all(0.5 < r.accuracy_mean <= 1.0 for r in results)
