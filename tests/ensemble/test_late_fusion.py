import warnings

import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm import MultiModalData
from skmm.datasets import load_diabetes_views, make_missing_modalities
from skmm.ensemble import LateFusionClassifier, LateFusionRegressor
from skmm.ensemble._late_fusion import (
    _LOG_PROBA_FLOOR,
    _gaussian_fusion,
    _weighted_fusion_loss,
)
from skmm.impute import CalMRLImputer


def _data(seed=0, n=120, n_classes=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    a = rng.normal(size=(n, 4)) + y[:, None]
    b = rng.normal(size=(n, 3)) - y[:, None]
    a[rng.random(n) < 0.3] = np.nan  # b is observed everywhere
    return MultiModalData(a=a, b=b), y


def test_product_fusion_is_the_normalised_sum_of_the_present_experts():
    X, y = _data()
    clf = LateFusionClassifier(LogisticRegression(max_iter=500), fusion="product")
    clf.fit(X, y)
    obs = X.observed
    manual = np.zeros((X.n_samples, 3))
    for j, m in enumerate(X.modalities):
        expert = LogisticRegression(max_iter=500).fit(X[m][obs[:, j]], y[obs[:, j]])
        log_proba = np.maximum(expert.predict_log_proba(X[m][obs[:, j]]), _LOG_PROBA_FLOOR)
        manual[obs[:, j]] += log_proba
    manual -= np.log(np.exp(manual).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_log_proba(X), manual, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[manual.argmax(axis=1)])
    assert clf.weights_ is None and clf.final_estimator_ is None
    assert clf.score(X, y) > 0.8


def test_fusion_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    evidence = rng.normal(size=(30, 3, 4))
    evidence[rng.random((30, 3)) < 0.3] = 0.0  # absent experts
    log_prior = np.log(np.full(4, 0.25))
    onehot = np.eye(4)[rng.integers(0, 4, size=30)]
    params, target = rng.normal(size=7), np.array([1.0, 1.0, 0.0])
    args = (evidence, log_prior, onehot, target)
    error = check_grad(lambda p: _weighted_fusion_loss(p, *args)[0],
                       lambda p: _weighted_fusion_loss(p, *args)[1], params)
    assert error < 1e-5 * np.linalg.norm(_weighted_fusion_loss(params, *args)[1])


def test_weighted_fusion_learns_to_ignore_a_noise_modality():
    rng = np.random.default_rng(1)
    X, y = _data(1, n=400)
    noisy = MultiModalData(a=X["a"], b=X["b"], noise=rng.normal(size=(400, 30)))
    clf = LateFusionClassifier(random_state=0).fit(noisy, y)
    assert set(clf.weights_) == {"a", "b", "noise"}
    assert clf.weights_["noise"] < 0.5 * min(clf.weights_["a"], clf.weights_["b"])
    assert clf.intercept_.shape == (3,)
    # it never does worse than the product rule, which trusts the noise fully
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    weighted = cross_val_score(LateFusionClassifier(random_state=0), noisy, y, cv=cv)
    product = cross_val_score(LateFusionClassifier(fusion="product"), noisy, y, cv=cv)
    assert weighted.mean() >= product.mean()


def test_stacking_fits_the_final_estimator_on_evidence_and_presence_bits():
    X, y = _data(2)
    clf = LateFusionClassifier(fusion="stacking", cv=3, random_state=0).fit(X, y)
    # 2 experts x 3 classes of evidence, then 2 presence bits
    assert clf.final_estimator_[-1].coef_.shape == (3, 2 * 3 + 2)
    assert clf.weights_ is None
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    assert clf.score(X, y) > 0.8


def test_joint_expert_on_imputed_modalities():
    X, y = _data(3)
    clf = LateFusionClassifier(imputer=CalMRLImputer(n_components=2, random_state=0),
                               cv=3, random_state=0).fit(X, y)
    assert list(clf.estimators_) == ["a", "b", "joint"]
    assert set(clf.weights_) == {"a", "b", "joint"}
    # a sample without any modality still gets finite probabilities
    empty = MultiModalData(a=np.full((2, 4), np.nan), b=np.full((2, 3), np.nan))
    assert np.isfinite(clf.predict_proba(empty)).all()


def test_expert_that_saw_one_class_votes_for_it():
    X, y = _data(1)
    a = X["a"].copy()
    a[y != 2] = np.nan  # modality a is observed only on class 2
    X = MultiModalData(a=a, b=X["b"])
    for fusion in ("product", "weighted", "stacking"):
        clf = LateFusionClassifier(fusion=fusion, cv=3, random_state=0).fit(X, y)
        assert clf.estimators_["a"] == 2
        assert np.isfinite(clf.predict_proba(X)).all()


def test_labels_two_classes_and_errors():
    X, y = _data(2, n_classes=2)
    labels = np.array(["no", "yes"])[y]
    clf = LateFusionClassifier(cv=3, random_state=0).fit(X, labels)
    assert set(clf.predict(X)) <= {"no", "yes"}
    scores = clf.decision_function(X)
    assert scores.shape == (X.n_samples,)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])
    with pytest.raises(ValueError, match="y has 5 samples"):
        LateFusionClassifier().fit(X, labels[:5])
    with pytest.raises(ValueError, match="at least 2 classes"):
        LateFusionClassifier().fit(X, np.zeros(X.n_samples))


