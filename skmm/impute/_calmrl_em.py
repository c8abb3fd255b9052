"""Closed-form EM for the CalMRL shared-latent model, on plain numpy arrays.

Model (one latent shared by all modalities, probabilistic-PCA style)::

    beta ~ N(0, I_q),    z^m = W^m beta + mu^m + eps^m,    eps^m ~ N(0, sigma_m^2 I)

or, with per-feature noise (factor analysis across modalities), ``eps^m ~ N(0, Psi^m)``
with ``Psi^m = diag(psi_m1, ..., psi_md)``: set ``SharedLatentParams.feature_noise``
(:func:`feature_noise_params`) and every function below uses it.

The functions here know nothing about estimators or containers: they take per-modality
arrays of the *observed* rows (:func:`prepare`) and a :class:`SharedLatentParams`, so that
:class:`~skmm.impute.CalMRLImputer` and the calibration step of the CalMRL embedder
(warm-started EM on detached representations) share one implementation.

Costs: the posterior covariance ``V`` depends only on the missing pattern and is factorised
once per pattern; per iteration each modality costs two ``(n_m x d_m) @ (d_m x q)``
products (E-step projection, M-step statistics) and nothing of size ``n x sum(d) x q`` is
formed. :func:`prepare` sorts the samples by missing pattern once, so that inside
:func:`fit_em` every pattern's samples, and every modality's rows of them, are contiguous
slices (views, not fancy-index copies); :func:`e_step` and :func:`m_step` keep the
samples' own order. The M-step is parameter-expanded (PX-EM) by default, see
:func:`m_step`. Linear algebra is numpy's only (see :func:`pattern_covariances`).
"""

from typing import NamedTuple

import numpy as np

from ..utils._patterns import missing_patterns

__all__ = [
    "EMData",
    "Moments",
    "Posterior",
    "SharedLatentParams",
    "Totals",
    "block_moments",
    "e_step",
    "feature_noise_params",
    "fit_em",
    "init_params_pca",
    "init_params_random",
    "m_step",
    "m_step_from_moments",
    "missing_patterns",
    "moments",
    "noise_floors",
    "noise_of",
    "pattern_covariances",
    "pca_rows",
    "predictive_mean",
    "predictive_variance",
    "prepare",
    "rescale",
    "run_em",
    "sample_latent",
    "standardize",
]

_LOG_2PI = np.log(2.0 * np.pi)


class SharedLatentParams(NamedTuple):
    """Parameters ``theta`` of the shared-latent model, one entry per modality.

    components : tuple of ndarray (d_m, q)
        Loadings ``W^m``.
    means : tuple of ndarray (d_m,)
        Offsets ``mu^m``.
    noise_variance : ndarray (n_modalities,)
        Isotropic noise variances ``sigma_m^2``; with ``feature_noise``, the mean of
        each modality's ``psi_mj`` (a summary, which no computation uses).
    feature_noise : tuple of ndarray (d_m,) or None
        Per-feature noise variances ``psi_mj`` (the noise covariance is
        ``diag(psi_m)``), or None for the isotropic model. :func:`noise_of` gives the
        noise of a modality in either form.
    """

    components: tuple
    means: tuple
    noise_variance: np.ndarray
    feature_noise: tuple = None

    @property
    def n_components(self):
        return self.components[0].shape[1]


class EMData(NamedTuple):
    """Observed rows of each modality, laid out once for repeated E/M-steps.

    rows : tuple of int ndarray
        Indices of the samples that observe each modality, grouped by pattern (the
        patterns in order, each one's samples in increasing order).
    values : tuple of float64 ndarray (n_m, d_m)
        Those samples' rows, in that order (C-contiguous, no NaN).
    sq_norms : tuple of ndarray (n_m,)
        Squared norms of the rows.
    col_sums, col_sq_sums : tuple of ndarray (d_m,)
        Column sums and column sums of squares of the rows.
    patterns : bool ndarray (n_patterns, n_modalities)
        Distinct observed patterns.
    pattern_index : int ndarray (n_samples,)
        Pattern of each sample.
    pattern_rows : tuple of int ndarray
        Samples of each pattern.
    shrink : float
        Power of two the values were divided by to keep their squares finite (1 unless
        :func:`prepare` was asked to); :func:`e_step` answers in the undivided units,
        :func:`m_step` needs 1.
    order : int ndarray (n_samples,)
        The samples grouped by pattern, ``concatenate(pattern_rows)``: pattern ``p``
        holds positions ``bounds[p]:bounds[p + 1]`` of this order.
    bounds : int ndarray (n_patterns + 1,)
    runs : tuple of tuple of (int, int, int, int)
        For each modality, ``(lo, hi, start, stop)``: its rows ``values[lo:hi]`` are
        the samples at positions ``start:stop`` of ``order`` (maximal runs of adjacent
        patterns that observe it).
    """

    rows: tuple
    values: tuple
    sq_norms: tuple
    col_sums: tuple
    col_sq_sums: tuple
    patterns: np.ndarray
    pattern_index: np.ndarray
    pattern_rows: tuple
    shrink: float = 1.0
    order: np.ndarray = None
    bounds: np.ndarray = None
    runs: tuple = ()

    @property
    def n_samples(self):
        return self.pattern_index.shape[0]

    @property
    def n_features(self):
        return tuple(v.shape[1] for v in self.values)

    def feature_variances(self, modality):
        """Per-feature variance of one modality's rows (0 where it has none)."""
        return _variances(self.values[modality].shape[0], self.col_sums[modality],
                          self.col_sq_sums[modality])


