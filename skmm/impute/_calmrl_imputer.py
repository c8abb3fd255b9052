"""CalMRL imputer: a shared-latent Gaussian model fitted by closed-form EM."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from .._data import MultiModalData
from ..base import MultiModalMixin, MultiModalTransformerMixin, fit_context
from ..utils._param_validation import Interval, StrOptions
from ..utils._scaling import (
    FLOAT64_LIMIT,
    far_rows_error,
    is_unit,
    max_abs,
    power_of_two_scale,
)
from ..utils._validation import (
    _first_rows,
    check_random_state_param,
    check_scalar_param,
)
from . import _calmrl_em as em
from ._calmrl_blocks import fit_blocks

__all__ = ["CalMRLImputer"]

# Rows per chunk in transform, transform_latent and score_samples (the temporaries of
# inference are about this many rows of every modality).
_INFERENCE_CHUNK = 65536


class CalMRLImputer(MultiModalMixin, MultiModalTransformerMixin, BaseEstimator):
    """Impute missing modalities from a latent variable shared by all modalities.

    Every sample has a latent ``beta ~ N(0, I_q)`` and each modality is a noisy linear
    view of it, ``z^m = W^m beta + mu^m + eps^m`` with ``eps^m ~ N(0, sigma_m^2 I)``
    (probabilistic PCA across modalities, the model behind CalMRL; ``noise="feature"``
    gives each feature its own noise variance instead). The parameters are
    fitted by closed-form EM on the observed modalities only; a missing modality is
    imputed by its posterior predictive mean ``W^m E[beta | observed] + mu^m``. The
    model also gives predictive standard deviations, posterior draws (multiple
    imputation), a low-dimensional embedding of incomplete samples and an observed-data
    log-likelihood for :meth:`score`, so ``n_components`` can be chosen by
    :class:`~sklearn.model_selection.GridSearchCV` without labels.

    Read more in the :ref:`User Guide <calmrl>`.

    Parameters
    ----------
    n_components : int, default=10
        Size ``q`` of the shared latent; at most the total number of features.
    max_iter : int, default=100
        Maximum number of EM iterations (M-steps).
    tol : float, default=1e-3
        Relative convergence tolerance: stop when an iteration raises the mean
        log-likelihood by at most ``tol`` times the total rise since the
        initialisation (invariant to the units of the data).
    init : {"pca", "random"}, default="pca"
        Starting loadings: PCA of the mean-filled (standardised) data, or Gaussian
        noise. PCA usually needs far fewer iterations.
    algorithm : {"px-em", "em"}, default="px-em"
        ``"px-em"``: parameter-expanded EM (Liu, Rubin and Wu, 1998). Each M-step also
        fits a mean and covariance of the latent and folds them into the loadings and
        offsets; it is an exact EM step of an expanded model with the same likelihood,
        so it has the same fixed points and the log-likelihood still never decreases,
        but it does not stall along the scale of ``W`` when the noise is small.
        ``"em"``: the plain EM of the model (the M-step of the specification), slower
        to converge; for comparison with other implementations.
    noise : {"modality", "feature"}, default="modality"
        Noise model. ``"modality"``: isotropic noise ``sigma_m^2 I`` per modality, the
        model of the specification (probabilistic PCA across modalities): one noise
        parameter per modality, the safer choice on small data. ``"feature"``: a
        diagonal ``Psi^m = diag(psi_m1, ..., psi_md)``, one variance per feature
        (factor analysis across modalities). The posterior then weighs each feature by
        how well the latent explains it, which imputes better on heteroscedastic data
        (real features rarely share one noise level, standardised or not) with enough
        rows per feature to estimate its noise; it starts from the isotropic fit's
        initialisation, and each ``psi_mj`` is floored at ``min_noise_variance`` times
        its feature's variance. Each EM iteration costs about one more pass over the
        data.
    standardize : bool, default=True
        Centre and scale each feature by its mean and standard deviation over the rows
        where its modality is observed before fitting (with ``noise="modality"`` the
        noise is isotropic within a modality, so features on different scales should
        be standardised). Outputs and
        fitted attributes are mapped back to input units.
    min_noise_variance : float, default=1e-6
        Floor of each ``sigma_m^2``, relative to the modality's mean per-feature
        variance in the fitted (standardised) space; with ``noise="feature"``, of each
        ``psi_mj``, relative to that feature's variance (the modality's mean for a
        constant feature).
    clip : bool, default=False
        Clip each imputed value (:meth:`transform`, :meth:`fit_transform`) to the
        range of its feature's observed training values (``data_min_``,
        ``data_max_``). The linear-Gaussian model can predict far outside that range
        on near-constant, skewed or bounded features (counts, proportions, pixels);
        clipping keeps imputations plausible at no cost elsewhere. The default keeps
        the model's posterior mean, as specified; posterior draws
        (:meth:`sample_imputations`) are never clipped.
    random_state : int, RandomState instance or None, default=None
        Seed of the PCA initialisation (randomised SVD, row subsampling above 20000
        samples) and of ``init="random"``.
    verbose : int, default=0
        Print the log-likelihood at each iteration when positive.

    Attributes
    ----------
    loadings_ : dict of ndarray of shape (d_m, n_components)
        Loadings ``W^m`` of each modality, in input units. Identified only up to a
        rotation of the latent: compare ``W^m W^m'^T``, not ``W^m`` itself. The
        scikit-learn shaped ``(n_components, n_features_in_)`` array is
        ``np.vstack(list(loadings_.values())).T`` (features in ``modalities_`` order).
    components_ : dict of ndarray of shape (d_m, n_components)
        The same dict as ``loadings_``.

        .. deprecated:: 0.2
           The dict form of ``components_`` warns and goes away in 0.4, when
           ``components_`` becomes the ``(n_components, n_features_in_)`` array of
           scikit-learn's decompositions. Use ``loadings_``.
    mean_ : dict of ndarray of shape (d_m,)
        Offsets ``mu^m`` in input units.
    data_min_, data_max_ : dict of ndarray of shape (d_m,)
        Smallest and largest observed training value of each feature (the range
        ``clip=True`` imputes within).
    noise_variance_ : dict of ndarray of shape (d_m,)
        Noise variance of each feature in input units: ``sigma_m^2`` (``psi_mj`` with
        ``noise="feature"``) times the feature's variance when ``standardize=True``,
        that variance itself otherwise (all equal to ``sigma_m^2`` within a modality
        with ``noise="modality"``). A variance in squared input units; ``inf`` for
        features whose scale exceeds about ``1e154`` (its square overflows float64),
        which the model, kept in standardised units, does not use.
    log_likelihood_ : ndarray of shape ``(n_iter_ + 1,)``
        Mean observed-data log-likelihood per training sample (input units) at the
        initial parameters and after each iteration; non-decreasing.
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the ``tol`` criterion was met before ``max_iter``.
    modalities_ : tuple of str
        Input modality names.
    n_features_per_modality_ : dict
        Input width of each modality.
    n_features_in_ : int
        Total input width.
    feature_names_in_ : ndarray of str
        ``"modality__feature"`` input names (multimodal input only).

    See Also
    --------
    sklearn.decomposition.FactorAnalysis : the single-table analogue with a likelihood.
    sklearn.impute.IterativeImputer : per-feature chained regressions.

    Notes
    -----
    The E-step factorises ``V = (I + sum_{m observed} W^mT W^m / sigma_m^2)^-1`` once per
    missing pattern; each iteration costs two ``(n_m x d_m) @ (d_m x q)`` products per
    modality. Computation is in float64; outputs keep the input dtype (float32 stays
    float32, observed rows are copied bit-for-bit).

    Values too large to square (above ``2**400``) are divided by exact powers of two
    before fitting (per feature when ``standardize=True``, per modality otherwise), so
    the model is that of the rescaled data and every output is in input units. At
    inference, rows whose standardised values exceed ``2**400`` are computed apart on
    values divided by a power of two; a result that does not fit the output dtype (an
    imputed value, a latent mean, or a log-likelihood below the float64 range) raises a
    ValueError naming the rows and modality.

    A sample with no observed modality is an error at :meth:`fit`. At
    :meth:`transform` it gets the prior: every modality is imputed by ``mean_``, its
    latent (:meth:`transform_latent`) is 0, its predictive standard deviation is the
    marginal one, ``sqrt(diag(W W^T) + noise)``, and :meth:`score_samples` gives it 0.

    References
    ----------
    "Calibrated Multimodal Representation Learning with Missing Modalities", ICML 2026.
    M. E. Tipping and C. M. Bishop, "Probabilistic principal component analysis",
    JRSS-B 61(3), 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.datasets import make_missing_modalities, make_shared_latent
    >>> from skmm.impute import CalMRLImputer
    >>> X = make_shared_latent(200, n_components=3, random_state=0)
    >>> X_missing = make_missing_modalities(X, 0.3, random_state=0)
    >>> imputer = CalMRLImputer(n_components=3, random_state=0).fit(X_missing)
    >>> X_filled = imputer.transform(X_missing)
    >>> bool(np.isnan(np.asarray(X_filled)).any())
    False
    >>> imputer.transform_latent(X_missing).shape
    (200, 3)
    """

    def __init__(
        self,
        n_components=10,
        *,
        max_iter=100,
        tol=1e-3,
        init="pca",
        algorithm="px-em",
        noise="modality",
        standardize=True,
        min_noise_variance=1e-6,
        clip=False,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.algorithm = algorithm
        self.noise = noise
        self.standardize = standardize
        self.min_noise_variance = min_noise_variance
        self.clip = clip
        self.random_state = random_state
        self.verbose = verbose

    _output_methods = ("sample_imputations",)

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"pca", "random"})],
        "algorithm": [StrOptions({"px-em", "em"})],
        "noise": [StrOptions({"modality", "feature"})],
        "standardize": ["boolean"],
        "min_noise_variance": [Interval(Real, 0, None, closed="left")],
        "clip": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    _accepts_dask = True

    @fit_context()
    def fit(self, X, y=None):
        """Fit the shared-latent model by EM on the observed modalities.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            Every sample needs at least one observed modality.
        y : ignored

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    @fit_context()
    def fit_transform(self, X, y=None):
        """Fit, then fill each missing modality of ``X`` as :meth:`transform` does.

        The posterior of the final E-step of the fit is reused (the same numbers
        :meth:`transform` would compute again) unless ``X`` needed rescaling; a
        failure leaves the estimator as it was.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        MultiModalData, ndarray or DataFrame
            As :meth:`transform` returns.
        """
        original = X
        X, data, posterior = self._fit(X)
        if data is None:
            return self.transform(original)
        # Imputing needs the patterns, not the fitted values: release them (a value
        # that does not fit the output raises in transform, which names its rows).
        data = data._replace(values=(), sq_norms=(), col_sums=(), col_sq_sums=())
        parts = (
            (np.arange(chunk.start, chunk.stop),
             data._replace(pattern_index=data.pattern_index[chunk]),
             posterior._replace(mean=posterior.mean[chunk], log_likelihood=None))
            for chunk in _chunks(X.n_samples)
        )
        try:
            return self._impute(X, parts)
        except ValueError:
            return self.transform(original)

    def _fit(self, X):
        """Fit; return the validated ``X``, and the EM layout and final posterior when
        :meth:`transform` would compute that same posterior (no rescaling, no row
        beyond ``2**400``), else None twice."""
        X, _ = self._validate_multimodal(X, reset=True, allow_empty_samples=False)
        if self.n_components > X.shape[1]:
            raise ValueError(
                f"n_components={self.n_components} exceeds the {X.shape[1]} features "
                "of the data."
            )
        observed = X._validated_observed()
        if X.lazy:
            self._fit_blocks(X, observed)
            return X, None, None
        arrays = list(X.values())
        with np.errstate(over="ignore"):  # sums of huge values: recomputed below
            data = em.prepare(arrays, observed)
        # Values too large to square are divided by exact powers of two: per feature
        # when standardising, per modality otherwise (its noise is isotropic). Sums of
        # squares within the limit's square bound every value, so max_abs runs only
        # when they do not.
        axis = 0 if self.standardize else None
        units = [1.0] * len(arrays)
        if not all(np.all(q <= FLOAT64_LIMIT**2) for q in data.col_sq_sums):
            units = [power_of_two_scale(max_abs(v, axis=axis)) for v in data.values]
            if not all(map(is_unit, units)):
                data = em.rescale(data, units)
        if self.standardize:
            data, center, scale = em.standardize(data)
            self._center = [c if is_unit(u) else c * u for c, u in zip(center, units)]
            self._scale = [s if is_unit(u) else s * u for s, u in zip(scale, units)]
        else:
            self._center = [np.zeros(d) for d in data.n_features]
            self._scale = [np.ones(d) * u for d, u in zip(data.n_features, units)]
        floors = em.noise_floors(data, self.min_noise_variance)
        rng = check_random_state_param(self.random_state)
        init = em.init_params_pca if self.init == "pca" else em.init_params_random
        params = init(data, self.n_components, floors=floors, random_state=rng)
        if self.noise == "feature":  # the isotropic start, broadcast to the features
            floors = em.noise_floors(data, self.min_noise_variance, per_feature=True)
            params = em.feature_noise_params(params, floors)
        params, posterior, history, converged = em.fit_em(
            data, params, floors=floors, max_iter=self.max_iter, tol=self.tol,
            expand=self.algorithm == "px-em", verbose=self.verbose,
        )
        # NaN rows are ignored by fmin/fmax; each modality is observed somewhere
        self._record_fit(
            params, history, converged, observed,
            [np.fmin.reduce(a, axis=0) for a in X.values()],
            [np.fmax.reduce(a, axis=0) for a in X.values()],
        )
        # transform standardises with the same center and scale, in the same
        # operations, so its posterior is this one unless it rescales or splits rows
        if all(map(is_unit, units)) and not _far(data).any():
            return X, data, posterior
        return X, None, None

    def _fit_blocks(self, X, observed):
        """:meth:`_fit` on lazy ``X``: EM over its row blocks (:ref:`out_of_core`)."""
        fitted = fit_blocks(
            X, observed, n_components=self.n_components, standardize=self.standardize,
            min_noise_variance=self.min_noise_variance, init=self.init,
            noise=self.noise, max_iter=self.max_iter, tol=self.tol,
            expand=self.algorithm == "px-em", verbose=self.verbose,
            random_state=check_random_state_param(self.random_state),
        )
        self._center, self._scale = fitted.center, fitted.scale
        self._record_fit(fitted.params, fitted.history, fitted.converged, observed,
                         fitted.data_min, fitted.data_max)

    def _record_fit(self, params, history, converged, observed, data_min, data_max):
        """Set the fitted attributes from EM's result (``self._center`` and
        ``self._scale`` set) and warn if it did not converge."""
        # log-Jacobian of the standardisation, per observed modality
        self._log_scale = np.array([np.log(s).sum() for s in self._scale])
        self._params = params
        jacobian = float(np.mean(observed @ self._log_scale))
        self.log_likelihood_ = np.asarray(history) - jacobian
        self.n_iter_ = len(history) - 1
        self.converged_ = converged
        if not converged:
            warnings.warn(
                f"CalMRLImputer did not converge in max_iter={self.max_iter} iterations "
                f"(tol={self.tol}); increase max_iter or tol.",
                ConvergenceWarning,
            )
        self.data_min_ = dict(zip(self.modalities_, data_min))
        self.data_max_ = dict(zip(self.modalities_, data_max))
        self.loadings_, self.mean_, self.noise_variance_ = {}, {}, {}
        for j, m in enumerate(self.modalities_):
            s = self._scale[j]
            self.loadings_[m] = s[:, None] * params.components[j]
            self.mean_[m] = self._center[j] + s * params.means[j]
            with np.errstate(over="ignore"):  # inf above 1e154 input units, documented
                self.noise_variance_[m] = em.noise_of(params, j) * s**2

    @property
    def components_(self):
        """Deprecated dict form of :attr:`loadings_` (see the class docstring)."""
        if "loadings_" not in vars(self):
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute 'components_' "
                "(not fitted)"
            )
        warnings.warn(
            f"{type(self).__name__}.components_ as a dict of (d_m, n_components) "
            "loadings is deprecated since 0.2 and will be removed in 0.4, when "
            "components_ becomes the scikit-learn shaped (n_components, "
            "n_features_in_) array. Use loadings_ for the dict (or "
            "np.vstack(list(loadings_.values())).T for the array).",
            FutureWarning,
            stacklevel=2,
        )
        return self.loadings_

    # --- inference ------------------------------------------------------------------
    def _validate_for_inference(self, X):
        """Validate ``X`` against the fit; return the validated container."""
        check_is_fitted(self, "_params")
        return self._validate_multimodal(X, reset=False)[0]

    def _posterior_chunks(self, X):
        """Yield ``(rows, EM layout, posterior)`` for groups of rows covering ``X``.

        Samples are independent given the parameters, so inference in chunks gives
        the same result as in one pass while its temporaries stay the size of a chunk.
        """
        arrays, observed = list(X.values()), X._validated_observed()
        for chunk in _chunks(X.n_samples):
            rows = np.arange(chunk.start, chunk.stop)
            yield from self._infer([a[chunk] for a in arrays], observed[chunk], rows)

    def _infer(self, arrays, observed, rows):
        """Yield ``(rows, EM layout, posterior)`` for ``arrays`` (rows ``rows`` of the
        input) and their ``observed`` mask, in one or two groups.

        Rows whose standardised values are too large to square (beyond ``2**400``, far
        outside the training data) form a second group, computed on values divided by
        a power of two (``EMData.shrink``) so that the other rows are untouched.
        """

        def prepare(subset=None, shrink=1.0):
            return em.prepare(
                arrays if subset is None else [a[subset] for a in arrays],
                observed if subset is None else observed[subset],
                center=self._center, scale=self._scale, shrink=shrink,
            )

        data = prepare()
        far = _far(data)
        if not far.any():
            yield rows, data, em.e_step(data, self._params)
            return
        size = _magnitudes(data)
        infinite = ~np.isfinite(size).all(axis=1)
        if infinite.any():
            raise self._far_rows_error(
                size[infinite], rows[infinite],
                "standardising them overflows float64",
            )
        if not far.all():
            near = prepare(~far)
            yield rows[~far], near, em.e_step(near, self._params)
        shrunk = prepare(far, power_of_two_scale(size[far].max()))
        yield rows[far], shrunk, em.e_step(shrunk, self._params)

    def _far_rows_error(self, size, rows, consequence):
        return far_rows_error(
            type(self).__name__, self.modalities_, size, rows, consequence
        )

    def _checked(self, values, dtype, data, rows, consequence, where=slice(None)):
        """Return ``values``, or raise a ValueError naming the rows where they do not
        fit ``dtype``.

        ``values`` holds the rows ``where`` of ``data`` (rows ``rows`` of the input).
        """
        with np.errstate(over="ignore", invalid="ignore"):
            bad = ~np.isfinite(np.asarray(values, dtype=dtype))
        if bad.any():
            bad = bad.reshape(bad.shape[0], -1).any(axis=1)
            size = _magnitudes(data)[where][bad]
            raise self._far_rows_error(size, rows[bad], consequence)
        return values

    def _checked_imputation(self, values, dtype, data, rows, missing, modality):
        """Return imputed ``values``, or raise a ValueError naming ``modality`` and the
        rows whose imputations do not fit ``dtype``."""
        with np.errstate(over="ignore", invalid="ignore"):
            bad = ~np.isfinite(np.asarray(values, dtype=dtype)).all(axis=1)
        if bad.any():
            size = _magnitudes(data)[missing][bad]
            worst = sorted({self.modalities_[m] for m in size.argmax(axis=1)})
            raise ValueError(
                f"{type(self).__name__}: the values imputed for modality {modality!r} "
                f"in rows {_first_rows(rows[bad])} exceed the {np.dtype(dtype)} range. "
                "Either these rows lie far outside the training data (their largest "
                "observed values in training standard deviations are in modality "
                f"{', '.join(map(repr, worst))}), or {modality!r} was fitted on values "
                "at the edge of that range and the model predicts beyond it."
            )
        return values

    def transform(self, X, return_std=False):
        """Fill each missing modality with its posterior predictive mean.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        return_std : bool, default=False
            Also return the predictive standard deviation of every entry (0 on
            observed rows), ``sqrt(diag(W^m V W^mT) + sigma_m^2)`` in input units
            (``+ psi_m`` with ``noise="feature"``).

        Returns
        -------
        X_imputed : MultiModalData, ndarray or DataFrame
            Same kind and dtype as the input; observed rows are copied unchanged.
        X_std : MultiModalData, ndarray or DataFrame
            Only if ``return_std`` is True.
        """
        check_scalar_param(return_std, "return_std", bool)
        X = self._validate_for_inference(X)
        if X.lazy:
            n_out = 2 if return_std else 1

            def fill(block, _):
                out = self.transform(block, return_std=return_std)
                return np.hstack([np.asarray(o) for o in (out if return_std else [out])])

            stacked = self._lazy(fill, X, n_out * X.shape[1], X.dtype)
            parts = self._lazy_containers(stacked, X, n_out)
            return tuple(parts) if return_std else parts[0]
        return self._impute(X, self._posterior_chunks(X), return_std)

    def _impute(self, X, parts, return_std=False):
        """:meth:`transform`'s output from the ``(rows, EM layout, posterior)`` parts
        covering the validated ``X``."""
        params = self._params
        filled = {m: a.copy() for m, a in X.items()}
        std = {m: np.zeros_like(a) for m, a in X.items()} if return_std else None
        for rows, data, post in parts:
            observed = data.patterns[data.pattern_index]
            for j, m in enumerate(X.modalities):
                missing = ~observed[:, j]
                if missing.any():
                    with np.errstate(over="ignore", invalid="ignore"):
                        z = em.predictive_mean(params, post.mean[missing], j)
                        z = z * self._scale[j] + self._center[j]
                    z = self._checked_imputation(
                        z, filled[m].dtype, data, rows[missing], missing, m
                    )
                    if self.clip:
                        z = np.clip(z, self.data_min_[m], self.data_max_[m])
                    filled[m][rows[missing]] = z
                if return_std:
                    var = em.predictive_variance(params, post.cov, j)[data.pattern_index]
                    var[observed[:, j]] = 0.0
                    std[m][rows] = np.sqrt(var) * self._scale[j]
        Xt = self._container(filled, X)
        return (Xt, self._container(std, X)) if return_std else Xt

    @staticmethod
    def _container(arrays, like):
        return MultiModalData(arrays, feature_names=like.feature_names, index=like.index)

    def transform_latent(self, X):
        """Posterior mean ``E[beta | observed modalities]`` of the shared latent.

        A low-dimensional embedding of incomplete samples (0 for a sample with nothing
        observed).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        X = self._validate_for_inference(X)
        if X.lazy:
            return self._lazy(lambda block, _: self.transform_latent(block), X,
                              self._params.n_components, np.float64)
        out = np.empty((X.n_samples, self._params.n_components))
        for rows, data, post in self._posterior_chunks(X):
            out[rows] = self._checked(
                post.mean, np.float64, data, rows, "their latent means overflow float64"
            )
        return out

    def sample(self, X, n_imputations=5, random_state=None):
        """Deprecated name of :meth:`sample_imputations`.

        .. deprecated:: 0.2
           ``sample`` was renamed ``sample_imputations`` (scikit-learn's ``sample``,
           as in :meth:`sklearn.mixture.GaussianMixture.sample`, draws new points
           from the model); it will be removed in 0.4.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        n_imputations : int, default=5
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        list of MultiModalData, ndarray or DataFrame
            As :meth:`sample_imputations`.
        """
        warnings.warn(
            f"{type(self).__name__}.sample was renamed sample_imputations in 0.2 and "
            "will be removed in 0.4; use sample_imputations(X, n_imputations, "
            "random_state) (same arguments and draws).",
            FutureWarning,
            stacklevel=2,
        )
        return self.sample_imputations(X, n_imputations, random_state)

    def sample_imputations(self, X, n_imputations=5, random_state=None):
        """Draw imputations from the posterior predictive (multiple imputation).

        Each draw takes ``beta ~ N(m_n, V_n)`` and then every missing modality
        ``z^m ~ N(W^m beta + mu^m, sigma_m^2 I)`` (``diag(psi_m)`` with
        ``noise="feature"``); observed rows are kept. Unlike
        :meth:`sklearn.mixture.GaussianMixture.sample`, which draws new samples, it
        completes the given ones.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        n_imputations : int, default=5
            Number of completed data sets.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        list of MultiModalData, ndarray or DataFrame
            ``n_imputations`` completed copies of ``X``, each as :meth:`transform`
            returns.
        """
        check_scalar_param(n_imputations, "n_imputations", int, low=1)
        X = self._validate_for_inference(X)
        if X.lazy:  # each block draws from its own seed, spawned from random_state
            seed = check_random_state_param(random_state).randint(2**31)

            def draw(block, start):
                rng = np.random.default_rng([seed, start])
                return np.hstack([np.asarray(d) for d in self.sample_imputations(
                    block, n_imputations, np.random.RandomState(rng.integers(2**31)))])

            stacked = self._lazy(draw, X, n_imputations * X.shape[1], X.dtype)
            return self._lazy_containers(stacked, X, n_imputations)
        parts = list(self._infer(
            list(X.values()), X._validated_observed(), np.arange(X.n_samples)
        ))
        params = self._params
        rng = check_random_state_param(random_state)
        draws = []
        for _ in range(n_imputations):
            filled = {m: a.copy() for m, a in X.items()}
            for rows, data, post in parts:
                beta = em.sample_latent(post, data.pattern_rows, rng)
                observed = data.patterns[data.pattern_index]
                for j, m in enumerate(X.modalities):
                    missing = ~observed[:, j]
                    if not missing.any():
                        continue
                    mean = em.predictive_mean(params, beta[missing], j)
                    noise = rng.standard_normal(mean.shape)
                    with np.errstate(over="ignore", invalid="ignore"):
                        z = mean + np.sqrt(em.noise_of(params, j)) * noise
                        z = z * self._scale[j] + self._center[j]
                    z = self._checked_imputation(
                        z, filled[m].dtype, data, rows[missing], missing, m
                    )
                    if self.clip:
                        z = np.clip(z, self.data_min_[m], self.data_max_[m])
                    filled[m][rows[missing]] = z
            draws.append(self._container(filled, X))
        return draws

    # --- likelihood -----------------------------------------------------------------
    def score_samples(self, X):
        """Log-likelihood of each sample's observed modalities (input units).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        ndarray of shape (n_samples,)
            ``log p(observed rows)``; 0 for a sample with nothing observed.
        """
        X = self._validate_for_inference(X)
        if X.lazy:
            return self._lazy(lambda block, _: self.score_samples(block), X, None,
                              np.float64)
        out = np.empty(X.n_samples)
        for rows, data, post in self._posterior_chunks(X):
            jacobian = data.patterns[data.pattern_index] @ self._log_scale
            out[rows] = self._checked(
                post.log_likelihood - jacobian, np.float64, data, rows,
                "their log-likelihood is below the float64 range",
            )
        return out

    def score(self, X, y=None):
        """Mean observed-data log-likelihood per sample (higher is better).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _chunks(n_samples):
    """Consecutive slices of at most ``_INFERENCE_CHUNK`` rows (views, not copies)."""
    for start in range(0, n_samples, _INFERENCE_CHUNK):
        yield slice(start, min(start + _INFERENCE_CHUNK, n_samples))


def _far(data):
    """Rows of ``data`` with a standardised magnitude beyond ``FLOAT64_LIMIT`` (or not
    finite) in some modality: those of :func:`_magnitudes`, found from the squared
    norms (which bound every value) and checked exactly where these exceed the
    limit's square."""
    far = np.zeros(data.n_samples, dtype=bool)
    for rows, v, sq in zip(data.rows, data.values, data.sq_norms):
        suspect = np.flatnonzero(~(sq <= FLOAT64_LIMIT**2))
        if suspect.size:
            size = max_abs(v[suspect], axis=1) * data.shrink
            far[rows[suspect]] |= ~(size <= FLOAT64_LIMIT)
    return far


def _magnitudes(data):
    """Largest standardised magnitude of each row of ``data`` in each modality (0
    where unobserved), shape (n_samples, n_modalities), in undivided units."""
    size = np.zeros((data.n_samples, len(data.values)))
    with np.errstate(over="ignore"):
        for j, (rows, v) in enumerate(zip(data.rows, data.values)):
            size[rows, j] = max_abs(v, axis=1) * data.shrink
    return size
