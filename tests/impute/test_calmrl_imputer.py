"""Tests of CalMRLImputer and of the EM functions it shares with the CalMRL embedder."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skmm import MultiModalData
from skmm.datasets import make_missing_modalities, make_shared_latent
from skmm.impute import CalMRLImputer
from skmm.impute import _calmrl_em as em
from skmm.utils._scaling import max_abs, power_of_two_scale
from tests.cluster.test_partial_kmeans import HUGE_CASES, make_huge

WIDTHS = {"a": 8, "b": 12, "c": 10}


def _data(n=400, q=3, noise=0.1, rate=0.4, seed=0):
    X, params = make_shared_latent(
        n, WIDTHS, n_components=q, noise=noise, random_state=seed, return_params=True
    )
    Xm, hidden = make_missing_modalities(X, rate, random_state=seed, return_mask=True)
    return X, Xm, hidden, params


def _all_patterns(X):
    """``X`` with rows cycling through every pattern of observed modalities, empty one
    included."""
    patterns = [p for p in itertools.product([True, False], repeat=len(X.modalities))]
    mask = np.array([patterns[i % len(patterns)] for i in range(X.n_samples)])
    return MultiModalData(
        {m: np.where(mask[:, [j]], X[m], np.nan) for j, m in enumerate(X.modalities)}
    ), mask


def _joint(imputer):
    """Mean and covariance ``W W^T + diag(noise)`` of the stacked modalities, from the
    public (input-unit) attributes."""
    W = np.vstack([imputer.loadings_[m] for m in imputer.modalities_])
    mu = np.concatenate([imputer.mean_[m] for m in imputer.modalities_])
    noise = np.concatenate([imputer.noise_variance_[m] for m in imputer.modalities_])
    return mu, W @ W.T + np.diag(noise)


@pytest.mark.parametrize("noise", ["modality", "feature"])
@pytest.mark.parametrize("algorithm", ["px-em", "em"])
@pytest.mark.parametrize("init", ["pca", "random"])
@pytest.mark.parametrize("standardize", [True, False])
def test_log_likelihood_never_decreases(init, standardize, algorithm, noise):
    # tol=0: run until no iteration gains anything (or max_iter)
    _, Xm, _, _ = _data(n=300, noise=1.0, rate=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imputer = CalMRLImputer(
            3, init=init, standardize=standardize, algorithm=algorithm, max_iter=60,
            tol=0, noise=noise, random_state=0,
        ).fit(Xm)
    ll = imputer.log_likelihood_
    assert ll.shape == (imputer.n_iter_ + 1,)
    assert imputer.n_iter_ >= 10
    assert np.all(np.diff(ll) >= -1e-10 * np.abs(ll[:-1])), np.diff(ll).min()
    assert ll[-1] > ll[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_plain_em_reaches_the_maximum_of_px_em_in_more_iterations(seed):
    # Same fixed point: run both to a tight tolerance on data whose noise lets plain EM
    # converge in a few hundred iterations (the gap measured is below 1e-7 nats per
    # sample, against a tolerance of 1e-4).
    _, Xm, _, _ = _data(n=400, noise=0.5, rate=0.3, seed=seed)
    fits = {
        algorithm: CalMRLImputer(
            3, algorithm=algorithm, tol=1e-9, max_iter=3000, random_state=0
        ).fit(Xm)
        for algorithm in ("px-em", "em")
    }
    px, plain = fits["px-em"], fits["em"]
    assert px.converged_ and plain.converged_
    assert plain.log_likelihood_[-1] == pytest.approx(px.log_likelihood_[-1], abs=1e-4)
    assert plain.score(Xm) == pytest.approx(px.score(Xm), abs=1e-4)
    # the same model: the same imputations (W is identified up to a rotation only)
    for m in Xm.modalities:
        a, b = np.asarray(px.transform(Xm)[m]), np.asarray(plain.transform(Xm)[m])
        np.testing.assert_allclose(a, b, atol=1e-2 * np.abs(a).max())
    assert px.n_iter_ * 5 < plain.n_iter_
    # the default is PX-EM
    default = CalMRLImputer(3, tol=1e-9, max_iter=3000, random_state=0).fit(Xm)
    np.testing.assert_array_equal(default.log_likelihood_, px.log_likelihood_)


@pytest.mark.parametrize("noise", ["modality", "feature"])
@pytest.mark.parametrize("standardize", [True, False])
def test_matches_gaussian_conditional_by_schur_complement(standardize, noise):
    # A small problem; every pattern, the empty one included, at transform.
    X, Xm, _, _ = _data(n=200)
    imputer = CalMRLImputer(
        2, standardize=standardize, max_iter=20, noise=noise, random_state=0
    )
    imputer.fit(Xm)
    X_test, mask = _all_patterns(X[:16])
    out, std = imputer.transform(X_test, return_std=True)
    scores = imputer.score_samples(X_test)
    mu, Sigma = _joint(imputer)
    bounds = np.cumsum([0] + list(WIDTHS.values()))
    full, full_std = np.asarray(out), np.asarray(std)
    x = np.asarray(X_test)
    for i, pattern in enumerate(mask):
        o = np.concatenate(
            [np.arange(bounds[j], bounds[j + 1]) for j in np.flatnonzero(pattern)]
            + [np.zeros(0, dtype=int)]
        )
        h = np.setdiff1d(np.arange(bounds[-1]), o)
        gain = Sigma[np.ix_(h, o)] @ np.linalg.inv(Sigma[np.ix_(o, o)]) if o.size else 0
        cond_mean = mu[h] + gain @ (x[i, o] - mu[o]) if o.size else mu[h]
        cond_cov = Sigma[np.ix_(h, h)] - (gain @ Sigma[np.ix_(o, h)] if o.size else 0)
        np.testing.assert_allclose(full[i, h], cond_mean, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(full_std[i, h], np.sqrt(np.diag(cond_cov)), rtol=1e-8)
        np.testing.assert_array_equal(full[i, o], x[i, o])
        np.testing.assert_array_equal(full_std[i, o], 0.0)
        expected = (
            multivariate_normal(mu[o], Sigma[np.ix_(o, o)]).logpdf(x[i, o]) if o.size else 0
        )
        np.testing.assert_allclose(scores[i], expected, rtol=1e-8, atol=1e-8)


def test_sample_with_no_modality_at_transform_gets_the_prior():
    _, Xm, _, _ = _data(n=200)
    imputer = CalMRLImputer(3, random_state=0).fit(Xm)
    empty = {m: np.full((2, d), np.nan) for m, d in WIDTHS.items()}
    out = imputer.transform(empty)
    for m in WIDTHS:
        np.testing.assert_allclose(out[m], np.tile(imputer.mean_[m], (2, 1)))
    np.testing.assert_array_equal(imputer.transform_latent(empty), 0.0)
    np.testing.assert_array_equal(imputer.score_samples(empty), 0.0)


def test_recovers_parameters_of_the_generating_model():
    noise = {"a": 0.1, "b": 0.2, "c": 0.3}
    X, params = make_shared_latent(
        3000, WIDTHS, n_components=3, noise=noise, random_state=1, return_params=True
    )
    Xm = make_missing_modalities(X, 0.3, random_state=1)
    imputer = CalMRLImputer(3, standardize=False, tol=1e-6, random_state=0)
    imputer.fit(Xm)
    for m in WIDTHS:
        np.testing.assert_allclose(
            imputer.noise_variance_[m], params["noise_variance"][m], rtol=0.1
        )
        np.testing.assert_allclose(imputer.mean_[m], params["mean"][m], atol=0.15)
    W_true, W_hat = params["components"], imputer.loadings_
    for m, k in itertools.product(WIDTHS, repeat=2):
        true = W_true[m] @ W_true[k].T
        err = np.linalg.norm(W_hat[m] @ W_hat[k].T - true) / np.linalg.norm(true)
        assert err < 0.1, (m, k, err)


def test_imputation_error_near_noise_floor_and_far_below_mean_imputation():
    X, Xm, hidden, _ = _data(n=1000, q=3, noise=0.1, rate=0.4)
    imputer = CalMRLImputer(3, standardize=False, random_state=0).fit(Xm)
    out, std = imputer.transform(Xm, return_std=True)
    for j, m in enumerate(X.modalities):
        rows = hidden[:, j]
        rmse = np.sqrt(np.mean((out[m][rows] - X[m][rows]) ** 2))
        mean_fill = np.nanmean(Xm[m], axis=0)
        rmse_mean = np.sqrt(np.mean((mean_fill - X[m][rows]) ** 2))
        assert rmse < 1.5 * 0.1, (m, rmse)  # noise floor: 0.1
        assert rmse < 0.1 * rmse_mean, (m, rmse, rmse_mean)
        # and the predictive standard deviation is calibrated
        predicted = np.sqrt(np.mean(std[m][rows] ** 2))
        assert 0.85 < rmse / predicted < 1.15, (m, rmse, predicted)


def test_sample_observing_one_modality_and_latent_embedding():
    X, Xm, hidden, params = _data(n=600, q=3, rate=0.6)
    only_one = Xm.observed.sum(axis=1) == 1
    assert only_one.sum() > 50
    imputer = CalMRLImputer(3, random_state=0).fit(Xm)
    out = imputer.transform(Xm)
    for j, m in enumerate(X.modalities):
        rows = hidden[:, j] & only_one
        rmse = np.sqrt(np.mean((out[m][rows] - X[m][rows]) ** 2))
        assert rmse < 0.25, (m, rmse)
    # the posterior latent is a linear image of the true one
    latent = imputer.transform_latent(Xm)
    coef, *_ = np.linalg.lstsq(latent, params["latent"], rcond=None)
    resid = params["latent"] - latent @ coef
    assert 1 - resid.var() / params["latent"].var() > 0.95


@pytest.mark.parametrize("noise", ["modality", "feature"])
def test_multiple_imputation_draws_match_the_predictive_distribution(noise):
    X, Xm, hidden, _ = _data(n=150)
    imputer = CalMRLImputer(3, noise=noise, random_state=0).fit(Xm)
    mean, std = imputer.transform(Xm, return_std=True)
    draws = imputer.sample_imputations(Xm, n_imputations=300, random_state=0)
    assert len(draws) == 300
    stack = {m: np.stack([d[m] for d in draws]) for m in X.modalities}
    for j, m in enumerate(X.modalities):
        seen = Xm.observed[:, j]
        assert all(np.array_equal(d[m][seen], Xm[m][seen]) for d in draws[:5])
        missing = ~seen
        np.testing.assert_allclose(
            stack[m][:, missing].mean(axis=0), mean[m][missing],
            atol=4 * std[m][missing].max() / np.sqrt(300),
        )
        np.testing.assert_allclose(
            stack[m][:, missing].std(axis=0), std[m][missing], rtol=0.2
        )
    again = imputer.sample_imputations(Xm, n_imputations=2, random_state=0)
    assert again[0] == draws[0] and again[1] == draws[1]
    assert not imputer.sample_imputations(Xm, 1, random_state=1)[0] == draws[0]


def test_deprecated_sample_warns_and_makes_the_same_draws():
    _, Xm, _, _ = _data(n=60)
    imputer = CalMRLImputer(2, random_state=0).fit(Xm)
    expected = imputer.sample_imputations(Xm, 3, random_state=7)
    with pytest.warns(FutureWarning, match="renamed sample_imputations.*removed in 0.4"):
        draws = imputer.sample(Xm, n_imputations=3, random_state=7)
    assert len(draws) == 3 and all(a == b for a, b in zip(draws, expected))
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="n_imputations"):
        imputer.sample(Xm, n_imputations=0)


def test_loadings_and_deprecated_dict_components():
    _, Xm, _, _ = _data(n=80)
    imputer = CalMRLImputer(3, random_state=0)
    assert not hasattr(imputer, "components_")  # unfitted: no attribute, no warning
    imputer.fit(Xm)
    assert list(imputer.loadings_) == list(imputer.modalities_)
    assert "components_" not in vars(imputer)
    with pytest.warns(FutureWarning, match="removed in 0.4.*Use loadings_"):
        old = imputer.components_
    assert old is imputer.loadings_
    # the scikit-learn shaped array that components_ becomes in 0.4
    stacked = np.vstack(list(imputer.loadings_.values())).T
    assert stacked.shape == (3, imputer.n_features_in_)
    np.testing.assert_array_equal(stacked[:, :WIDTHS["a"]], imputer.loadings_["a"].T)
    # no warning from fitting, transforming or scoring
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        CalMRLImputer(3, random_state=0).fit(Xm).transform(Xm)
        imputer.score(Xm)


@pytest.mark.parametrize("n_imputations", [0, 1.5])
def test_sample_rejects_bad_n_imputations(n_imputations):
    _, Xm, _, _ = _data(n=50)
    imputer = CalMRLImputer(2, random_state=0).fit(Xm)
    with pytest.raises(ValueError, match="n_imputations"):
        imputer.sample_imputations(Xm, n_imputations=n_imputations)


def test_float32_input_gives_float32_output_close_to_float64():
    _, Xm, _, _ = _data(n=300)
    X32 = MultiModalData({m: a.astype(np.float32) for m, a in Xm.items()})
    imp32 = CalMRLImputer(3, random_state=0).fit(X32)
    imp64 = CalMRLImputer(3, random_state=0).fit(
        MultiModalData({m: a.astype(np.float64) for m, a in X32.items()})
    )
    out32, std32 = imp32.transform(X32, return_std=True)
    out64 = imp64.transform(X32)
    for j, m in enumerate(Xm.modalities):
        assert out32[m].dtype == np.float32 and std32[m].dtype == np.float32
        seen = X32.observed[:, j]
        np.testing.assert_array_equal(out32[m][seen], X32[m][seen])
        np.testing.assert_allclose(out32[m], out64[m], rtol=1e-4, atol=1e-4)
    assert imp32.transform_latent(X32).dtype == np.float64


def test_deterministic_with_random_state():
    _, Xm, _, _ = _data(n=200)
    for init in ("pca", "random"):
        a = CalMRLImputer(3, init=init, random_state=3).fit(Xm)
        b = CalMRLImputer(3, init=init, random_state=3).fit(Xm)
        np.testing.assert_array_equal(a.log_likelihood_, b.log_likelihood_)
        assert a.transform(Xm) == b.transform(Xm)
        for m in WIDTHS:
            np.testing.assert_array_equal(a.loadings_[m], b.loadings_[m])


def test_grid_search_on_score_picks_the_true_latent_size():
    # standardize=False: the data have isotropic noise in input units, which
    # standardisation would make heteroscedastic (extra components would then help)
    _, Xm, _, _ = _data(n=600, q=3, noise=0.3)
    search = GridSearchCV(
        CalMRLImputer(standardize=False, random_state=0), {"n_components": [1, 3, 8]}, cv=3
    ).fit(Xm)
    assert search.best_params_ == {"n_components": 3}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_score_is_the_mean_of_score_samples_and_the_last_history_entry():
    _, Xm, _, _ = _data(n=200)
    imputer = CalMRLImputer(3, random_state=0).fit(Xm)
    samples = imputer.score_samples(Xm)
    assert samples.shape == (Xm.n_samples,)
    assert imputer.score(Xm) == pytest.approx(samples.mean())
    assert imputer.score(Xm) == pytest.approx(imputer.log_likelihood_[-1], rel=1e-12)


def test_convergence_warning_and_attributes():
    _, Xm, _, _ = _data(n=100)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        imputer = CalMRLImputer(2, max_iter=2, tol=0, random_state=0).fit(Xm)
    assert imputer.n_iter_ == 2 and not imputer.converged_
    imputer = CalMRLImputer(2, tol=1e-3, random_state=0).fit(Xm)
    assert imputer.converged_ and imputer.n_iter_ < imputer.max_iter
    for m, d in WIDTHS.items():
        assert imputer.loadings_[m].shape == (d, 2)
        assert imputer.mean_[m].shape == imputer.noise_variance_[m].shape == (d,)


def test_single_2d_array_with_missing_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)) @ rng.normal(size=(4, 6))
    X[::5] = np.nan
    with pytest.raises(ValueError, match="no observed modality"):
        CalMRLImputer(2).fit(X)
    imputer = CalMRLImputer(2, random_state=0).fit(X[~np.isnan(X[:, 0])])
    out, std = imputer.transform(X, return_std=True)
    assert isinstance(out, np.ndarray) and isinstance(std, np.ndarray)
    np.testing.assert_allclose(out[::5], np.tile(imputer.mean_["x0"], (10, 1)))


def test_return_std_with_pandas_output():
    pd = pytest.importorskip("pandas")
    _, Xm, _, _ = _data(n=80)
    imputer = CalMRLImputer(2, random_state=0).set_output(transform="pandas").fit(Xm)
    out, std = imputer.transform(Xm, return_std=True)
    assert isinstance(out, pd.DataFrame) and isinstance(std, pd.DataFrame)
    assert list(std.columns) == list(imputer.get_feature_names_out())
    assert (std.to_numpy() >= 0).all()


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_components": 0}, ValueError, "n_components"),
        ({"n_components": 31}, ValueError, "exceeds the 30 features"),
        ({"n_components": 2.0}, TypeError, "n_components"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"tol": -1.0}, ValueError, "tol"),
        ({"min_noise_variance": -1.0}, ValueError, "min_noise_variance"),
        ({"init": "svd"}, ValueError, "init"),
        ({"algorithm": "px_em"}, ValueError, "algorithm"),
        ({"algorithm": None}, ValueError, "algorithm"),
        ({"noise": "diagonal"}, ValueError, "'noise' parameter of CalMRLImputer"),
        ({"noise": None}, ValueError, "noise"),
    ],
)
def test_invalid_parameters(params, error, match):
    _, Xm, _, _ = _data(n=50)
    with pytest.raises(error, match=match):
        CalMRLImputer(**{"n_components": 2, **params}).fit(Xm)


# --- the EM functions, as the CalMRL embedder uses them ----------------------------------
def test_em_functions_warm_start_and_empty_pattern():
    _, Xm, _, _ = _data(n=300)
    observed = Xm.observed
    data = em.prepare(list(Xm.values()), observed)
    floors = em.noise_floors(data, 1e-6)
    rng = np.random.RandomState(0)
    params = em.init_params_pca(data, 3, floors=floors, random_state=rng)
    params, post, history, _ = em.fit_em(data, params, floors=floors, max_iter=30)
    # a warm start resumes where the last run stopped and keeps climbing
    params2, _, history2, _ = em.fit_em(data, params, floors=floors, max_iter=3, tol=0)
    assert history2[0] == pytest.approx(history[-1], rel=1e-12)
    assert np.all(np.diff(history2) >= -1e-10 * abs(history2[0]))
    assert post.mean.shape == (Xm.n_samples, 3)
    assert post.cov.shape == (len(data.patterns), 3, 3)
    # an empty pattern has the prior: V = I, log det V = 0
    cov, logdet = em.pattern_covariances(params, np.zeros((1, 3), dtype=bool))
    np.testing.assert_allclose(cov[0], np.eye(3))
    assert logdet[0] == 0.0
    # V is the inverse of the posterior precision
    precision = np.eye(3) + sum(
        W.T @ W / s2 for W, s2 in zip(params.components, params.noise_variance)
    )
    cov, _ = em.pattern_covariances(params, np.ones((1, 3), dtype=bool))
    np.testing.assert_allclose(cov[0] @ precision, np.eye(3), atol=1e-10)


def _reference_em_step(arrays, observed, params, floors, expand):
    """Posterior and log-likelihood of every sample, then the M-step, written plainly:
    one sample at a time, in the samples' order, on the stacked observed modalities
    (isotropic or per-feature noise, as ``params`` has it)."""
    n, q = observed.shape[0], params.n_components
    per_feature = params.feature_noise is not None
    mean, cov, log_likelihood = np.zeros((n, q)), np.zeros((n, q, q)), np.zeros(n)
    for i in range(n):
        obs = np.flatnonzero(observed[i])
        W = np.vstack([params.components[j] for j in obs])
        mu = np.concatenate([params.means[j] for j in obs])
        noise = np.concatenate([
            params.feature_noise[j] if per_feature
            else np.full(arrays[j].shape[1], params.noise_variance[j])
            for j in obs
        ])
        x = np.concatenate([arrays[j][i] for j in obs])
        cov[i] = np.linalg.inv(np.eye(q) + W.T @ (W / noise[:, None]))
        mean[i] = cov[i] @ W.T @ ((x - mu) / noise)
        log_likelihood[i] = multivariate_normal(mu, W @ W.T + np.diag(noise)).logpdf(x)
    components, means, noises = [], [], []
    for j, a in enumerate(arrays):
        rows = observed[:, j]
        b = np.column_stack([mean[rows], np.ones(rows.sum())])
        A = b.T @ b
        A[:q, :q] += cov[rows].sum(axis=0)
        B = a[rows].T @ b
        Wt = B @ np.linalg.inv(A)
        if per_feature:  # residual variance of each feature over its rows
            fitted = b @ Wt.T
            psi = np.mean(a[rows] ** 2 - 2 * a[rows] * fitted, axis=0) + np.einsum(
                "jk,kl,jl->j", Wt, A, Wt) / rows.sum()
            noises.append(np.maximum(psi, floors[j]))
        else:
            s2 = (np.sum(a[rows] ** 2) - np.sum(Wt * B)) / a[rows].size
            noises.append(max(s2, floors[j]))
        components.append(Wt[:, :q])
        means.append(Wt[:, q])
    if expand:
        eta = mean.mean(axis=0)
        S = (cov + mean[:, :, None] * mean[:, None, :]).mean(axis=0) - np.outer(eta, eta)
        L = np.linalg.cholesky(S)
        means = [mu + W @ eta for W, mu in zip(components, means)]
        components = [W @ L for W in components]
    if per_feature:
        new = em.SharedLatentParams(
            tuple(components), tuple(means), np.array([p.mean() for p in noises]),
            tuple(noises),
        )
    else:
        new = em.SharedLatentParams(tuple(components), tuple(means), np.asarray(noises))
    return em.Posterior(mean, cov, log_likelihood), new


def _assert_params_close(got, want, rtol=1e-8, atol=1e-10):
    assert (got.feature_noise is None) == (want.feature_noise is None)
    for g_field, w_field in zip(got, want):
        if w_field is None:
            continue
        for g, w in zip(g_field, w_field):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


@pytest.mark.parametrize("noise", ["modality", "feature"])
@pytest.mark.parametrize("expand", [True, False])
def test_em_steps_match_a_plain_per_sample_implementation(expand, noise):
    # Samples in random pattern order (MCAR): fit_em sorts them by pattern inside and
    # must give the history, parameters and posterior of the plain per-sample steps.
    # The reference M-step of the per-feature noise is the expected squared residual
    # E||z_j - [W, mu]_j b||^2 written out, not the closed form of m_step.
    _, Xm, _, _ = _data(n=150, noise=0.5, rate=0.5, seed=3)
    arrays = [np.asarray(a) for a in Xm.values()]
    observed = Xm.observed
    data = em.prepare(arrays, observed)
    floors = em.noise_floors(data, 1e-6, per_feature=noise == "feature")
    start = em.init_params_random(
        data, 3, floors=em.noise_floors(data, 1e-6),
        random_state=np.random.RandomState(0),
    )
    if noise == "feature":  # unequal starting noise, so every feature's weight differs
        start = em.feature_noise_params(start, floors)
        start = start._replace(feature_noise=tuple(
            psi * np.linspace(0.5, 2.0, psi.size) for psi in start.feature_noise
        ))
    params, history, reference = start, [], None
    for _ in range(4):
        reference, params_next = _reference_em_step(
            arrays, observed, params, floors, expand
        )
        history.append(reference.log_likelihood.mean())
        post = em.e_step(data, params)
        np.testing.assert_allclose(post.mean, reference.mean, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            post.log_likelihood, reference.log_likelihood, rtol=1e-10
        )
        np.testing.assert_allclose(
            post.cov[data.pattern_index], reference.cov, rtol=1e-10, atol=1e-14
        )
        stepped = em.m_step(data, post, floors, expand=expand, noise=noise)
        _assert_params_close(stepped, params_next)
        params = params_next
    history.append(_reference_em_step(arrays, observed, params, floors, expand)[0]
                   .log_likelihood.mean())
    fitted, post, fit_history, _ = em.fit_em(
        data, start, floors=floors, max_iter=4, tol=0, expand=expand
    )
    np.testing.assert_allclose(fit_history, history, rtol=1e-10)
    _assert_params_close(fitted, params)
    final = _reference_em_step(arrays, observed, params, floors, expand)[0]
    np.testing.assert_allclose(post.mean, final.mean, rtol=1e-8, atol=1e-10)


def test_prepare_groups_rows_by_pattern_in_contiguous_runs():
    _, Xm, _, _ = _data(n=200, rate=0.5, seed=1)
    arrays, observed = list(Xm.values()), Xm.observed
    data = em.prepare(arrays, observed)
    np.testing.assert_array_equal(data.order, np.concatenate(data.pattern_rows))
    np.testing.assert_array_equal(
        data.pattern_index[data.order], np.repeat(np.arange(len(data.patterns)),
                                                  np.diff(data.bounds))
    )
    for j, (rows, v, runs) in enumerate(zip(data.rows, data.values, data.runs)):
        np.testing.assert_array_equal(v, arrays[j][rows])
        np.testing.assert_array_equal(np.sort(rows), np.flatnonzero(observed[:, j]))
        covered = np.concatenate([np.arange(lo, hi) for lo, hi, _, _ in runs])
        np.testing.assert_array_equal(covered, np.arange(len(rows)))
        for lo, hi, start, stop in runs:
            np.testing.assert_array_equal(rows[lo:hi], data.order[start:stop])


@pytest.mark.parametrize("as_array", [False, True])
@pytest.mark.parametrize("huge", [False, True])
def test_fit_transform_reuses_the_fit_posterior_and_equals_fit_then_transform(
    as_array, huge, monkeypatch
):
    # huge: values beyond 2**400 are rescaled at fit, so fit_transform transforms anew;
    # a 2-D array is one modality, complete
    X, Xm, _, _ = _data(n=300, rate=0.5)
    if huge:
        Xm = MultiModalData({**Xm, "b": Xm["b"] * 2.0**700})
    X = np.asarray(X) * (2.0**700 if huge else 1.0) if as_array else Xm
    params = dict(n_components=3, max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        two = CalMRLImputer(**params).fit(X).transform(X)
        if not huge:  # no second E-step
            monkeypatch.setattr(CalMRLImputer, "_posterior_chunks", None)
        one = CalMRLImputer(**params).fit_transform(X)
    assert type(one) is type(two)
    one, two = np.asarray(one), np.asarray(two)
    assert one.dtype == two.dtype
    np.testing.assert_allclose(one, two, rtol=1e-10, atol=0)
    np.testing.assert_array_equal(np.isnan(one), np.zeros_like(one, dtype=bool))


# --- huge finite values ----------------------------------------------------------------
def _outputs(imputer, X):
    """Every inference output, as plain arrays (``sample`` with a fixed seed)."""
    filled, std = imputer.transform(X, return_std=True)
    return {
        "filled": {m: np.asarray(a) for m, a in filled.items()},
        "std": {m: np.asarray(a) for m, a in std.items()},
        "draw": {
            m: np.asarray(a)
            for m, a in imputer.sample_imputations(X, 1, random_state=0)[0].items()
        },
        "latent": imputer.transform_latent(X),
        "score_samples": imputer.score_samples(X),
    }


@pytest.mark.parametrize("noise", ["modality", "feature"])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("case", list(HUGE_CASES))
def test_huge_values_at_fit_give_the_model_of_the_rescaled_data(
    case, standardize, noise
):
    dtype = HUGE_CASES[case][0]
    X = MultiModalData({m: a.astype(dtype) for m, a in _data(120)[1].items()})
    huge, small, unit, _ = make_huge(case, X)
    if not standardize:
        # Isotropic noise: one power of two for the whole modality, which changes the
        # model (not only its units) unless it is the one fit uses.
        unit = np.full(unit.shape, power_of_two_scale(max_abs(huge["b"])))
        small = MultiModalData({**huge, "b": (huge["b"] / unit).astype(X["b"].dtype)})
    # float32: "small" loses the subnormal digits of rescaled ordinary values
    rtol, atol = (1e-6, 1e-5) if X["b"].dtype == np.float32 else (1e-9, 0.0)
    params = dict(n_components=3, max_iter=30, random_state=0, standardize=standardize,
                  noise=noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        fitted = CalMRLImputer(**params).fit(huge)
        out = _outputs(fitted, huge)
        ref_fit = CalMRLImputer(**params).fit(small)
        ref = _outputs(ref_fit, small)
    observed_b = huge.observed[:, 1]
    log_unit = np.log(unit).sum()
    for key in ("filled", "std", "draw"):
        for j, m in enumerate(huge.modalities):
            assert np.isfinite(out[key][m]).all() and out[key][m].dtype == X[m].dtype
            scale = unit if m == "b" else 1.0
            np.testing.assert_allclose(
                out[key][m], ref[key][m] * scale, rtol=rtol, atol=atol * np.max(scale)
            )
    for j, m in enumerate(huge.modalities):
        np.testing.assert_array_equal(
            out["filled"][m][huge.observed[:, j]], huge[m][huge.observed[:, j]]
        )
    np.testing.assert_allclose(out["latent"], ref["latent"], rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(
        out["score_samples"], ref["score_samples"] - observed_b * log_unit, rtol=rtol
    )
    np.testing.assert_allclose(
        fitted.log_likelihood_,
        ref_fit.log_likelihood_ - observed_b.mean() * log_unit, rtol=rtol,
    )
    np.testing.assert_allclose(
        fitted.loadings_["b"], ref_fit.loadings_["b"] * unit[:, None], rtol=rtol,
        atol=rtol * np.abs(fitted.loadings_["b"]).max(),
    )
    with np.errstate(over="ignore"):  # inf above 1e154 input units (documented)
        np.testing.assert_allclose(
            fitted.noise_variance_["b"], ref_fit.noise_variance_["b"] * unit**2,
            rtol=rtol,
        )


def _far_row(X):
    """A row observing "b" and missing "a"."""
    return int(np.flatnonzero(X.observed[:, 1] & ~X.observed[:, 0])[0])


def _with_value(X, row, value):
    b = X["b"].copy()
    b[row, 0] = value
    return MultiModalData({**X, "b": b})


@pytest.mark.parametrize("noise", ["modality", "feature"])
def test_far_rows_at_transform_are_computed_apart_and_exactly(noise):
    _, X, _, _ = _data(120)
    row = _far_row(X)
    imputer = CalMRLImputer(3, noise=noise, random_state=0).fit(X)
    expected = _outputs(imputer, X)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        filled, std = imputer.transform(_with_value(X, row, 1e200), return_std=True)
        latent = imputer.transform_latent(_with_value(X, row, 1e200))
        draw = imputer.sample_imputations(
            _with_value(X, row, 1e200), 1, random_state=0
        )[0]
    near = imputer.transform(_with_value(X, row, 1e100))
    others = np.arange(X.n_samples) != row
    # The other rows' posterior is computed without the far row: equal up to the
    # rounding of a matrix product over fewer rows, which depends on the CPU's BLAS
    # kernels (1 ulp on some), so a margin, not bit equality; observed values are exact.
    close = dict(rtol=1e-12, atol=1e-12)
    for j, m in enumerate(X.modalities):
        assert np.isfinite(filled[m]).all() and np.isfinite(draw[m]).all()
        np.testing.assert_allclose(filled[m][others], expected["filled"][m][others],
                                   **close)
        seen = X.observed[:, j]
        np.testing.assert_array_equal(filled[m][seen & others], X[m][seen & others])
        np.testing.assert_allclose(std[m], expected["std"][m], **close)
    # the imputation is affine in the observed values: at these sizes, proportional
    np.testing.assert_allclose(filled["a"][row], near["a"][row] * 1e100, rtol=1e-9)
    np.testing.assert_allclose(latent[others], expected["latent"][others], **close)
    np.testing.assert_allclose(
        latent[row], imputer.transform_latent(_with_value(X, row, 1e100))[row] * 1e100,
        rtol=1e-9,
    )
    # log-likelihoods: -1e260 is still a float64, and quadratic in the far value
    far = imputer.score_samples(_with_value(X, row, 1e130))
    np.testing.assert_allclose(far[others], expected["score_samples"][others], **close)
    ratio = far[row] / imputer.score_samples(_with_value(X, row, 1e125))[row]
    np.testing.assert_allclose(ratio, 1e10, rtol=1e-6)
    for method in (imputer.score_samples, imputer.score):
        with pytest.raises(ValueError, match=rf"modality 'b' of rows \[{row}\].*below"):
            method(_with_value(X, row, 1e200))


@pytest.mark.parametrize("dtype, value", [(np.float32, 3e38), (np.float32, 9.96921e36),
                                          (np.float64, 9.96921e36)])
def test_huge_values_at_transform_compute_or_raise_naming_them(dtype, value):
    _, X, _, _ = _data(120)
    X = MultiModalData({m: a.astype(dtype) for m, a in X.items()})
    row = _far_row(X)
    imputer = CalMRLImputer(3, random_state=0).fit(X)
    huge = _with_value(X, row, value)
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            filled = imputer.transform(huge)
    except ValueError as exc:
        assert "'b'" in str(exc) and f"[{row}]" in str(exc)
        return
    for j, m in enumerate(X.modalities):
        assert np.isfinite(filled[m]).all() and filled[m].dtype == dtype
        observed = X.observed[:, j]
        np.testing.assert_array_equal(filled[m][observed], huge[m][observed])


def test_imputations_beyond_the_output_dtype_raise_naming_them():
    _, X, _, _ = _data(120)
    X = MultiModalData({m: (a * 1e-6).astype(np.float32) for m, a in X.items()})
    row = _far_row(X)
    imputer = CalMRLImputer(3, random_state=0).fit(X)
    huge = MultiModalData({**X, "b": X["b"].copy()})
    huge["b"][row] = np.sign(imputer.loadings_["b"][:, 0]) * np.float32(3e38)
    match = rf"modality 'a' in rows \[{row}\].*float32.*'b'"
    with pytest.raises(ValueError, match=match):
        imputer.transform(huge)


@pytest.mark.parametrize("noise", ["modality", "feature"])
def test_e_step_on_shrunk_values_gives_the_same_posterior(noise):
    _, X, _, _ = _data(200)
    imputer = CalMRLImputer(3, noise=noise, random_state=0).fit(X)
    args = list(X.values()), X.observed
    kwargs = dict(center=imputer._center, scale=imputer._scale)
    plain = em.e_step(em.prepare(*args, **kwargs), imputer._params)
    shrunk = em.e_step(em.prepare(*args, **kwargs, shrink=2.0**100), imputer._params)
    np.testing.assert_allclose(shrunk.mean, plain.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(shrunk.cov, plain.cov)
    np.testing.assert_allclose(shrunk.log_likelihood, plain.log_likelihood, rtol=1e-10)


# --- parameters before data; a failed fit changes nothing -------------------------------
def test_bad_parameter_is_reported_before_bad_data():
    _, X, _, _ = _data(60)
    X["a"][np.flatnonzero(X.observed[:, 0])[0], 0] = np.nan  # a partly NaN row
    imputer = CalMRLImputer(n_components=-1)
    with pytest.raises(ValueError, match="n_components"):
        imputer.fit(X)
    assert not hasattr(imputer, "modalities_")


def _em_failure(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("failure inside EM")

    monkeypatch.setattr(em, "fit_em", fail)
    return RuntimeError, "inside EM", None


def _too_few_features(monkeypatch):
    return ValueError, "n_components=3 exceeds the 2 features", 1


@pytest.mark.parametrize("failure", [_too_few_features, _em_failure])
@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_failed_fit_changes_nothing(method, failure, monkeypatch):
    _, X, _, _ = _data(60)
    imputer = CalMRLImputer(3, random_state=0).fit(X)
    before = dict(vars(imputer))
    expected = _outputs(imputer, X)
    error, match, width = failure(monkeypatch)
    rows = X.observed[:, :2].any(axis=1)
    renamed = {f"new_{m}": a[rows, :width] for m, a in list(X.items())[:2]}
    with pytest.raises(error, match=match):
        getattr(imputer, method)(renamed)
    monkeypatch.undo()
    assert vars(imputer).keys() == before.keys()
    assert all(vars(imputer)[k] is v for k, v in before.items())
    out = _outputs(imputer, X)
    for key, value in expected.items():
        if isinstance(value, dict):
            for m in X.modalities:
                np.testing.assert_array_equal(out[key][m], value[m])
        else:
            np.testing.assert_array_equal(out[key], value)
    with pytest.raises(ValueError, match="new_a"):
        imputer.transform(renamed)


def test_clip_keeps_imputations_in_the_observed_range_of_each_feature():
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(300, 2))
    # a skewed, bounded feature (counts) beside Gaussian ones
    a = np.hstack([np.round(np.exp(latent[:, :1])), latent @ rng.normal(size=(2, 3))])
    b = latent @ rng.normal(size=(2, 4)) + 0.1 * rng.normal(size=(300, 4))
    X = make_missing_modalities(MultiModalData(a=a, b=b), 0.4, random_state=0)
    free = CalMRLImputer(n_components=2, random_state=0).fit(X)
    clipped = CalMRLImputer(n_components=2, clip=True, random_state=0).fit(X)
    for m in X.modalities:
        observed = X[m][X.observed[:, X.modalities.index(m)]]
        np.testing.assert_array_equal(clipped.data_min_[m], observed.min(axis=0))
        np.testing.assert_array_equal(clipped.data_max_[m], observed.max(axis=0))
    out_free, out = free.transform(X), clipped.transform(X)
    assert (out_free["a"][:, 0] < X["a"][:, 0][X.observed[:, 0]].min()).any()
    for j, m in enumerate(X.modalities):
        assert (out[m] >= clipped.data_min_[m]).all()
        assert (out[m] <= clipped.data_max_[m]).all()
        np.testing.assert_array_equal(out[m][X.observed[:, j]], X[m][X.observed[:, j]])
        np.testing.assert_array_equal(
            out[m], np.clip(out_free[m], clipped.data_min_[m], clipped.data_max_[m]))
    np.testing.assert_array_equal(np.asarray(clipped.fit_transform(X)), np.asarray(out))


# --- per-feature noise (factor analysis) ------------------------------------------------
LOW_NOISE, HIGH_NOISE = 0.05, 1.0  # variances of the two halves of every modality


def _heteroscedastic(n, seed, q=3):
    """Data from the shared latent whose first half of features in every modality has
    noise variance LOW_NOISE and the second half HIGH_NOISE; the true variances."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, q))
    X, variances = {}, {}
    for m, d in WIDTHS.items():
        variances[m] = np.where(np.arange(d) < d // 2, LOW_NOISE, HIGH_NOISE)
        X[m] = (latent @ rng.normal(size=(q, d)) + rng.normal(size=d)
                + rng.normal(size=(n, d)) * np.sqrt(variances[m]))
    return MultiModalData(X), variances


def _rmse(X, filled, hidden, low_only=False):
    errors = []
    for j, m in enumerate(X.modalities):
        cols = np.arange(WIDTHS[m]) < WIDTHS[m] // 2 if low_only else slice(None)
        errors.append((np.asarray(filled[m]) - X[m])[hidden[:, j]][:, cols].ravel())
    return np.sqrt(np.mean(np.concatenate(errors) ** 2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_feature_noise_recovers_per_feature_variances_and_imputes_better(seed):
    # Measured over seeds 0-9: estimates within [0.82, 1.17] of the truth; RMSE ratio
    # feature / modality 0.86-0.92 overall and 0.54-0.71 on the low-noise features.
    X, variances = _heteroscedastic(2000, seed)
    Xm, hidden = make_missing_modalities(X, 0.4, random_state=seed, return_mask=True)
    params = dict(n_components=3, tol=1e-6, max_iter=1000, random_state=0)
    fits = {noise: CalMRLImputer(noise=noise, **params).fit(Xm)
            for noise in ("modality", "feature")}
    fa = fits["feature"]
    for m in WIDTHS:
        estimate = fa.noise_variance_[m]
        assert estimate.shape == (WIDTHS[m],)
        ratio = estimate / variances[m]
        assert np.all((ratio > 1 / 1.5) & (ratio < 1.5)), (m, ratio)
        low = variances[m] == LOW_NOISE
        assert estimate[low].max() < estimate[~low].min()
    ll = fa.log_likelihood_
    assert np.all(np.diff(ll) >= -1e-9 * np.abs(ll[:-1])), np.diff(ll).min()
    assert fa.converged_ and fa.score(Xm) > fits["modality"].score(Xm)
    out = {noise: fit.transform(Xm) for noise, fit in fits.items()}
    assert _rmse(X, out["feature"], hidden) < 0.95 * _rmse(X, out["modality"], hidden)
    assert (_rmse(X, out["feature"], hidden, low_only=True)
            < 0.8 * _rmse(X, out["modality"], hidden, low_only=True))


def test_isotropic_noise_is_the_default_and_constant_within_a_modality():
    _, Xm, _, _ = _data(n=200)
    assert CalMRLImputer().noise == "modality"
    default = CalMRLImputer(3, standardize=False, random_state=0).fit(Xm)
    explicit = CalMRLImputer(
        3, standardize=False, noise="modality", random_state=0
    ).fit(Xm)
    assert default._params.feature_noise is None
    np.testing.assert_array_equal(default.log_likelihood_, explicit.log_likelihood_)
    for m in WIDTHS:
        assert np.ptp(default.noise_variance_[m]) == 0.0
        np.testing.assert_array_equal(
            default.noise_variance_[m], explicit.noise_variance_[m]
        )
    fa = CalMRLImputer(3, standardize=False, noise="feature", random_state=0).fit(Xm)
    assert all(np.ptp(fa.noise_variance_[m]) > 0 for m in WIDTHS)


def test_feature_noise_draws_spread_by_each_features_noise():
    X, variances = _heteroscedastic(600, 0)
    Xm, hidden = make_missing_modalities(X, 0.4, random_state=0, return_mask=True)
    imputer = CalMRLImputer(3, noise="feature", random_state=0).fit(Xm)
    mean, std = imputer.transform(Xm, return_std=True)
    draws = imputer.sample_imputations(Xm, n_imputations=400, random_state=0)
    for j, m in enumerate(X.modalities):
        missing = ~Xm.observed[:, j]
        stack = np.stack([np.asarray(d[m])[missing] for d in draws])
        spread = stack.var(axis=0).mean(axis=0)  # per feature, over missing rows
        predicted = (std[m][missing] ** 2).mean(axis=0)
        np.testing.assert_allclose(spread, predicted, rtol=0.15)
        # the predictive variance is diag(W V W^T) plus that feature's own noise; a
        # draw with the modality's mean noise would spread the low-noise half alike
        assert np.all(predicted > imputer.noise_variance_[m])
        low = variances[m] == LOW_NOISE
        assert spread[low].max() < 0.3 * spread[~low].min()


@pytest.mark.parametrize("standardize", [True, False])
def test_feature_noise_on_huge_values_gives_the_same_model_scaled(standardize):
    # 1e150: squares beyond the 2**400 limit's square, so fit divides by a power of
    # two first (per feature or per modality); the shrunk rows of inference are
    # tested in test_far_rows_at_transform_are_computed_apart_and_exactly.
    X, _ = _heteroscedastic(300, 0)
    Xm = make_missing_modalities(X, 0.4, random_state=0)
    huge = MultiModalData({m: a * 1e150 for m, a in Xm.items()})
    params = dict(n_components=3, noise="feature", max_iter=40, tol=1e-6,
                  standardize=standardize, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        small_fit = CalMRLImputer(**params).fit(Xm)
        huge_fit = CalMRLImputer(**params).fit(huge)
        small, big = _outputs(small_fit, Xm), _outputs(huge_fit, huge)
    for j, m in enumerate(Xm.modalities):
        for key in ("filled", "std", "draw"):
            np.testing.assert_allclose(big[key][m], small[key][m] * 1e150, rtol=1e-7)
        np.testing.assert_array_equal(
            big["filled"][m][Xm.observed[:, j]], huge[m][Xm.observed[:, j]]
        )
        np.testing.assert_allclose(
            huge_fit.noise_variance_[m], small_fit.noise_variance_[m] * 1e300,
            rtol=1e-7,
        )
    shift = np.log(1e150) * (Xm.observed @ np.array(list(WIDTHS.values())))
    np.testing.assert_allclose(big["latent"], small["latent"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        big["score_samples"], small["score_samples"] - shift, rtol=1e-9
    )
    np.testing.assert_allclose(
        huge_fit.log_likelihood_, small_fit.log_likelihood_ - shift.mean(), rtol=1e-9
    )


def test_per_feature_floors_and_broadcast_start():
    _, Xm, _, _ = _data(n=200)
    a = Xm["a"].copy()
    a[:, 0] = np.where(Xm.observed[:, 0], 3.0, np.nan)  # a constant feature
    data = em.prepare([a, Xm["b"], Xm["c"]], Xm.observed)
    floors = em.noise_floors(data, 1e-3)
    per_feature = em.noise_floors(data, 1e-3, per_feature=True)
    np.testing.assert_allclose(per_feature[1], 1e-3 * data.feature_variances(1))
    assert per_feature[0][0] == floors[0]  # constant: the modality's floor
    rng = np.random.RandomState(0)
    start = em.init_params_pca(data, 3, floors=floors, random_state=rng)
    broadcast = em.feature_noise_params(start, per_feature)
    for j, d in enumerate(data.n_features):
        np.testing.assert_array_equal(
            broadcast.feature_noise[j], np.maximum(start.noise_variance[j], per_feature[j])
        )
        assert em.noise_of(broadcast, j).shape == (d,)
        assert em.noise_of(start, j) == start.noise_variance[j]
    # equal per-feature noise is the isotropic model: the same E-step
    iso, fa = em.e_step(data, start), em.e_step(data, em.feature_noise_params(
        start, [np.zeros(d) for d in data.n_features]))
    np.testing.assert_allclose(fa.mean, iso.mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fa.log_likelihood, iso.log_likelihood, rtol=1e-12)