class Posterior(NamedTuple):
    """Posterior ``N(mean_n, cov[pattern_index[n]])`` of the latent, and likelihoods.

    mean : ndarray (n_samples, q)
    cov : ndarray (n_patterns, q, q)
        ``V`` of each pattern (identity for the empty pattern).
    log_likelihood : ndarray (n_samples,)
        Observed-data log-likelihood of each sample (0 for a sample with nothing
        observed).
    """

    mean: np.ndarray
    cov: np.ndarray
    log_likelihood: np.ndarray


def prepare(arrays, observed, *, center=None, scale=None, shrink=1.0):
    """Gather the observed rows of each modality as float64, for :func:`fit_em`.

    Parameters
    ----------
    arrays : sequence of ndarray (n_samples, d_m)
        One array per modality; rows of missing samples are ignored (may be NaN).
    observed : bool ndarray (n_samples, n_modalities)
    center, scale : sequence of ndarray (d_m,), optional
        Per-feature affine map applied to the gathered rows, ``(z - center) / scale``.
    shrink : float, default=1.0
        Power of two the mapped rows are then divided by (exact), for values whose
        squares would overflow; recorded in ``EMData.shrink``.

    Returns
    -------
    EMData
    """
    observed = np.asarray(observed, dtype=bool)
    patterns, index, groups = missing_patterns(observed)
    counts = np.array([g.size for g in groups], dtype=np.intp)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    order = np.concatenate(groups) if groups else np.zeros(0, dtype=np.intp)
    rows, values, runs = [], [], []
    for j, a in enumerate(arrays):
        idx = np.concatenate([g for g, p in zip(groups, patterns) if p[j]] or [order[:0]])
        # fancy indexing copies, so the in-place scaling below never touches ``a``
        v = np.asarray(a)[idx].astype(np.float64, order="C", copy=False)
        if center is not None:
            v -= center[j]
        if scale is not None:
            v /= scale[j]
        if shrink != 1.0:
            v /= shrink
        rows.append(idx)
        values.append(v)
        runs.append(_runs(bounds, np.flatnonzero(patterns[:, j])))
    data = EMData(
        tuple(rows), tuple(values), (), (), (), patterns, index, groups, float(shrink),
        order, bounds, tuple(runs),
    )
    return _with_sums(data)


def _runs(bounds, members):
    """``(lo, hi, start, stop)`` of the maximal runs of adjacent patterns ``members``
    (sorted) that a modality observes, ``lo:hi`` counted in its own rows."""
    runs, lo = [], 0
    for p in members:
        start, stop = int(bounds[p]), int(bounds[p + 1])
        if runs and runs[-1][3] == start:
            last = runs.pop()
            runs.append((last[0], lo + stop - start, last[2], stop))
        elif stop > start:
            runs.append((lo, lo + stop - start, start, stop))
        lo += stop - start
    return tuple(runs)


def _with_sums(data):
    return data._replace(
        sq_norms=tuple(np.einsum("ij,ij->i", v, v) for v in data.values),
        col_sums=tuple(v.sum(axis=0) for v in data.values),
        col_sq_sums=tuple(np.einsum("ij,ij->j", v, v) for v in data.values),
    )


def rescale(data, scale):
    """Divide each modality's values by ``scale[j]`` (per feature or scalar) in place,
    as :func:`prepare`'s ``scale`` does, and recompute the sums."""
    for v, u in zip(data.values, scale):
        v /= u
    return _with_sums(data)


