import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skmm import MultiModalData
from skmm._baselines import LateFusionClassifier


def _data(seed=0, n=120):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    a = rng.normal(size=(n, 4)) + y[:, None]
    b = rng.normal(size=(n, 3)) - y[:, None]
    a[rng.random(n) < 0.3] = np.nan  # b is observed everywhere
    return MultiModalData(a=a, b=b), y


def test_log_probabilities_are_the_normalised_sum_of_the_present_experts():
    X, y = _data()
    clf = LateFusionClassifier(estimator=LogisticRegression(max_iter=500)).fit(X, y)
    obs = X.observed
    manual = np.zeros((X.n_samples, 3))
    for j, m in enumerate(X.modalities):
        expert = LogisticRegression(max_iter=500).fit(X[m][obs[:, j]], y[obs[:, j]])
        manual[obs[:, j]] += expert.predict_log_proba(X[m][obs[:, j]])
    manual -= np.log(np.exp(manual).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_log_proba(X), manual, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    assert clf.score(X, y) > 0.8
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[manual.argmax(axis=1)])


def test_expert_that_saw_one_class_votes_for_it_and_unseen_classes_are_unlikely():
    X, y = _data(1)
    a = X["a"].copy()
    a[y != 2] = np.nan  # modality a is observed only on class 2
    X = MultiModalData(a=a, b=X["b"])
    clf = LateFusionClassifier().fit(X, y)
    assert clf.estimators_["a"] == 2
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    # where a is present its vote is for class 2 alone: the others are pushed down
    present = X.observed[:, 0]
    assert (proba[present].argmax(axis=1) == 2).mean() > 0.9


def test_string_labels_and_wrong_length():
    X, y = _data(2)
    labels = np.array(["x", "y", "z"])[y]
    clf = LateFusionClassifier().fit(X, labels)
    assert set(clf.predict(X)) <= {"x", "y", "z"}
    with pytest.raises(ValueError, match="y has 5 samples"):
        LateFusionClassifier().fit(X, labels[:5])


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

    X, y = _data(4, n=90)
    results = run_benchmark(X, y, methods=["late-fusion", "oracle"], cv=3,
                            missing_rates=[0.5])
    assert [r.method for r in results] == ["late-fusion", "oracle"]
    assert all(0.5 < r.accuracy_mean <= 1.0 for r in results)
