import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from skmm import MultiModalData
from skmm.ensemble import LateFusionClassifier
from skmm.ensemble._late_fusion import _LOG_PROBA_FLOOR, _weighted_fusion_loss
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