def standardize(data):
    """Centre and scale each feature to unit variance over its rows, in place.

    Returns
    -------
    data : EMData
        With updated sums (the value arrays are the same objects, modified).
    center, scale : list of ndarray (d_m,)
        Per-feature means and standard deviations (1 where the deviation is 0).
    """
    centers, scales = [], []
    for v, col_sums in zip(data.values, data.col_sums):
        # the column sums are v.sum(axis=0), the reduction of v.mean(axis=0)
        center = col_sums / v.shape[0] if v.shape[0] else np.zeros(v.shape[1])
        v -= center
        scale = np.sqrt(np.einsum("ij,ij->j", v, v) / max(v.shape[0], 1))
        scale[scale == 0] = 1.0
        v /= scale
        centers.append(center)
        scales.append(scale)
    return _with_sums(data), centers, scales


class Totals(NamedTuple):
    """Sums over the observed rows that no iteration changes, per modality.

    n_samples : int
        Samples, observed in some modality or not.
    counts : int ndarray (n_modalities,)
        Rows that observe each modality, ``|N_m|``.
    col_sums, col_sq_sums : tuple of ndarray (d_m,)
        Column sums and column sums of squares of those rows.
    sq_norms : ndarray (n_modalities,)
        Sum of their squared norms.
    """

    n_samples: int
    counts: np.ndarray
    col_sums: tuple
    col_sq_sums: tuple
    sq_norms: np.ndarray

    @classmethod
    def of(cls, data):
        """The totals of an :class:`EMData` (itself if already :class:`Totals`)."""
        if isinstance(data, Totals):
            return data
        return cls(
            data.n_samples, np.array([v.shape[0] for v in data.values]), data.col_sums,
            data.col_sq_sums, np.array([float(sq.sum()) for sq in data.sq_norms]),
        )

    @property
    def n_features(self):
        return tuple(c.shape[0] for c in self.col_sums)

    def feature_variances(self, modality):
        """Per-feature variance of one modality's rows (0 where it has none)."""
        return _variances(int(self.counts[modality]), self.col_sums[modality],
                          self.col_sq_sums[modality])


def _variances(count, col_sums, col_sq_sums):
    n = max(count, 1)
    mean = col_sums / n
    return np.maximum(col_sq_sums / n - mean * mean, 0.0)


def noise_floors(data, relative_floor, *, per_feature=False):
    """``relative_floor`` times each modality's mean per-feature variance (1 if zero).

    ``data`` is an :class:`EMData` or the :class:`Totals` of one. With ``per_feature``,
    a tuple of ``(d_m,)`` floors instead: ``relative_floor`` times each feature's
    variance, or its modality's floor for a constant feature.
    """
    floors, feature_floors = [], []
    for j in range(len(data.col_sums)):
        variances = data.feature_variances(j)
        var = float(variances.mean())
        floors.append(relative_floor * (var if var > 0 else 1.0))
        feature_floors.append(
            np.where(variances > 0, relative_floor * variances, floors[-1])
        )
    return tuple(feature_floors) if per_feature else np.asarray(floors)


def noise_of(params, modality):
    """Noise variance of one modality (index): the scalar ``sigma_m^2``, or the
    ``(d_m,)`` array of ``psi_mj`` when ``params`` has per-feature noise."""
    if params.feature_noise is None:
        return params.noise_variance[modality]
    return params.feature_noise[modality]


def feature_noise_params(params, floors):
    """``params`` with per-feature noise: each modality's ``sigma_m^2`` (or its
    ``psi_mj`` if already per feature) broadcast to its features and floored at the
    per-feature ``floors`` (:func:`noise_floors` with ``per_feature=True``)."""
    noise = tuple(
        np.maximum(np.broadcast_to(noise_of(params, j), W.shape[:1]), floor)
        for j, (W, floor) in enumerate(zip(params.components, floors))
    )
    return _with_feature_noise(params.components, params.means, noise)


def _with_feature_noise(components, means, noise):
    summary = np.array([float(psi.mean()) if psi.size else 0.0 for psi in noise])
    return SharedLatentParams(tuple(components), tuple(means), summary, tuple(noise))


