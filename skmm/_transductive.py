"""Transductive imputation peers of the benchmark (private): SoftImpute and MOFA+.

Neither is a fitted model of the data: :meth:`transform` fits the low-rank model
again on the training rows stacked with the rows it completes, so each call costs a
full fit. The benchmark labels them "transductive" for that reason.
"""

import contextlib
import io
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted

from ._data import MultiModalData
from .base import MultiModalMixin, MultiModalTransformerMixin, fit_context
from .utils._param_validation import Interval

__all__ = ["MOFAImputer", "SoftImputeImputer"]


class _TransductiveImputer(MultiModalMixin, MultiModalTransformerMixin, BaseEstimator):
    """Shared part of the transductive imputers: validation, standardisation, output.

    :meth:`fit` validates the training data, standardises every feature by its mean
    and standard deviation over the rows where its modality is observed (a deviation
    of 0 counts as 1), keeps the standardised training rows and completes them
    (``n_iter_``, ``converged_`` describe that fit). :meth:`transform` completes the
    rows of ``X`` by fitting the model again on the training rows stacked with the
    rows of ``X``, standardised the same way; it is therefore *transductive*: it sees
    the rows it imputes, costs a full fit per call and leaves the estimator unchanged.
    Use :meth:`fit_transform` to complete the training rows themselves
    (``transform`` on the training data would stack them twice).

    Subclasses declare ``_parameter_constraints`` and define ``_complete(Z, rng)``,
    which returns the
    model's reconstruction of the standardised matrix ``Z`` (NaN where missing), the
    number of iterations and whether it converged.

    Observed rows are returned bit-for-bit; missing modality rows are filled with the
    reconstruction mapped back to input units; the output has the input's kind and
    dtypes. A sample with no modality (allowed at transform) is filled with about the
    training means.
    """

    def _complete(self, Z, rng):
        raise NotImplementedError

    @fit_context()
    def fit(self, X, y=None):
        """Validate and standardise the training data and complete it once.

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
        """Fit, and return the training rows completed by that fit.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        MultiModalData, ndarray or DataFrame
            As :meth:`transform` returns.
        """
        X, completed = self._fit(X)
        return self._output(X, completed)

    def _fit(self, X):
        X, _ = self._validate_multimodal(X, reset=True, allow_empty_samples=False)
        stack = np.asarray(X, dtype=np.float64)
        # every modality is observed in some row (checked by the validation)
        self.mean_ = np.nanmean(stack, axis=0)
        scale = np.nanstd(stack, axis=0)
        scale[scale == 0] = 1.0
        self.scale_ = scale
        self._train = self._standardize(stack)
        completed, self.n_iter_, self.converged_ = self._run(self._train)
        return X, completed

    def transform(self, X):
        """Complete ``X`` by refitting the model on the training rows and ``X``'s rows.

        Transductive: each call is a full fit on ``n_train + n_samples`` rows; the
        estimator is not modified.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        MultiModalData, ndarray or DataFrame
            Same kind and dtypes as the input; observed rows are copied unchanged and
            missing modality rows are filled.
        """
        check_is_fitted(self, "_train")
        X, _ = self._validate_multimodal(X, reset=False)
        both = np.vstack([self._train, self._standardize(np.asarray(X, dtype=np.float64))])
        completed, _, _ = self._run(both)
        return self._output(X, completed[self._train.shape[0]:])

    def _standardize(self, stack):
        with np.errstate(over="ignore", invalid="ignore"):
            Z = (stack - self.mean_) / self.scale_
        if np.isinf(Z).any():
            raise ValueError(
                f"{type(self).__name__}: standardising the data overflows float64."
            )
        return Z

    def _run(self, Z):
        rng = check_random_state(self.random_state)
        completed, n_iter, converged = self._complete(Z, rng)
        if not converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} "
                "iterations.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return completed, n_iter, converged

    def _output(self, X, completed):
        """Fill the missing rows of ``X`` from the standardised reconstruction."""
        filled = {}
        start = 0
        observed = X._validated_observed()
        for j, (m, a) in enumerate(X.items()):
            stop = start + a.shape[1]
            out = a.copy()
            missing = ~observed[:, j]
            if missing.any():
                cols = slice(start, stop)
                z = completed[missing, cols] * self.scale_[cols] + self.mean_[cols]
                with np.errstate(over="ignore", invalid="ignore"):
                    z = z.astype(out.dtype)
                if not np.isfinite(z).all():
                    raise ValueError(
                        f"{type(self).__name__}: the values imputed for modality {m!r} "
                        f"exceed the {out.dtype} range."
                    )
                out[missing] = z
            filled[m] = out
            start = stop
        return MultiModalData(filled, feature_names=X.feature_names, index=X.index)


class SoftImputeImputer(_TransductiveImputer):
    """Low-rank completion by soft-thresholded SVD (SoftImpute), transductive.

    Benchmark peer (private, not public API). The modalities are stacked into one
    matrix, standardised with the training rows' observed means and standard
    deviations, and completed by the iteration of Mazumder, Hastie and Tibshirani
    (2010)::

        Z <- S_lambda(P_obs(X) + P_miss(Z))

    where ``S_lambda`` soft-thresholds the singular values by ``lambda``, starting from
    ``Z = 0`` (mean imputation). Missing entries are the NaN entries, i.e. the rows of
    missing modalities.

    **Transductive**: :meth:`transform` runs the whole iteration again on the
    training rows stacked with the rows it completes; it costs a full fit per call
    and is not a fitted model of the data.

    Parameters
    ----------
    shrinkage : float or None, default=None
        ``lambda``, in standardised units. None uses the largest singular value of the
        zero-filled standardised matrix divided by 50 (fancyimpute's default), computed
        on the matrix being completed.
    max_rank : int or None, default=None
        If set, each step uses a randomised truncated SVD of this rank
        (:func:`sklearn.utils.extmath.randomized_svd`) instead of the full SVD.
    max_iter : int, default=100
        Maximum number of SVD steps.
    tol : float, default=1e-4
        Stop when ``||Z_new - Z_old||_F / ||Z_old||_F < tol``.
    random_state : int, RandomState instance or None, default=None
        Seed of the randomised SVD (used only with ``max_rank``).

    Attributes
    ----------
    n_iter_ : int
        SVD steps of the fit on the training rows.
    converged_ : bool
        Whether that fit met ``tol`` before ``max_iter``.
    mean_, scale_ : ndarray of shape (n_features_in_,)
        Observed training mean and standard deviation (1 where it is 0) of each
        feature, in modality order.
    modalities_, n_features_per_modality_, n_features_in_, feature_names_in_
        As for the other skmm imputers.

    References
    ----------
    R. Mazumder, T. Hastie and R. Tibshirani, "Spectral regularization algorithms for
    learning large incomplete matrices", JMLR 11, 2010.
    """

    _parameter_constraints = {
        "shrinkage": [Interval(Real, 0, None, closed="left"), None],
        "max_rank": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, shrinkage=None, max_rank=None, max_iter=100, tol=1e-4,
                 random_state=None):
        self.shrinkage = shrinkage
        self.max_rank = max_rank
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _svd(self, A, rng):
        """Singular values ``s`` (descending) and ``L = U s``, ``R = s V^T`` (so that
        ``A = L diag(1/s) R``).

        The exact thin SVD comes from the eigendecomposition of the smaller Gram
        matrix (about 3 times faster than ``np.linalg.svd`` here; the components kept
        by the threshold, ``s > lambda``, are accurate to about ``1e-12``).
        """
        if self.max_rank is not None and self.max_rank < min(A.shape):
            U, s, Vt = randomized_svd(A, self.max_rank, random_state=rng)
            return s, U * s, Vt * s[:, None]
        tall = A.shape[0] >= A.shape[1]
        w, E = np.linalg.eigh(A.T @ A if tall else A @ A.T)
        s, E = np.sqrt(np.maximum(w[::-1], 0.0)), E[:, ::-1]
        return (s, A @ E, E.T * s[:, None]) if tall else (s, E * s, E.T @ A)

    def _complete(self, Z, rng):
        missing = np.isnan(Z)
        filled = np.where(missing, 0.0, Z)
        if not missing.any():
            return filled, 0, True
        shrinkage = self.shrinkage
        low_rank = np.zeros_like(filled)
        converged = False
        for n_iter in range(1, self.max_iter + 1):
            s, left, right = self._svd(filled, rng)
            if shrinkage is None:  # first step: the zero-filled matrix
                shrinkage = s[0] / 50.0
            r = int(np.count_nonzero(s > shrinkage))
            # U diag(s - lambda) V^T over the singular values above lambda
            new = (left[:, :r] * ((s[:r] - shrinkage) / s[:r]**2)) @ right[:r]
            change, old_norm = np.linalg.norm(new - low_rank), np.linalg.norm(low_rank)
            low_rank = new
            np.copyto(filled, low_rank, where=missing)
            # the first step compares with Z = 0 and never counts as converged
            if n_iter > 1 and change <= self.tol * old_norm:
                converged = True
                break
        return filled, n_iter, converged


def _import_mofapy2():
    """Import mofapy2's entry point; keep its global ``filterwarnings("ignore")`` from
    silencing this process."""
    try:
        with warnings.catch_warnings():
            from mofapy2.run.entry_point import entry_point
    except ImportError as exc:
        raise ImportError(
            "MOFAImputer needs the optional dependency mofapy2: "
            "pip install 'skmm[mofa]'."
        ) from exc
    return entry_point


class MOFAImputer(_TransductiveImputer):
    """Imputation by MOFA+ (mofapy2), transductive.

    Benchmark peer (private, not public API). The modalities, standardised with the
    training rows' observed means and standard deviations, are the views of a MOFA+
    model (Argelaguet et al., 2020) with one group and Gaussian likelihoods, trained
    by mofapy2's variational inference (ARD and spike-and-slab priors on the
    weights). A missing modality row is imputed by ``F W^T`` plus the view's
    intercept, from the expected factors ``F`` and weights ``W``. mofapy2 is an
    optional dependency (``pip install 'skmm[mofa]'``); it runs silently, writes no
    file, and the global NumPy random state and warning filters are left as they
    were (mofapy2 seeds ``np.random`` and ignores all warnings).

    **Transductive**: :meth:`transform` trains a new MOFA+ model on the training rows
    stacked with the rows it completes; it costs a full fit per call and is not a
    fitted model of the data.

    Parameters
    ----------
    n_factors : int, default=10
        Number of factors; at most the total number of features.
    max_iter : int, default=1000
        Maximum number of variational iterations (mofapy2's ``iter``); mofapy2 stops
        earlier on its "fast" ELBO criterion.
    random_state : int, RandomState instance or None, default=None
        Draws the integer seed handed to mofapy2.

    Attributes
    ----------
    n_iter_ : int
        Iterations of the fit on the training rows.
    converged_ : bool
        Whether mofapy2's convergence criterion was met.
    mean_, scale_ : ndarray of shape (n_features_in_,)
        Observed training mean and standard deviation (1 where it is 0) of each
        feature, in modality order.
    modalities_, n_features_per_modality_, n_features_in_, feature_names_in_
        As for the other skmm imputers.

    References
    ----------
    R. Argelaguet et al., "MOFA+: a statistical framework for comprehensive
    integration of multi-modal single-cell data", Genome Biology 21, 2020.
    """

    _parameter_constraints = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_factors=10, max_iter=1000, random_state=None):
        self.n_factors = n_factors
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(self, X):
        _import_mofapy2()  # fail before any work when it is absent
        return super()._fit(X)

    def _complete(self, Z, rng):
        entry_point = _import_mofapy2()
        if self.n_factors > min(Z.shape):
            raise ValueError(
                f"n_factors={self.n_factors} exceeds the number of rows or of features "
                f"of the data (n_samples = {Z.shape[0]}, n_features = {Z.shape[1]})."
            )
        widths = np.cumsum([0, *self.n_features_per_modality_.values()])
        views = [[Z[:, a:b].copy()] for a, b in zip(widths[:-1], widths[1:])]
        seed = int(rng.randint(np.iinfo(np.int32).max))
        log = io.StringIO()
        state = np.random.get_state()
        try:
            with contextlib.redirect_stdout(log), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ent = entry_point()
                ent.set_data_options(scale_views=False, use_float32=False)
                ent.set_data_matrix(
                    views, likelihoods=["gaussian"] * len(views),
                    views_names=list(self.modalities_),
                )
                ent.set_model_options(factors=self.n_factors)
                ent.set_train_options(
                    iter=self.max_iter, convergence_mode="fast", dropR2=None,
                    seed=seed, verbose=False, quiet=True,
                )
                ent.build()
                ent.run()
        except SystemExit as exc:  # mofapy2 calls exit() on errors
            tail = log.getvalue().strip().splitlines()[-3:]
            raise RuntimeError(
                f"mofapy2 stopped while training: {' '.join(tail)}"
            ) from exc
        finally:
            np.random.set_state(state)
        model = ent.model
        factors = model.nodes["Z"].getExpectations()["E"]
        weights = [w["E"] for w in model.nodes["W"].getExpectations()]
        # mofapy2 centres each view on its observed mean; add it back
        recon = np.hstack([
            factors @ w.T + b[0] for w, b in zip(weights, ent.intercepts)
        ])
        elbo = model.getTrainingStats()["elbo"]
        converged = len(elbo) < self.max_iter + 1  # truncated when it converges
        n_iter = len(elbo) if converged else self.max_iter - 1
        return recon, n_iter, converged
