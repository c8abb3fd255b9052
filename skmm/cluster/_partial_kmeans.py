"""Partial-modality k-means: k-means where samples and centres may lack modalities.

The estimator, :class:`PartialModalityKMeans`: its parameters, validation, units and
the orchestration of the fit and of the distances to the fitted centres. The partial
distance itself, its tables, sums and seeding draws on arrays are the kernel,
:mod:`._partial_distance`.

A feature whose values are too large to square safely (above 2**400 in float64, 2**60
in float32, which is also summed in float32) is divided by an exact power of two at
:meth:`~PartialModalityKMeans.fit` (a working copy of its modality; see
:mod:`._scaling`), so the clustering equals that of the rescaled data and the fitted
attributes are in input units. Rows whose partial distances still overflow at
inference raise a ValueError naming them.
"""

import functools
import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._data import MultiModalData
from ..base import MultiModalMixin, MultiModalTransformerMixin, fit_context
from ..utils._param_validation import Interval, StrOptions
from ..utils._validation import _first_rows, check_multimodal
from ..utils._scaling import (
    dtype_limit,
    far_rows_error,
    is_unit,
    max_abs,
    power_of_two_scale,
    unscaled,
)
from ._partial_distance import (
    CentreGeometry,
    Threads,
    centre_shift,
    closest_distances,
    far_rows,
    kmeans_plusplus,
    lloyd_pass,
    modality_moments,
    modality_stats,
    norm_bounds,
    overflowed,
    stacked_norms,
    table_rows,
)

from ._partial_kmeans_blocks import (
    SEEDING_ROWS,
    BlockLloyd,
    block_max_abs,
    block_moments,
    seeding_sample,
)

__all__ = ["PartialModalityKMeans"]

# Added to each feature's standard deviation (the specification's 1e-8).
_STD_EPS = 1e-8