# --- initialisation --------------------------------------------------------------------
def _finish_init(totals, W_full, floors):
    """Split stacked loadings per modality; noise = leftover variance per modality."""
    bounds = np.cumsum((0,) + totals.n_features)
    components, means, noise = [], [], []
    for j, d in enumerate(totals.n_features):
        W = np.ascontiguousarray(W_full[bounds[j]:bounds[j + 1]])
        mean = totals.col_sums[j] / max(int(totals.counts[j]), 1)
        total = float(totals.feature_variances(j).sum())
        explained = float(np.sum(W * W))
        if explained > 0.9 * total:  # leave the noise a tenth of the variance at least
            W *= np.sqrt(0.9 * total / explained)
            explained = 0.9 * total
        components.append(W)
        means.append(mean)
        noise.append(max((total - explained) / d, floors[j]))
    return SharedLatentParams(tuple(components), tuple(means), np.asarray(noise))


def _top_right_singular(X, k, rng, n_oversamples=10, n_iter=3):
    """Top ``k`` singular values and right vectors of ``X`` by randomised subspace
    iteration (Halko et al. 2011), in numpy only (see :func:`pattern_covariances`)."""
    width = min(k + n_oversamples, *X.shape)
    Q = np.linalg.qr(X @ rng.standard_normal((X.shape[1], width)))[0]
    for _ in range(n_iter):
        Q = np.linalg.qr(X @ np.linalg.qr(X.T @ Q)[0])[0]
    _, s, Vt = np.linalg.svd(Q.T @ X, full_matrices=False)
    return s[:k], Vt[:k]


def pca_rows(n_samples, random_state, max_rows=20000):
    """The samples :func:`init_params_pca` reads: None (all) up to ``max_rows``
    samples, else ``max_rows`` of them drawn from ``random_state``, sorted."""
    if n_samples <= max_rows:
        return None
    return np.sort(random_state.choice(n_samples, max_rows, replace=False))


def init_params_pca(data, n_components, *, floors, random_state, max_rows=20000,
                    totals=None):
    """PCA of the mean-filled stacked data (a random subset of ``max_rows`` rows).

    Loadings are the top principal axes scaled by ``sqrt(eigenvalue - leftover)``
    (Tipping & Bishop's closed form), each modality's block divided by the square root of
    its observed fraction to undo the shrinkage of mean filling.

    ``data`` holds every sample; or, with ``totals`` (the :class:`Totals` of every
    sample), only the rows that :func:`pca_rows` drew from ``random_state``, in order
    (data read in blocks: only those rows are gathered).
    """
    rng = random_state
    if totals is None:
        totals, n = Totals.of(data), data.n_samples
        subset = pca_rows(n, rng, max_rows)
        position = np.arange(n)  # row of each sample in the subset, -1 if left out
        if subset is not None:
            position = np.full(n, -1)
            position[subset] = np.arange(max_rows)
    else:
        n, position = totals.n_samples, np.arange(data.n_samples)
    widths = data.n_features
    bounds = np.cumsum((0,) + widths)
    n_rows = min(n, max_rows)
    filled = np.zeros((n_rows, bounds[-1]))
    fractions = []
    for j, (rows, v) in enumerate(zip(data.rows, data.values)):
        pos = position[rows]
        hit = pos >= 0
        # the mean of all rows (= v.mean(axis=0) in memory, one pass less)
        mean = totals.col_sums[j] / max(int(totals.counts[j]), 1)
        filled[pos[hit], bounds[j]:bounds[j + 1]] = v[hit] - mean
        fractions.append(max(int(totals.counts[j]) / n, 1.0 / n))
    k = min(n_components, *filled.shape)
    s, Vt = _top_right_singular(filled, k, rng)
    eig = s**2 / n_rows
    total = float(np.einsum("ij,ij->", filled, filled)) / n_rows
    rest = filled.shape[1] - k
    leftover = max((total - eig.sum()) / rest, 0.0) if rest > 0 else 0.0
    W_full = np.zeros((bounds[-1], n_components))
    W_full[:, :k] = Vt.T * np.sqrt(np.maximum(eig - leftover, 1e-3 * eig.max()))
    if k < n_components:  # more components than rows or features: small random columns
        W_full[:, k:] = 1e-2 * rng.standard_normal((bounds[-1], n_components - k))
    for j in range(len(widths)):
        W_full[bounds[j]:bounds[j + 1]] /= np.sqrt(fractions[j])
    return _finish_init(totals, W_full, floors)


def init_params_random(data, n_components, *, floors, random_state):
    """Gaussian loadings with variance a tenth of each modality's mean feature variance
    (``data``: an :class:`EMData` or its :class:`Totals`)."""
    totals = Totals.of(data)
    blocks = []
    for j, d in enumerate(totals.n_features):
        var = float(totals.feature_variances(j).mean())
        scale = np.sqrt(0.1 * (var if var > 0 else 1.0) / n_components)
        blocks.append(scale * random_state.standard_normal((d, n_components)))
    return _finish_init(totals, np.vstack(blocks), floors)