def test_parallel_fits_give_the_same_model():
    X, y = _data(4)
    one = LateFusionClassifier(cv=3, random_state=0).fit(X, y)
    two = LateFusionClassifier(cv=3, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(one.predict_proba(X), two.predict_proba(X), rtol=1e-12)


def test_grid_search_over_the_fusion_and_the_expert():
    X, y = _data(5)
    grid = {"fusion": ["product", "weighted"],
            "estimator": [None, LogisticRegression(C=0.1, max_iter=500)]}
    search = GridSearchCV(LateFusionClassifier(cv=3, random_state=0), grid, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.7
    assert search.predict(X[:4]).shape == (4,)


def test_a_splitter_and_a_user_final_estimator():
    X, y = _data(6)
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    clf = LateFusionClassifier(fusion="stacking", cv=cv, final_estimator=StandardScaler())
    with pytest.raises(TypeError, match="final_estimator"):  # no predict_proba
        clf.fit(X, y)
    assert not hasattr(clf, "classes_")
    clf.set_params(final_estimator=LogisticRegression(C=10.0, max_iter=2000)).fit(X, y)
    assert clf.final_estimator_.C == 10.0


# --- LateFusionRegressor ------------------------------------------------------------------
def _regression_data(seed=0, n=150):
    """``a`` strong and missing in ~30% of the samples, ``b`` weaker and complete."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, 4)), rng.normal(size=(n, 3))
    y = 3.0 + a[:, 0] - a[:, 1] + 0.7 * b[:, 0] + 0.3 * rng.normal(size=n)
    a[rng.random(n) < 0.3] = np.nan
    return MultiModalData(a=a, b=b), y


def _ridge():
    return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))


def test_regressor_mean_fusion_averages_the_present_experts():
    X, y = _regression_data()
    reg = LateFusionRegressor(fusion="mean").fit(X, y)
    obs = X.observed
    manual = np.zeros((X.n_samples, 2))
    for j, m in enumerate(X.modalities):
        expert = _ridge().fit(X[m][obs[:, j]], y[obs[:, j]])
        manual[obs[:, j], j] = expert.predict(X[m][obs[:, j]])
    expected = manual.sum(axis=1) / obs.sum(axis=1)
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-12)
    assert reg.weights_ is None and reg.prior_correction_ is None
    assert reg.final_estimator_ is None
    assert reg.score(X, y) > 0.5


def test_gaussian_fusion_is_exact_bayes_for_conditionally_independent_modalities():
    # y ~ N(m, v); modality k sees x_k = y + N(0, t_k). Each expert's posterior is
    # N(mu_k, s_k^2); naive Bayes (prior_correction 1) must give the exact posterior
    # mean of y given every present x_k, plain inverse-variance weighting (0) the
    # precision-weighted mean of the experts.
    rng = np.random.default_rng(0)
    m, v, t = 2.0, 4.0, np.array([1.0, 0.5, 3.0])
    x = m + np.sqrt(v) * rng.normal(size=(50, 1)) + np.sqrt(t) * rng.normal(size=(50, 3))
    present = rng.random((50, 3)) < 0.7
    s2 = 1.0 / (1.0 / v + 1.0 / t)
    mu = s2 * (m / v + x / t)
    args = (np.where(present, mu, 0.0), present, v / s2, np.ones(3), np.full(3, m), m)
    precision = 1.0 / v + np.sum(present / t, axis=1)
    exact = (m / v + np.sum(present * x / t, axis=1)) / precision
    np.testing.assert_allclose(_gaussian_fusion(*args, 1.0), exact, rtol=1e-12)
    weights = np.where(present, 1.0 / s2, 0.0)
    ivw = np.sum(weights * mu, axis=1) / np.maximum(weights.sum(axis=1), 1e-300)
    some = present.any(axis=1)
    np.testing.assert_allclose(_gaussian_fusion(*args, 0.0)[some], ivw[some], rtol=1e-12)
    np.testing.assert_array_equal(_gaussian_fusion(*args, 0.0)[~some], m)


def test_regressor_weights_are_the_inverse_out_of_fold_residual_variances():
    X, y = _regression_data(1)
    cv = KFold(4, shuffle=True, random_state=0)
    reg = LateFusionRegressor(cv=cv).fit(X, y)
    obs = X.observed
    for j, m in enumerate(X.modalities):
        rows = obs[:, j]
        oof = cross_val_predict(_ridge(), X[m][rows], y[rows], cv=cv)
        expected = np.var(y) / np.mean((y[rows] - oof) ** 2)
        assert reg.weights_[m] == pytest.approx(expected, rel=1e-10)
    assert reg.weights_["a"] > 2 * reg.weights_["b"]  # a carries more of the signal
    assert 0.0 <= reg.prior_correction_ <= 1.0
    # b is observed in every sample: those without a get b's own prediction
    only_b = ~obs[:, 0]
    np.testing.assert_allclose(reg.predict(X[only_b]),
                               reg.estimators_["b"].predict(X["b"][only_b]), rtol=1e-12)


def test_regressor_weighted_fusion_beats_the_single_experts_and_the_mean():
    complete, y = load_diabetes_views(return_X_y=True)
    X = make_missing_modalities(complete, 0.3, pattern="mcar", random_state=0)
    weighted, mean = np.zeros(len(y)), np.zeros(len(y))
    single = {m: np.zeros(len(y)) for m in X.modalities}
    for train, test in KFold(5, shuffle=True, random_state=0).split(y):
        reg = LateFusionRegressor(random_state=0).fit(X[train], y[train])
        weighted[test] = reg.predict(X[test])
        mean[test] = LateFusionRegressor(fusion="mean").fit(X[train], y[train]).predict(
            X[test])
        for m in X.modalities:  # the experts, on the hidden rows too
            single[m][test] = reg.estimators_[m].predict(complete[m][test])
    # measured: 0.396 against 0.384 over all samples; on the samples with both
    # modalities 0.452 against 0.429 (mean) and 0.364 / 0.321 (the single experts)
    assert r2_score(y, weighted) > r2_score(y, mean) + 0.005
    both = X.observed.all(axis=1)
    best_single = max(r2_score(y[both], p[both]) for p in single.values())
    assert r2_score(y[both], weighted[both]) > best_single + 0.05
    assert r2_score(y[both], weighted[both]) > r2_score(y[both], mean[both]) + 0.01


def test_regressor_inverse_variance_weights_down_weight_a_noise_modality():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 3)), rng.normal(size=(300, 2))
    y = a[:, 0] + b[:, 0] + 0.3 * rng.normal(size=300)
    a[rng.random(300) < 0.3] = np.nan
    noisy = MultiModalData(a=a, b=b, noise=rng.normal(size=(300, 20)))
    reg = LateFusionRegressor(random_state=0).fit(noisy, y)
    # a noise expert is no better than the mean target: its weight is about 1 (the
    # precision of the target itself), the others' 1 / (1 - R^2) of their modality
    assert reg.weights_["noise"] < 1.1
    assert reg.weights_["noise"] < 0.75 * min(reg.weights_["a"], reg.weights_["b"])
    cv = KFold(4, shuffle=True, random_state=0)
    weighted = cross_val_score(LateFusionRegressor(random_state=0), noisy, y, cv=cv)
    mean = cross_val_score(LateFusionRegressor(fusion="mean"), noisy, y, cv=cv)
    assert weighted.mean() > mean.mean() + 0.05


def test_regressor_missing_modalities_at_predict_time_and_empty_samples():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(100, 3)), rng.normal(size=(100, 2))
    y = a[:, 0] + b[:, 1] + 0.1 * rng.normal(size=100) + 10.0
    full = MultiModalData(a=a, b=b)
    hide_a = MultiModalData(a=np.full((5, 3), np.nan), b=b[:5])
    empty = MultiModalData(a=np.full((2, 3), np.nan), b=np.full((2, 2), np.nan))
    for fusion in ("mean", "weighted", "stacking"):
        reg = LateFusionRegressor(fusion=fusion, cv=3, random_state=0).fit(full, y)
        # no modality: the mean training target
        np.testing.assert_array_equal(reg.predict(empty), np.mean(y))
        if fusion != "stacking":  # trained on complete rows: b's own prediction
            np.testing.assert_allclose(reg.predict(hide_a),
                                       reg.estimators_["b"].predict(b[:5]), rtol=1e-12)
    assert np.isfinite(reg.predict(hide_a)).all()


def test_regressor_stacking_and_a_user_final_estimator():
    X, y = _regression_data(4)
    reg = LateFusionRegressor(fusion="stacking", cv=3, random_state=0).fit(X, y)
    # 2 experts' centred predictions, then 2 presence bits
    assert reg.final_estimator_[-1].coef_.shape == (2 + 2,)
    assert reg.weights_ is None and reg.score(X, y) > 0.6
    reg.set_params(final_estimator=LinearRegression()).fit(X, y)
    assert isinstance(reg.final_estimator_, LinearRegression)
    with pytest.raises(TypeError, match="'final_estimator' parameter of "
                       "LateFusionRegressor must be an object implementing 'fit' and "
                       "'predict'"):
        reg.set_params(final_estimator=StandardScaler()).fit(X, y)


def test_regressor_joint_expert_on_imputed_modalities():
    X, y = _regression_data(5)
    reg = LateFusionRegressor(imputer=CalMRLImputer(n_components=1, random_state=0),
                              cv=3, random_state=0).fit(X, y)
    assert list(reg.estimators_) == ["a", "b", "joint"]
    assert set(reg.weights_) == {"a", "b", "joint"}
    # the joint expert is present everywhere: a sample without modalities gets its
    # prediction (from the imputed rows)
    empty = MultiModalData(a=np.full((2, 4), np.nan), b=np.full((2, 3), np.nan))
    np.testing.assert_allclose(reg.predict(empty), reg.estimators_["joint"].predict(empty),
                               rtol=1e-12)


def test_regressor_parallel_fits_grid_search_and_errors():
    X, y = _regression_data(6)
    one = LateFusionRegressor(cv=3, random_state=0).fit(X, y)
    two = LateFusionRegressor(cv=3, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(one.predict(X), two.predict(X), rtol=1e-12)
    grid = {"fusion": ["mean", "weighted", "stacking"]}
    search = GridSearchCV(LateFusionRegressor(cv=3, random_state=0), grid, cv=3).fit(X, y)
    assert search.best_score_ > 0.6
    with pytest.raises(ValueError, match="y has 5 samples"):
        LateFusionRegressor().fit(X, y[:5])
    with pytest.raises(ValueError, match="y"):
        LateFusionRegressor().fit(X, np.where(np.arange(len(y)) == 3, np.nan, y))
    with pytest.raises(ValueError, match="'fusion' parameter of "
                       "LateFusionRegressor must be a str among"):
        LateFusionRegressor(fusion="product").fit(X, y)
    one_row = X["a"].copy()
    one_row[1:] = np.nan  # a observed in one sample only: no folds for its expert
    with pytest.raises(ValueError, match="'a' expert is fitted on 1 sample"):
        LateFusionRegressor().fit(MultiModalData(a=one_row, b=X["b"]), y)
    with warnings.catch_warnings():  # RidgeCV's leave-one-out on one sample
        warnings.simplefilter("ignore", RuntimeWarning)
        reg = LateFusionRegressor(fusion="mean").fit(MultiModalData(a=one_row, b=X["b"]), y)
    assert np.isfinite(reg.predict(X)).all()  # the mean needs no folds


@pytest.mark.parametrize("cls", [LateFusionClassifier, LateFusionRegressor])
def test_joint_expert_sees_huge_values_in_the_fitted_units(cls):
    # the joint expert (imputer -> expert) gets the power-of-two rescaled modalities,
    # like the per-modality experts: values near 1e200 fit and predict as small ones
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    y = (a[:, 0] + b[:, 0] > 0).astype(int)
    target = y if cls is LateFusionClassifier else y + 0.1 * rng.normal(size=60)
    a[::4], b[1::4] = np.nan, np.nan
    est = cls(imputer=SimpleImputer(), cv=3, random_state=0)
    small = est.fit({"a": a, "b": b}, target).predict({"a": a, "b": b})
    huge = clone(est).fit({"a": a * 1e200, "b": b}, target).predict(
        {"a": a * 1e200, "b": b})
    assert np.isfinite(huge).all()
    np.testing.assert_allclose(huge, small, rtol=1e-6, atol=1e-6)