class _PartialKMeansParams(BaseEstimator):
    """The parameters of partial-modality k-means and their checks.

    Shared by :class:`PartialModalityKMeans` and
    :class:`~skmm.impute.PartialModalityKMeansImputer`, so the two have one signature:
    the imputer passes its parameters on unchanged to the clusterer it fits,
    ``PartialModalityKMeans(**imputer.get_params())``. Each class documents them.
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++"}), "array-like", Mapping],
        "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_local_trials=1,
        n_init=1,
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_local_trials = n_local_trials
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state

    def _check_params_vs_input(self, X):
        """Check the parameters against the data ``X``; return ``(k, n_init)``."""
        k = int(self.n_clusters)
        n_init = 1 if self.n_init == "auto" else int(self.n_init)
        self._check_n_clusters(k, X.n_samples)
        if self.n_local_trials is not None and self.n_local_trials > X.n_samples:
            raise ValueError(
                f"n_local_trials={self.n_local_trials} exceeds the {X.n_samples} training "
                "samples: more candidates per centre than samples cannot help (and each "
                "costs a pass over the data)."
            )
        return k, n_init

    def _n_trials(self):
        """``n_local_trials`` with ``None`` resolved as in scikit-learn."""
        if self.n_local_trials is None:
            return 2 + int(np.log(self.n_clusters))
        return int(self.n_local_trials)


class PartialModalityKMeans(
    MultiModalMixin, ClassNamePrefixFeaturesOutMixin, MultiModalTransformerMixin,
    ClusterMixin, _PartialKMeansParams,
):
    """K-means on multimodal data whose samples may lack whole modalities.

    Centres are partial too: a centre holds the modalities its members observe. The
    distance between a sample and a centre is the *partial-modality distance*::

        d(i, j) = sqrt(mean over m in S_ij of ||z_i^m - c_j^m||**2 / d_m)

    over the modalities ``S_ij`` that both have (infinite if they share none), where
    ``z`` is each modality standardised feature-wise over its observed rows. Dividing
    by the width ``d_m`` makes wide and narrow modalities count equally; averaging
    makes samples with few and many modalities comparable. This is stage 1 of UL4M4;
    :class:`~skmm.impute.PartialModalityKMeansImputer` adds the completion stage.

    Read more in the :ref:`User Guide <partial_kmeans>`.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters; must not exceed the number of training samples.
    init : "k-means++" or multimodal data of shape (n_clusters, ...), default="k-means++"
        ``"k-means++"``: seeding on the partial distance. The first centre is a
        uniformly drawn sample; each next one is drawn with probability proportional to
        its squared partial distance to the nearest centre chosen so far, except that
        samples sharing no modality with any chosen centre (infinite distance) are
        drawn first, uniformly. If all remaining distances are zero the draw is
        uniform. A centre takes exactly the modalities of its seed sample. With
        ``n_local_trials > 1`` the seeding is greedy: see ``n_local_trials``.
        Otherwise the initial centres in input space (a :class:`~skmm.MultiModalData`,
        dict or, for 2-D input, an array); NaN rows mark modalities a centre lacks,
        and each centre needs at least one modality.
    n_local_trials : int or None, default=1
        Candidates drawn for each centre after the first by ``"k-means++"`` (greedy
        k-means++, as :func:`sklearn.cluster.kmeans_plusplus`): each is drawn as above,
        and the one that leaves the lowest potential is kept, the potential being the
        number of samples still at infinite distance from every chosen centre, then
        the sum of the finite squared partial distances to the nearest one (ties: the
        first drawn). ``None`` means ``2 + int(log(n_clusters))``, scikit-learn's
        default; ``1`` is plain k-means++. Ignored when ``init`` gives the centres.
    n_init : int or "auto", default=1
        Number of k-means++ runs; the one with the lowest inertia is kept (the first
        among equals). ``"auto"`` means 1. Ignored (with a warning) when ``init`` gives
        the centres.
    max_iter : int, default=300
        Maximum number of Lloyd iterations (assignment and update) per run.
    tol : float, default=1e-4
        Convergence threshold on the largest squared partial distance, in standardised
        units, between a centre and its update (a centre that gained a modality has
        moved by an infinite amount). Iterations also stop when no assignment changes.
    verbose : int, default=0
        Print the inertia after each iteration when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means++ draws. The draws use ``randint`` and ``uniform`` of a
        :class:`numpy.random.RandomState`, ``n_local_trials`` values per centre after
        the first.

    Attributes
    ----------
    cluster_centers_ : MultiModalData of shape (n_clusters, n_features)
        Centres in *input* space, with a NaN row where a centre lacks a modality.
        After fitting, every modality is present in at least one centre (each observed
        modality joins the centre of any sample that observes it).
    cluster_presence_ : ndarray of shape (n_clusters, n_modalities), dtype bool
        Whether each centre has each modality (in ``modalities_`` order): the rows of
        ``cluster_centers_`` that are not NaN.
    standardized_centers_ : MultiModalData of shape (n_clusters, n_features)
        The centres in the standardised units in which the partial distance is
        computed, ``(cluster_centers_[m] - mean_[m]) / scale_[m]`` per modality (up to
        rounding), with the same NaN rows as ``cluster_centers_``.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (consistent with :meth:`predict`).
    inertia_ : float
        Sum of squared partial distances of the training samples to their centres (in
        standardised units, so it does not grow with the units of the data).
    n_iter_ : int
        Number of Lloyd iterations of the kept run.
    mean_ : dict of ndarray
        Per-modality feature means over the observed rows.
    scale_ : dict of ndarray
        Per-modality feature standard deviations over the observed rows, plus 1e-8.
    modalities_ : tuple of str
        Input modality names (``("x0",)`` for a 2-D array).
    n_features_per_modality_ : dict
        Width of each modality.
    n_features_in_ : int
        Total input width.
    feature_names_in_ : ndarray of str
        Input feature names, when known.

    See Also
    --------
    skmm.impute.PartialModalityKMeansImputer : completes missing modalities from these
        clusters.
    sklearn.cluster.KMeans : the complete-data special case (up to the standardisation
        and the per-modality weighting).

    Notes
    -----
    The defaults follow :class:`~sklearn.cluster.KMeans`. The paper's settings are
    ``n_clusters=64``, 50 iterations and a tolerance of ``1e-6`` on the centre shift
    itself, that is ``PartialModalityKMeans(64, max_iter=50, tol=1e-12)`` here; the
    user guide lists how the authors' scripts depart from them.

    Code built on a fitted clustering reads ``cluster_presence_`` and
    ``standardized_centers_`` and gets the partial distances of new samples, chunk by
    chunk, from :meth:`map_distance_tables`; this is how
    :class:`~skmm.impute.PartialModalityKMeansImputer` completes samples.

    Each sample is assigned to the centre at the smallest partial distance (ties go to
    the lowest index). Each centre's modality becomes the mean of its members that
    observe it; if none does, the centre keeps its previous value and presence for
    that modality, and an empty cluster keeps its previous centre.

    A sample with no modality has an infinite distance to every centre:
    :meth:`transform` gives it a row of ``inf``, :meth:`predict` the label ``-1``, and
    :meth:`score` raises. Such samples are an error at :meth:`fit`.

    Distances are computed in chunks of samples by one matrix product per modality; the
    input is neither copied nor standardised as a whole, so the memory used beyond the
    input is ``O(n_samples * n_modalities)`` plus fixed-size chunk buffers. The
    exception is a modality with values too large to square (above ``2**400``, or
    ``2**60`` for float32): :meth:`fit` clusters a copy of it divided by an exact power
    of two, which gives the clustering of the rescaled data with every attribute in
    input units. At :meth:`predict`, :meth:`transform` and :meth:`score` a sample whose
    squared partial distances overflow float64 (values ``1e154`` standard deviations
    away from the training mean) raises a ValueError naming its row and modality, as
    does a distance beyond the float32 range in :meth:`transform` of float32 data.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm import MultiModalData
    >>> from skmm.cluster import PartialModalityKMeans
    >>> rng = np.random.default_rng(0)
    >>> a = np.r_[rng.normal(0, 1, (20, 3)), rng.normal(5, 1, (20, 3))]
    >>> b = np.r_[rng.normal(0, 1, (20, 2)), rng.normal(5, 1, (20, 2))]
    >>> a[::3] = np.nan  # a third of the samples lack modality "a"
    >>> km = PartialModalityKMeans(n_clusters=2, random_state=0).fit({"a": a, "b": b})
    >>> np.bincount(km.labels_)
    array([20, 20])
    >>> km.cluster_centers_.shape
    (2, 5)
    """

    # --- fitting -----------------------------------------------------------------------
    @staticmethod
    def _check_n_clusters(k, n_samples):
        if k > n_samples:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={k}: n_clusters cannot "
                "exceed the number of training samples."
            )

    def _initial_centres(self):
        """Standardised centres and presence from the ``init`` parameter."""
        k = self.n_clusters
        try:
            init = check_multimodal(
                self.init,
                modalities=self.modalities_,
                n_features=self.n_features_per_modality_,
                allow_empty_samples=False,
            )
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"init must be 'k-means++' or initial centres shaped like the training "
                f"data: {exc}"
            ) from exc
        if init.n_samples != k:
            raise ValueError(
                f"init has {init.n_samples} centres but n_clusters={k}."
            )
        presence = init.observed
        mean, scale = self._stats()
        centres = []
        with np.errstate(over="ignore", invalid="ignore"):
            for m, name in enumerate(self.modalities_):
                c = init[name] / self._input_scale[name]
                c = np.where(presence[:, m, None], (c - mean[m]) / scale[m], 0.0)
                bad = ~np.isfinite(np.einsum("ij,ij->i", c, c))
                if bad.any():
                    raise ValueError(
                        f"init: centres {_first_rows(bad)} of modality {name!r} are too "
                        "far from the training data: their squared standardised "
                        "distances overflow float64."
                    )
                centres.append(c)
        return centres, presence

    def _run(self, lloyd, obs, centres, presence):
        """Lloyd iterations from one initialisation; returns the fitted run.

        ``lloyd`` makes the passes over the data (:class:`_InMemoryLloyd` or
        :class:`~._partial_kmeans_blocks.BlockLloyd`); ``obs`` is the observed mask.
        """
        mean, scale = self._stats()
        k = presence.shape[0]
        previous = None
        converged = False
        for n_iter in range(1, self.max_iter + 1):
            geometry = CentreGeometry(centres, presence, mean, scale, lloyd.dtypes)
            labels, sums = lloyd.assign(geometry, previous)
            if self.verbose:
                print(f"Iteration {n_iter}, inertia {lloyd.inertia(geometry):.6g}.")
            if previous is not None and np.array_equal(labels, previous):
                converged = True
                break
            new_centres = [c.copy() for c in centres]
            new_presence = presence.copy()
            for m in range(obs.shape[1]):
                members = np.bincount(labels[obs[:, m]], minlength=k)
                has = members > 0
                new_centres[m][has] = (
                    sums[m][has] / members[has, None] - mean[m]
                ) / scale[m]
                new_presence[has, m] = True
            shift = centre_shift(centres, presence, new_centres, new_presence)
            centres, presence, previous = new_centres, new_presence, labels
            if shift <= self.tol:
                break
        if not converged:
            geometry = CentreGeometry(centres, presence, mean, scale, lloyd.dtypes)
            labels, _ = lloyd.assign(geometry, sums=False)
        return centres, presence, labels, lloyd.inertia(geometry), n_iter

    _accepts_dask = True

    @fit_context()
    def fit(self, X, y=None):
        """Cluster the samples.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            Training data; a missing modality is a whole row of NaN. Every sample needs
            at least one modality and every modality at least one sample.
        y : ignored

        Returns
        -------
        self
        """
        X, _ = self._validate_multimodal(X, reset=True, allow_empty_samples=False)
        return self._fit_validated(X, X._validated_observed())

    def _fit_validated(self, X, obs):
        """:meth:`fit` on ``X`` validated by this estimator (or one with the same
        parameters that recorded the same input), whose observed mask is ``obs``."""
        k, n_init = self._check_params_vs_input(X)
        if not isinstance(self.init, str) and n_init > 1:
            warnings.warn(
                "Explicit initial centres passed: performing only one init instead of "
                f"n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        rng = check_random_state(self.random_state)
        if X.lazy:
            lloyd, seed = self._blocks_passes(X, obs, rng)
        else:
            lloyd, seed = self._in_memory_passes(X, obs)
        best = None
        with Threads() as threads:
            for _ in range(n_init):
                if isinstance(self.init, str):
                    centres, presence = seed(rng, threads)
                else:
                    centres, presence = self._initial_centres()
                if self.verbose:
                    print("Initialization complete.")
                run = self._run(lloyd.using(threads), obs, centres, presence)
                if best is None or run[3] < best[3]:
                    best = run
        centres, presence, labels, inertia, n_iter = best
        self.cluster_presence_ = presence
        self.standardized_centers_ = MultiModalData({
            name: np.where(presence[:, m, None], centres[m], np.nan)
            for m, name in enumerate(self.modalities_)
        })
        self.cluster_centers_ = self._centres_in_input_space()
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self._n_features_out = k
        n_distinct = np.unique(labels).size
        if n_distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({k}): some clusters ended empty and kept their previous "
                "centre (duplicate points in X or too many clusters).",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _in_memory_passes(self, X, obs):
        """Set the statistics and units of the validated in-memory ``X``; return
        its Lloyd passes and its k-means++ seeding ``seed(rng, threads)``."""
        arrays = [X[m] for m in self.modalities_]
        # Features too large to square are divided by a power of two (a working copy
        # of their modality, whose statistics are then taken again); the 1e-8 added to
        # the deviations stays 1e-8 in input units. The first statistics pass also
        # bounds the magnitudes (|x - mean| <= sqrt of the sum of squared deviations);
        # only a modality whose bound comes near the limit (or overflows) takes the
        # exact max_abs pass.
        with np.errstate(over="ignore", invalid="ignore"):
            moments = modality_moments(arrays, obs)
        units = [
            1.0 if np.all(_bound(mo) <= dtype_limit(a.dtype) / 2)
            else power_of_two_scale(max_abs(a, axis=0), dtype_limit(a.dtype))
            for mo, a in zip(moments, arrays)
        ]
        arrays = [unscaled(a, u) for a, u in zip(arrays, units)]
        again = [m for m, u in enumerate(units) if not is_unit(u)]
        if again:
            redone = modality_moments([arrays[m] for m in again], obs[:, again])
            for m, mo in zip(again, redone):
                moments[m] = mo
        self._set_stats(moments, units)
        norms = functools.cache(lambda: stacked_norms(arrays, obs, *self._stats()))
        k, trials = int(self.n_clusters), self._n_trials()

        def seed(rng, threads):
            return kmeans_plusplus(arrays, obs, norms(), *self._stats(), k, trials, rng,
                                   threads)

        return _InMemoryLloyd(arrays, obs, norms), seed

    def _blocks_passes(self, X, obs, rng):
        """:meth:`_in_memory_passes` for the lazy ``X``: passes over its row blocks,
        and k-means++ on :func:`~._partial_kmeans_blocks.seeding_sample`."""
        units = [1.0] * len(self.modalities_)
        with np.errstate(over="ignore", invalid="ignore"):
            moments = block_moments(X, obs, units)
        limits = [dtype_limit(a.dtype) / 2 for a in X.values()]
        if not all(np.all(_bound(mo) <= t) for mo, t in zip(moments, limits)):
            units = [
                1.0 if np.all(_bound(mo) <= t) else power_of_two_scale(size, 2 * t)
                for mo, t, size in zip(moments, limits, block_max_abs(X, obs))
            ]
            moments = block_moments(X, obs, units)
        self._set_stats(moments, units)
        k, trials = int(self.n_clusters), self._n_trials()
        sample = None

        def seed(rng, threads):
            nonlocal sample
            if sample is None:
                arrays, sample_obs = seeding_sample(X, obs, units, rng,
                                                    max(SEEDING_ROWS, 10 * k))
                norms = stacked_norms(arrays, sample_obs, *self._stats())
                sample = arrays, sample_obs, norms
            return kmeans_plusplus(*sample, *self._stats(), k, trials, rng, threads)

        return BlockLloyd(X, obs, units, *self._stats()), seed

    def _set_stats(self, moments, units):
        """``mean_``, ``scale_`` (input units) and the units from the moments of the
        working data (``std + 1e-8`` in input units)."""
        eps = [_STD_EPS if is_unit(u) else _STD_EPS / u for u in units]
        means, scales = modality_stats(None, None, eps, moments=moments)
        self._input_scale = dict(zip(self.modalities_, units))
        self.mean_, self.scale_ = {}, {}
        for m, mean, scale, u in zip(self.modalities_, means, scales, units):
            self.mean_[m] = mean if is_unit(u) else mean * u
            self.scale_[m] = scale if is_unit(u) else scale * u

    def _stats(self):
        """Per-modality mean and scale in working units (input units over the
        features' powers of two, which are 1 for ordinary data)."""
        units = [self._input_scale[m] for m in self.modalities_]
        return (
            [unscaled(self.mean_[m], u) for m, u in zip(self.modalities_, units)],
            [unscaled(self.scale_[m], u) for m, u in zip(self.modalities_, units)],
        )

    def _working(self, arrays):
        """Input arrays (or chunks) divided by their features' powers of two."""
        return [
            unscaled(a, self._input_scale[m]) for m, a in zip(self.modalities_, arrays)
        ]

    def _centres_in_input_space(self):
        mean, scale = self._stats()
        centres = {}
        for m, name in enumerate(self.modalities_):
            c = self.standardized_centers_[name] * scale[m] + mean[m]
            if not is_unit(self._input_scale[name]):
                c = c * self._input_scale[name]
            centres[name] = np.where(self.cluster_presence_[:, m, None], c, np.nan)
        return MultiModalData(centres)

    # --- distances to the fitted centres ----------------------------------------------
    def map_distance_tables(self, X, func, *, observed=None, rank=False):
        """Call ``func`` on the partial-distance tables of chunks of ``X``.

        The building block of :meth:`predict`, :meth:`transform` and :meth:`score`,
        for code built on the fitted clustering (such as
        :class:`~skmm.impute.PartialModalityKMeansImputer`): for each chunk of rows,
        ``func(rows, observed, sums, counts)`` gets the two tables from which every
        partial distance to the centres follows, ``d(i, j)**2 = sums[i, j] /
        counts[i, j]`` (infinite where ``counts`` is 0), without forming ``n_samples x
        n_clusters`` arrays at once. Chunks run in threads (as many as BLAS is
        allowed), so ``func`` may be called concurrently for different chunks; it may
        write into the rows of its own chunk.

        Parameters
        ----------
        X : MultiModalData
            Validated data with the fitted modalities, in the fitted order and widths,
            as :func:`skmm.utils.check_multimodal` returns with
            ``modalities=self.modalities_`` and
            ``n_features=self.n_features_per_modality_``. It is not validated again.
        func : callable
            Called as ``func(rows, observed, sums, counts)`` for each chunk:

            - ``rows``: slice of the chunk's rows in ``X``;
            - ``observed``: ndarray of shape (n_chunk, n_modalities), the chunk's
              rows of ``observed``;
            - ``sums``: float64 ndarray of shape (n_chunk, n_clusters),
              ``sum over m in S_ij of ||z_i^m - c_j^m||**2 / d_m`` over the
              modalities ``S_ij`` that sample ``i`` and centre ``j`` share, in
              standardised units (centres :attr:`standardized_centers_`);
            - ``counts``: ndarray of shape (n_chunk, n_clusters), ``|S_ij|``, or None
              when every centre has every modality (``|S_ij|`` is then the number
              of modalities sample ``i`` observes).
        observed : ndarray of shape (n_samples, n_modalities), dtype bool, default=None
            Which modalities each sample of ``X`` observes, when the caller has it
            (``X.observed`` otherwise).
        rank : bool, default=False
            When every centre has every modality, pass as ``sums`` only scores that
            rank the centres of each row as the distances do (the sums less their
            terms ``||z_i^m||**2 / d_m``, the same for every centre), which are
            cheaper, and ``counts=None``. Ignored when some centre lacks a modality.

        Returns
        -------
        list
            What ``func`` returned for each chunk, in row order.

        Raises
        ------
        ValueError
            For samples whose squared partial distances overflow float64 (values
            about ``1e154`` standard deviations out), naming their rows.
        """
        check_is_fitted(self, "standardized_centers_")
        if not isinstance(X, MultiModalData) or (
            tuple(X.n_features.items()) != tuple(self.n_features_per_modality_.items())
        ):
            raise ValueError(
                "map_distance_tables takes a MultiModalData with the fitted modalities "
                f"and widths {self.n_features_per_modality_}, as check_multimodal "
                "returns."
            )
        arrays = [X[m] for m in self.modalities_]
        obs = X._validated_observed() if observed is None else observed
        mean, scale = self._stats()
        geometry = self._geometry([a.dtype for a in arrays])
        n = X.n_samples
        rank = rank and geometry.full
        bounds = norm_bounds(mean, scale)

        def exact(chunk, obs_c, index):
            """Tables of the chunk rows, redone in float64 or raising on overflow."""
            with np.errstate(over="ignore", invalid="ignore"):
                stacked = stacked_norms(chunk, obs_c, mean, scale)
                num, count = geometry.tables(chunk, obs_c, stacked)
            bad = overflowed(stacked, num)
            if bad.any():
                self._recompute_in_float64(
                    chunk, obs_c, stacked, num, count, bad, index
                )
            return num, count

        def ranking(chunk, obs_c, index):
            with np.errstate(over="ignore", invalid="ignore"):
                num = geometry.scores(chunk, obs_c)
            # Rows far out (or overflowing) get the tables, and the overflow checks.
            far = far_rows(chunk, obs_c, num, bounds)
            if far.size:
                num[far] = exact(
                    [a[far] for a in chunk], obs_c[far], index[far]
                )[0]
            return num

        def work(chunks):
            out = []
            for sl in chunks:
                chunk, obs_c = self._working([a[sl] for a in arrays]), obs[sl]
                index = np.arange(sl.start, sl.stop)
                if rank:
                    out.append(func(sl, obs_c, ranking(chunk, obs_c, index), None))
                else:
                    out.append(func(sl, obs_c, *exact(chunk, obs_c, index)))
            return out

        with Threads() as threads:
            # larger chunks than the Lloyd passes: fewer rounds of per-pattern work
            results = threads.map(work, n, table_rows(n, self.n_clusters, 4))
        return [r for group in results for r in group]

    def _geometry(self, dtypes):
        mean, scale = self._stats()
        centres = [self.standardized_centers_[m] for m in self.modalities_]
        return CentreGeometry(centres, self.cluster_presence_, mean, scale, dtypes)

    def _recompute_in_float64(self, chunk, obs, stacked, num, count, bad, index):
        """Redo overflowed rows of a chunk's tables in float64, in place, or raise.

        ``index`` holds the row numbers (in ``X``) of the chunk's rows.

        float32 products overflow for values far outside the training range whose
        float64 products do not; rows whose squared norms overflow float64 raise.
        """
        rows = np.flatnonzero(bad)
        if any(a.dtype != np.float64 for a in chunk):
            geometry = self._geometry([np.float64] * len(chunk))
            with np.errstate(over="ignore", invalid="ignore"):
                num[rows], redone = geometry.tables(
                    [a[rows].astype(np.float64) for a in chunk], obs[rows], stacked[rows]
                )
                if count is not None:
                    count[rows] = redone
            rows = rows[overflowed(stacked[rows], num[rows])]
        if rows.size:
            raise self._far_rows_error(
                stacked[rows, : obs.shape[1]], index[rows],
                "their squared partial distances to the centres overflow float64",
            )

    def _far_rows_error(self, norms, rows, consequence):
        """ValueError naming ``rows`` and the modality of each with the largest
        standardised squared norm in ``norms``."""
        return far_rows_error(
            type(self).__name__, self.modalities_, norms, rows, consequence
        )

    def _norms(self, X, rows):
        """Standardised squared norms ``||z||**2 / d`` of ``rows`` of validated ``X``."""
        mean, scale = self._stats()
        chunk = self._working([X[m][rows] for m in self.modalities_])
        with np.errstate(over="ignore", invalid="ignore"):
            return stacked_norms(chunk, X.observed[rows], mean, scale)[
                :, : len(self.modalities_)
            ]

    def _map_squared(self, X, func, rank=False):
        """Like :meth:`map_distance_tables` with ``func(rows, observed, squared
        distances)``.

        With ``rank`` and every centre complete, ``func`` gets the scores that only
        rank the centres of each row (see :meth:`map_distance_tables`) instead.
        """
        geometry = self._geometry([X[m].dtype for m in self.modalities_])

        def squared(sl, obs, num, count):
            if not (rank and geometry.full):
                num = geometry.squared(num, count, obs)
            return func(sl, obs, num)

        return self.map_distance_tables(X, squared, rank=rank)

    def predict(self, X):
        """Index of the closest centre for each sample (``-1`` for a sample with none).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "standardized_centers_")
        X, _ = self._validate_multimodal(X, reset=False)
        if X.lazy:
            return self._lazy(lambda block, _: self.predict(block), X, None, np.intp)
        labels = np.empty(X.n_samples, dtype=np.intp)

        def assign(sl, obs, d2):
            labels[sl] = np.where(obs.any(axis=1), d2.argmin(axis=1), -1)

        self._map_squared(X, assign, rank=True)
        return labels

    @fit_context()
    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X).labels_

    def transform(self, X):
        """Partial-modality distances to every centre (``inf`` where none is shared).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            float32 when every modality of ``X`` is float32, float64 otherwise.
        """
        check_is_fitted(self, "standardized_centers_")
        X, _ = self._validate_multimodal(X, reset=False)
        # float32 when every modality is float32 (as KMeans.transform), else float64
        dtype = np.result_type(np.float32, *(X[m].dtype for m in self.modalities_))
        if X.lazy:
            return self._lazy(lambda block, _: self.transform(block), X,
                              self.n_clusters, dtype)
        out = np.empty((X.n_samples, self.n_clusters), dtype=dtype)
        # squared distances above this do not fit the output dtype once rooted
        top = float(np.finfo(dtype).max) ** 2 if dtype == np.float32 else np.inf
        too_far = []

        def write(sl, obs, d2):
            if top < np.inf:
                big = (d2 > top) & np.isfinite(d2)
                if big.any():
                    too_far.append(sl.start + np.flatnonzero(big.any(axis=1)))
                    d2 = np.where(big, 0.0, d2)
            np.sqrt(d2, out=out[sl])

        self._map_squared(X, write)
        if too_far:
            rows = np.sort(np.concatenate(too_far))
            raise self._far_rows_error(
                self._norms(X, rows), rows,
                f"their distances to the centres exceed the {dtype.name} range of the "
                "output (pass float64 data)",
            )
        return out

    def score(self, X, y=None):
        """Opposite of the inertia of ``X`` on the fitted centres.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            Every sample needs at least one modality.
        y : ignored

        Returns
        -------
        float
            Minus the sum of squared partial distances to the closest centres.
        """
        check_is_fitted(self, "standardized_centers_")
        X, _ = self._validate_multimodal(X, reset=False, allow_empty_samples=False)
        if X.lazy:  # each block's squared distances to its closest centres
            closest = self._lazy(lambda block, _: self._closest_squared(block), X, None,
                                 np.float64, allow_empty_samples=False).compute()
        else:
            closest = self._closest_squared(X)
        total = float(closest.sum())
        if not np.isfinite(total):  # each term is finite; their sum overflowed
            rows = np.flatnonzero(closest > np.finfo(np.float64).max / closest.size)
            X = X[rows]
            X = MultiModalData({m: np.asarray(a) for m, a in X.items()})  # computed
            raise self._far_rows_error(
                self._norms(X, slice(None)), rows, "the inertia of X overflows float64"
            )
        return -total

    def _closest_squared(self, X):
        """Squared partial distance of each sample of validated ``X`` to its closest
        centre."""
        closest = np.empty(X.n_samples)

        def nearest(sl, obs, d2):
            closest[sl] = d2.min(axis=1)

        self._map_squared(X, nearest)
        return closest

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _bound(moments):
    """``|mean| + sqrt(sum of squared deviations)``, which bounds each feature's
    magnitude (``inf`` or NaN when the sums overflowed)."""
    _, mean, sq = moments
    return np.abs(mean) + np.sqrt(sq)


class _InMemoryLloyd:
    """The Lloyd passes of :class:`PartialModalityKMeans` over in-memory arrays (in
    working units), in threads; members' sums are updated by the rows that moved."""

    def __init__(self, arrays, obs, norms, threads=None):
        self.arrays, self.obs, self.norms, self.threads = arrays, obs, norms, threads
        self.dtypes = [a.dtype for a in arrays]
        self._group_sums, self._closest = {}, None

    def using(self, threads):
        """A fresh copy (no sums kept) running in ``threads``."""
        return _InMemoryLloyd(self.arrays, self.obs, self.norms, threads)

    def assign(self, geometry, previous=None, sums=True):
        groups = self._group_sums if sums else None
        labels, self._closest = lloyd_pass(
            self.arrays, self.obs, self.norms, geometry, self.threads, groups, previous
        )
        if not sums:
            return labels, None
        return labels, [sum(group[m] for group in self._group_sums.values())
                        for m in range(len(self.arrays))]

    def inertia(self, geometry):
        return float(closest_distances(self._closest, geometry, self.obs,
                                       self.norms).sum())