# --- E-step ------------------------------------------------------------------------------
def _precisions(params):
    """``W^mT W^m / sigma_m^2`` (``W^mT Psi^m^-1 W^m``) for each modality."""
    if params.feature_noise is not None:
        return [(W / psi[:, None]).T @ W
                for W, psi in zip(params.components, params.feature_noise)]
    return [W.T @ W / s2 for W, s2 in zip(params.components, params.noise_variance)]


def pattern_covariances(params, patterns):
    """Posterior covariance ``V`` of each pattern and ``log det V``, by batched Cholesky.

    Parameters
    ----------
    params : SharedLatentParams
    patterns : bool ndarray (n_patterns, n_modalities)

    Returns
    -------
    cov : ndarray (n_patterns, q, q)
    logdet : ndarray (n_patterns,)
    """
    # numpy.linalg only: alternating numpy's and scipy's OpenBLAS makes their thread
    # pools fight, which made small scipy calls here a hundred times slower.
    q = params.n_components
    precisions = np.stack(_precisions(params))
    P = np.eye(q) + np.tensordot(np.asarray(patterns, dtype=float), precisions, axes=1)
    L = np.linalg.cholesky(P)
    L_inv = np.linalg.solve(L, np.broadcast_to(np.eye(q), P.shape))
    cov = np.matmul(L_inv.transpose(0, 2, 1), L_inv)
    logdet = -2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
    return cov, logdet


def e_step(data, params):
    """Posterior of the shared latent for every sample, and its log-likelihood.

    ``V_p = (I + sum_{m in O} W^mT W^m / sigma_m^2)^-1`` once per pattern,
    ``m_n = V_p sum_{m in O} W^mT (z^m - mu^m) / sigma_m^2``, and
    ``log p(z^O) = -1/2 [D log 2pi + sum d_m log sigma_m^2 - log det V
    + sum ||r^m||^2 / sigma_m^2 - c^T V c]``. With per-feature noise, ``/ sigma_m^2``
    weighs each feature by ``1 / psi_mj`` and ``d_m log sigma_m^2`` becomes
    ``sum_j log psi_mj``.

    With ``data.shrink = t`` (values divided by ``t``) the posterior means and the
    quadratic terms are computed on the divided values and multiplied back by ``t`` and
    ``t**2``, so they stay finite while the true ones are (the log-likelihood becomes
    ``-inf`` only when it is below the float64 range).

    Parameters
    ----------
    data : EMData
    params : SharedLatentParams

    Returns
    -------
    Posterior
        In the samples' order.
    """
    return _in_sample_order(data, _e_step(data, params))


def _e_step(data, params):
    """:func:`e_step` with the samples in pattern order (``data.order``)."""
    n, q = data.n_samples, params.n_components
    t = data.shrink
    c = np.zeros((n, q))
    # quad accumulates sum_m ||r^m||^2 / sigma_m^2 + d_m log(2 pi sigma_m^2) (the two
    # apart, in quad and logs, when the residuals are shrunk)
    quad = np.zeros(n)
    logs = quad if t == 1.0 else np.zeros(n)
    offset = np.zeros((len(data.patterns), q))  # sum_m W^mT mu^m / sigma_m^2, per pattern
    for j, (v, sq, runs) in enumerate(zip(data.values, data.sq_norms, data.runs)):
        if not runs:
            continue
        W, mu, s2 = params.components[j], params.means[j], noise_of(params, j)
        if t != 1.0:
            mu = mu / t
        if params.feature_noise is None:
            # one pass over the data for W^T z / sigma^2 and mu^T z
            proj = v @ np.column_stack([W / s2, mu])
            offset[data.patterns[:, j]] += W.T @ mu / s2
            resid = (sq - 2.0 * proj[:, q] + mu @ mu) / s2
            log_term = v.shape[1] * (_LOG_2PI + np.log(s2))
        else:
            # W^T Psi^-1 z and mu^T Psi^-1 z in one pass, sum_j z_j^2 / psi_j in another
            inv = 1.0 / s2
            proj = v @ np.column_stack([W * inv[:, None], mu * inv])
            offset[data.patterns[:, j]] += W.T @ (mu * inv)
            resid = (v * v) @ inv - 2.0 * proj[:, q] + mu @ (mu * inv)
            log_term = v.shape[1] * _LOG_2PI + np.log(s2).sum()
        for lo, hi, start, stop in runs:
            c[start:stop] += proj[lo:hi, :q]
            if t == 1.0:
                quad[start:stop] += resid[lo:hi] + log_term
            else:
                quad[start:stop] += resid[lo:hi]
                logs[start:stop] += log_term
    cov, logdet = pattern_covariances(params, data.patterns)
    mean = np.empty((n, q))
    for p in range(len(cov)):
        start, stop = data.bounds[p], data.bounds[p + 1]
        c[start:stop] -= offset[p]
        np.matmul(c[start:stop], cov[p], out=mean[start:stop])
    cVc = np.einsum("ij,ij->i", c, mean)
    logdet = np.repeat(logdet, np.diff(data.bounds))
    if t == 1.0:
        log_likelihood = -0.5 * (quad - logdet - cVc)
    else:
        with np.errstate(over="ignore"):
            mahalanobis = t * (t * np.maximum(quad - cVc, 0.0))
            log_likelihood = -0.5 * (mahalanobis + logs - logdet)
            mean *= t
    return Posterior(mean, cov, log_likelihood)


