import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

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


def test_pattern_oracle_regressor_fits_one_regressor_per_pattern_on_complete_rows():
    from skmm._baselines import PatternOracleRegressor

    rng = np.random.default_rng(5)
    full = MultiModalData(a=rng.normal(size=(200, 3)), b=rng.normal(size=(200, 2)))
    y = full["a"][:, 0] - 2 * full["b"][:, 1] + 0.1 * rng.normal(size=200)
    train, test = np.arange(150), np.arange(150, 200)
    oracle = PatternOracleRegressor(estimator=LinearRegression())
    assert oracle.fit_before_hiding
    oracle.fit(full[train], y[train])
    hidden = MultiModalData(a=full["a"][test].copy(), b=full["b"][test].copy())
    hidden["a"][:20] = np.nan  # b only
    hidden["b"][20:30] = np.nan  # a only
    hidden["a"][30:32] = hidden["b"][30:32] = np.nan  # nothing: the training mean
    out = oracle.predict(hidden)
    b_only = LinearRegression().fit(full["b"][train], y[train])
    np.testing.assert_allclose(out[:20], b_only.predict(full["b"][test][:20]))
    a_only = LinearRegression().fit(full["a"][train], y[train])
    np.testing.assert_allclose(out[20:30], a_only.predict(full["a"][test][20:30]))
    np.testing.assert_array_equal(out[30:32], np.mean(y[train]))
    both = LinearRegression().fit(np.hstack([full["a"][train], full["b"][train]]), y[train])
    np.testing.assert_allclose(
        out[32:], both.predict(np.hstack([full["a"][test][32:], full["b"][test][32:]])))
    assert oracle.score(full[test], y[test]) > 0.99
    # the default regressor is standardisation and RidgeCV
    default = PatternOracleRegressor().fit(full[train], y[train])
    assert default.score(full[test], y[test]) > 0.99


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