def _in_sample_order(data, posterior):
    """A posterior in pattern order (``data.order``) put back in the samples' order."""
    mean = np.empty_like(posterior.mean)
    mean[data.order] = posterior.mean
    log_likelihood = np.empty_like(posterior.log_likelihood)
    log_likelihood[data.order] = posterior.log_likelihood
    return Posterior(mean, posterior.cov, log_likelihood)


# --- M-step ------------------------------------------------------------------------------
def m_step(data, posterior, floors, *, expand=True, noise="modality"):
    """Closed-form update of every modality from the samples that observe it.

    ``A = sum_n [[V_n + m_n m_n^T, m_n], [m_n^T, 1]]``, ``[W, mu] = (sum_n z_n b_n^T) A^-1``
    and ``sigma^2 = (sum_n ||z_n||^2 - tr([W, mu]^T sum_n z_n b_n^T)) / (|N_m| d_m)``,
    floored at ``floors``. With ``noise="feature"`` each feature ``j`` gets its own
    ``psi_j = (sum_n z_nj^2 - [W, mu]_j . (sum_n z_n b_n^T)_j) / |N_m|`` (factor
    analysis), floored at ``floors[m][j]``.

    With ``expand`` (parameter-expanded EM, Liu, Rubin & Wu 1998), the latent prior is
    also fitted, ``eta = mean_n m_n`` and ``S = mean_n (V_n + m_n m_n^T) - eta eta^T``
    over all samples, and folded back into the loadings, ``W <- W chol(S)``,
    ``mu <- mu + W eta``. This is an exact EM step of the expanded model, so the
    likelihood still never decreases, and it removes the stall of plain EM along the
    scale of ``W`` when the noise is small.

    Parameters
    ----------
    data : EMData
    posterior : Posterior
        In the samples' order (as :func:`e_step` gives it).
    floors : ndarray (n_modalities,) or tuple of ndarray (d_m,)
        Per modality, or per feature with ``noise="feature"`` (:func:`noise_floors`).
    expand : bool, default=True
    noise : {"modality", "feature"}, default="modality"
        Isotropic noise per modality, or per-feature noise (``feature_noise`` set).

    Returns
    -------
    SharedLatentParams
    """
    sorted_posterior = posterior._replace(
        mean=posterior.mean[data.order], log_likelihood=posterior.log_likelihood[data.order]
    )
    return _m_step(data, sorted_posterior, floors, expand=expand, noise=noise)


class Moments(NamedTuple):
    """What the M-step needs of an E-step: sums over samples of the posterior means.

    Sums over any set of rows add up, so the moments of row blocks
    (:func:`moments`, then ``+``) are the moments of all the rows.

    counts : ndarray (n_patterns,)
        Samples of each pattern.
    grams, sums : ndarray (n_patterns, q, q) and (n_patterns, q)
        ``sum_n m_n m_n^T`` and ``sum_n m_n`` over the samples of each pattern.
    cross : tuple of ndarray (d_m, q)
        ``sum_n z^m_n m_n^T`` over the samples observing each modality.
    log_likelihood : float
        Sum of the samples' observed-data log-likelihoods.
    """

    counts: np.ndarray
    grams: np.ndarray
    sums: np.ndarray
    cross: tuple
    log_likelihood: float

    def __add__(self, other):
        return Moments(
            self.counts + other.counts, self.grams + other.grams, self.sums + other.sums,
            tuple(a + b for a, b in zip(self.cross, other.cross)),
            self.log_likelihood + other.log_likelihood,
        )


def moments(data, posterior, pattern_ids=None, n_patterns=None):
    """:class:`Moments` of ``posterior``, an E-step of ``data`` in pattern order.

    ``pattern_ids`` maps ``data``'s patterns to the rows of a larger pattern table of
    ``n_patterns`` rows (the patterns of all blocks); default: ``data``'s own.
    """
    mean, bounds = posterior.mean, data.bounds
    q = mean.shape[1]
    if pattern_ids is None:
        pattern_ids, n_patterns = np.arange(len(data.patterns)), len(data.patterns)
    counts = np.zeros(n_patterns)
    grams, sums = np.zeros((n_patterns, q, q)), np.zeros((n_patterns, q))
    for p, g in enumerate(pattern_ids):
        block = mean[bounds[p]:bounds[p + 1]]
        counts[g], grams[g], sums[g] = block.shape[0], block.T @ block, block.sum(axis=0)
    cross = []
    for v, runs in zip(data.values, data.runs):
        B = np.zeros((v.shape[1], q))
        for lo, hi, start, stop in runs:
            B += v[lo:hi].T @ mean[start:stop]
        cross.append(B)
    return Moments(counts, grams, sums, tuple(cross),
                   float(posterior.log_likelihood.sum()))


def block_moments(data, params, patterns):
    """:class:`Moments` of the E-step of one block of rows (``data``) under
    ``params``, on the pattern table ``patterns`` of all the blocks."""
    row = {p.tobytes(): g for g, p in enumerate(np.asarray(patterns, dtype=bool))}
    ids = [row[p.tobytes()] for p in data.patterns]
    return moments(data, _e_step(data, params), ids, len(patterns))


def _m_step(data, posterior, floors, *, expand=True, noise="modality"):
    """:func:`m_step` with the samples in pattern order (``data.order``)."""
    return m_step_from_moments(
        moments(data, posterior), posterior.cov, data.patterns, Totals.of(data), floors,
        expand=expand, noise=noise,
    )


def m_step_from_moments(stats, cov, patterns, totals, floors, *, expand=True,
                        noise="modality"):
    """:func:`m_step` from the sufficient statistics of an E-step.

    Parameters
    ----------
    stats : Moments
    cov : ndarray (n_patterns, q, q)
        Posterior covariance of each pattern (``Posterior.cov``).
    patterns : bool ndarray (n_patterns, n_modalities)
    totals : Totals
    floors, expand, noise
        As for :func:`m_step`.

    Returns
    -------
    SharedLatentParams
    """
    counts, grams, sums = stats.counts, stats.grams, stats.sums
    q = grams.shape[1]
    per_feature = noise == "feature"
    components, means, noise_var = [], [], []
    for j, B_latent in enumerate(stats.cross):
        n_m, d_m = int(totals.counts[j]), B_latent.shape[0]
        member = patterns[:, j]
        weights = counts * member
        A = np.empty((q + 1, q + 1))
        A[:q, :q] = np.tensordot(weights, cov, axes=1) + grams[member].sum(0)
        A[:q, q] = A[q, :q] = sums[member].sum(axis=0)
        A[q, q] = n_m
        B = np.empty((d_m, q + 1))
        B[:, :q] = B_latent
        B[:, q] = totals.col_sums[j]
        Wt = np.linalg.solve(A, B.T).T
        components.append(np.ascontiguousarray(Wt[:, :q]))
        means.append(Wt[:, q].copy())
        if per_feature:
            psi = (totals.col_sq_sums[j] - np.einsum("ij,ij->i", Wt, B)) / max(n_m, 1)
            noise_var.append(np.maximum(psi, floors[j]))
        else:
            s2 = (totals.sq_norms[j] - np.sum(Wt * B)) / (n_m * d_m)
            noise_var.append(max(s2, floors[j]))
    if expand:
        n = counts.sum()
        eta = sums.sum(axis=0) / n
        S = (np.tensordot(counts, cov, axes=1) + grams.sum(axis=0)) / n
        L = np.linalg.cholesky(S - np.outer(eta, eta))
        means = [mu + W @ eta for W, mu in zip(components, means)]
        components = [W @ L for W in components]
    if per_feature:
        return _with_feature_noise(components, means, noise_var)
    return SharedLatentParams(tuple(components), tuple(means), np.asarray(noise_var))


# --- the loop ----------------------------------------------------------------------------
def fit_em(data, params, *, floors, max_iter=100, tol=1e-3, expand=True, verbose=0):
    """Run EM from ``params`` until an iteration's relative gain is at most ``tol``.

    Parameters
    ----------
    data : EMData
    params : SharedLatentParams
        Starting point (an initialisation or warm-started parameters). Its form sets
        the noise model: per-feature noise if ``params.feature_noise`` is set (see
        :func:`feature_noise_params`), isotropic per modality otherwise.
    floors : ndarray (n_modalities,) or tuple of ndarray (d_m,)
        Lower bounds of the noise variances, per feature with per-feature noise.
    max_iter : int
        Most M-steps.
    tol : float
        Stop when an iteration's gain ``L_t - L_{t-1}`` is at most ``tol`` times the
        total gain ``L_t - L_0`` since the start (``L`` the mean log-likelihood); unlike
        ``|dL| / |L|``, this is invariant to the units (and offset) of the data. A warm
        start near convergence has little total gain, so give it a small ``max_iter``.
    expand : bool
        Parameter-expanded M-steps (see :func:`m_step`).
    verbose : int
        Print the log-likelihood of each iteration when positive.

    Returns
    -------
    params : SharedLatentParams
        Final parameters (those of ``history[-1]``).
    posterior : Posterior
        E-step under the final parameters.
    history : list of float
        Mean log-likelihood per sample, before the first M-step and after each one.
    converged : bool
    """

    def expect(params):  # the posterior stays in pattern order until the end
        posterior = _e_step(data, params)
        return posterior, moments(data, posterior), posterior.cov

    params, posterior, history, converged = run_em(
        expect, params, data.patterns, Totals.of(data), floors=floors,
        max_iter=max_iter, tol=tol, expand=expand, verbose=verbose,
    )
    return params, _in_sample_order(data, posterior), history, converged


def run_em(expect, params, patterns, totals, *, floors, max_iter=100, tol=1e-3,
           expand=True, verbose=0):
    """The EM loop of :func:`fit_em` over any E-step.

    ``expect(params)`` returns ``(state, stats, cov)``: anything the caller wants back
    from the last E-step (``fit_em``: the posterior; None for data read in blocks), its
    :class:`Moments` and the covariance of each pattern of ``patterns``. ``totals``
    (:class:`Totals`) and the other parameters are those of :func:`fit_em`.

    Returns
    -------
    params, state, history, converged
        As :func:`fit_em`, with the last ``state`` in place of the posterior.
    """
    noise = "modality" if params.feature_noise is None else "feature"
    state, stats, cov = expect(params)
    n_samples = stats.counts.sum()
    history = [stats.log_likelihood / n_samples]
    converged = False
    for it in range(1, max_iter + 1):
        params = m_step_from_moments(stats, cov, patterns, totals, floors,
                                     expand=expand, noise=noise)
        state, stats, cov = expect(params)
        history.append(stats.log_likelihood / n_samples)
        if verbose:
            print(f"[CalMRL EM] iteration {it}: log-likelihood {history[-1]:.6f}")
        if history[-1] - history[-2] <= tol * (history[-1] - history[0]):
            converged = True
            break
    return params, state, history, converged


# --- predictions -------------------------------------------------------------------------
def predictive_mean(params, latent_mean, modality):
    """Posterior predictive mean ``W^m m + mu^m`` of one modality (index)."""
    return latent_mean @ params.components[modality].T + params.means[modality]


def predictive_variance(params, cov, modality):
    """Per-feature predictive variance ``diag(W^m V W^mT) + sigma_m^2`` for each ``V``
    (``+ psi_mj`` with per-feature noise).

    Parameters
    ----------
    params : SharedLatentParams
    cov : ndarray (n_patterns, q, q)
    modality : int

    Returns
    -------
    ndarray (n_patterns, d_m)
    """
    W = params.components[modality]
    return np.einsum("jk,pkl,jl->pj", W, cov, W) + noise_of(params, modality)


def sample_latent(posterior, pattern_rows, rng):
    """One draw ``beta_n ~ N(m_n, V_{p(n)})`` for every sample."""
    mean, cov = posterior.mean, posterior.cov
    out = mean.copy()
    for p, idx in enumerate(pattern_rows):
        if idx.size:
            L = np.linalg.cholesky(cov[p])
            out[idx] += rng.standard_normal((idx.size, mean.shape[1])) @ L.T
    return out
