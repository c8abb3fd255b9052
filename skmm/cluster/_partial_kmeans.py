"""Partial-modality k-means: k-means where samples and centres may lack modalities.

The partial distance between a sample ``i`` and a centre ``j`` averages per-modality
squared distances over the modalities both have, each divided by its width::

    d(i, j)**2 = mean over m in S_ij of ||z_i^m - c_j^m||**2 / d_m

(infinite when ``S_ij`` is empty), in a per-modality standardised space ``z``. Distances
to all centres are computed in chunks of samples with one matrix product per modality
(``||z||**2 - 2 z.c + ||c||**2``, folded so the raw input is never copied or
standardised as a whole), masked by which modalities each sample and centre have.

A feature whose values are too large to square safely (above 2**400 in float64, 2**60
in float32, which is also summed in float32) is divided by an exact power of two at
:meth:`~PartialModalityKMeans.fit` (a working copy of its modality; see
:mod:`._scaling`), so the clustering equals that of the rescaled data and the fitted
attributes are in input units. Rows whose partial distances still overflow at
inference raise a ValueError naming them.
"""

import functools
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from scipy.linalg.blas import dgemm
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from .._data import MultiModalData
from ..base import MultiModalMixin, MultiModalTransformerMixin, fit_atomically
from ..utils._validation import (
    _first_rows,
    check_multimodal,
    check_option_param,
    check_random_state_param,
    check_scalar_param,
    check_verbose_param,
)
from ..utils._scaling import (
    dtype_limit,
    far_rows_error,
    is_unit,
    max_abs,
    power_of_two_scale,
)

__all__ = ["PartialModalityKMeans"]

# Added to each feature's standard deviation (the specification's 1e-8).
_STD_EPS = 1e-8
# Chunk sizes: at most this many (sample, centre) entries per distance table and
# this many input values per standardisation temporary.
_TABLE_ENTRIES = 2**16
_INPUT_ENTRIES = 2**16


def _chunk_rows(n_samples, n_entries_per_row, budget):
    return int(max(1, min(n_samples, budget // max(1, n_entries_per_row))))


class _Threads:
    """Threads over chunks of rows, with BLAS single-threaded inside each.

    One thread per BLAS thread the user allows (so ``threadpoolctl`` limits and the
    usual environment variables apply), as scikit-learn's KMeans does with OpenMP.
    Use as a context manager around one public call.
    """

    def __enter__(self):
        controller = ThreadpoolController()
        blas = controller.select(user_api="blas")
        self.n_threads = max([info["num_threads"] for info in blas.info()], default=1)
        self._limiter = controller.limit(limits=1, user_api="blas")
        self._pool = ThreadPoolExecutor(self.n_threads) if self.n_threads > 1 else None
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
        self._limiter.restore_original_limits()

    def map(self, work, n_samples, step):
        """``work(list of row slices)`` on contiguous groups of chunks, in row order."""
        step = max(1, min(step, -(-n_samples // self.n_threads)))
        chunks = list(gen_batches(n_samples, step))
        n_groups = min(self.n_threads, len(chunks))
        bounds = np.linspace(0, len(chunks), n_groups + 1).round().astype(int)
        groups = [chunks[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        if n_groups == 1:
            return [work(groups[0])]
        return list(self._pool.map(work, groups))


class _CentreGeometry:
    """The terms of the partial squared distance to one fixed set of partial centres.

    For a sample with standardised modality ``z = (x - mean) / scale`` and a centre
    ``c``, ``||z - c||**2 / d = zz + x @ coef + offset`` with ``zz = ||z||**2 / d``,
    ``coef = -2 c / (scale d)`` and ``offset = (||c||**2 + 2 mean @ (c / scale)) / d``;
    the product works on the raw input, so nothing of size ``n x d`` is copied.

    Parameters
    ----------
    centers : list of ndarray of shape (n_centres, d_m)
        Standardised centres, one array per modality (rows of absent modalities are
        ignored).
    presence : ndarray of shape (n_centres, n_modalities), dtype bool
    mean, scale : list of ndarray of shape (d_m,)
    dtypes : list of dtype
        Dtype of each modality's input, used for the matrix products.
    """

    def __init__(self, centers, presence, mean, scale, dtypes):
        n_modalities = presence.shape[1]
        present = presence.astype(np.float64)
        offset = np.zeros(presence.shape)
        self.coef = []
        for m in range(n_modalities):
            c = centers[m]
            d = c.shape[1]
            a = np.where(presence[:, m, None], c / scale[m], 0.0)
            self.coef.append(np.ascontiguousarray((-2.0 / d) * a.T, dtype=dtypes[m]))
            sq = np.where(presence[:, m], np.einsum("ij,ij->i", c, c), 0.0)
            offset[:, m] = (sq + 2.0 * (a @ mean[m])) / d
        self.presence = presence
        self.full = bool(presence.all())
        # obs @ offsets gives the offset terms, (obs * zz) @ counts the zz terms and
        # obs @ counts the sizes.
        self.offsets = (present * offset).T
        self.counts = present.T

    def scores(self, arrays, obs):
        """The partial distance sums of :meth:`tables` less their ``zz`` terms.

        When every centre has every modality the ``zz`` terms of a sample are the same
        for every centre, so these scores rank the centres as the distances do.
        """
        num = obs.astype(np.float64) @ self.offsets
        for m, x in enumerate(arrays):
            observed = obs[:, m]
            if observed.all():
                if x.dtype == np.float64:
                    # num += x @ coef in place (the transposes are contiguous views)
                    dgemm(1.0, self.coef[m].T, x.T, 1.0, num.T, overwrite_c=True)
                else:
                    num += x @ self.coef[m]
            elif observed.any():
                # the observed rows only: fewer flops, and no NaN rows to mask
                rows = np.flatnonzero(observed)
                num[rows] += x.take(rows, axis=0) @ self.coef[m]
        return num

    def tables(self, arrays, obs, stacked):
        """Sums and counts of per-modality terms for one chunk of samples.

        Parameters
        ----------
        arrays : list of ndarray of shape (n_chunk, d_m)
            Raw input rows (NaN rows where a modality is missing).
        obs : ndarray of shape (n_chunk, n_modalities), dtype bool
        stacked : ndarray of shape (n_chunk, 2 * n_modalities)
            ``[obs * zz, obs]`` as floats (see :func:`_stacked_norms`).

        Returns
        -------
        num : ndarray of shape (n_chunk, n_centres)
            ``sum over m in S_ij of ||z_i^m - c_j^m||**2 / d_m``.
        count : ndarray of shape (n_chunk, n_centres) or None
            ``|S_ij|``, the number of modalities sample and centre share; None when
            every centre has every modality (``|S_ij|`` is then the number of
            modalities of sample ``i``).
        """
        n_modalities = obs.shape[1]
        num = self.scores(arrays, obs)
        num += stacked[:, :n_modalities] @ self.counts
        count = None if self.full else stacked[:, n_modalities:] @ self.counts
        return num, count

    def squared(self, num, count, obs):
        """Turn :meth:`tables` into squared partial distances, in place in ``num``."""
        if self.full:
            # Every centre has every modality: |S_ij| is the number of modalities of i.
            size = obs.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                num /= size[:, None]
            num[size == 0] = np.inf
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                num /= count
            num[count == 0] = np.inf
        np.maximum(num, 0.0, out=num)
        return num


def _stacked_norms(arrays, obs, mean, scale):
    """``[obs * ||z||**2 / d, obs]`` per modality, shape (n, 2 M)."""
    n, n_modalities = obs.shape
    out = np.zeros((n, 2 * n_modalities))
    out[:, n_modalities:] = obs
    for m, a in enumerate(arrays):
        d = a.shape[1]
        inverse = 1.0 / scale[m]
        for sl in gen_batches(n, _chunk_rows(n, d, _INPUT_ENTRIES)):
            z = a[sl] - mean[m]
            z *= inverse
            out[sl, m] = np.einsum("ij,ij->i", z, z)
        out[:, m] /= d
        out[~obs[:, m], m] = 0.0
    return out


def _modality_stats(arrays, obs, eps, bounds=None):
    """Per-feature mean and ``std + eps[m]`` of each modality over its observed rows.

    One pass over the data: the means and sums of squared deviations of chunks of
    rows are merged as in Chan, Golub and LeVeque's pairwise update. A list given as
    ``bounds`` receives, per modality, ``|mean| + sqrt(sum of squared deviations)``,
    which bounds each feature's magnitude (``inf`` or NaN when the sums overflow).
    """
    means, scales = [], []
    for m, a in enumerate(arrays):
        n, d = a.shape
        o = obs[:, m]
        every = bool(o.all())
        count, mean, sq = 0, np.zeros(d), np.zeros(d)
        for sl in gen_batches(n, _chunk_rows(n, d, _INPUT_ENTRIES)):
            rows = a[sl] if every else a[sl][o[sl]]
            size = rows.shape[0]
            if size == 0:
                continue
            chunk_mean = rows.sum(axis=0, dtype=np.float64) / size
            deviation = rows - chunk_mean
            chunk_sq = np.einsum("ij,ij->j", deviation, deviation)
            delta = chunk_mean - mean
            total = count + size
            mean += delta * (size / total)
            sq += chunk_sq + delta**2 * (count * size / total)
            count = total
        means.append(mean)
        scales.append(np.sqrt(sq / count) + eps[m])
        if bounds is not None:
            bounds.append(np.abs(mean) + np.sqrt(sq))
    return means, scales


class PartialModalityKMeans(
    MultiModalMixin, ClassNamePrefixFeaturesOutMixin, MultiModalTransformerMixin,
    ClusterMixin, BaseEstimator,
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

    # --- fitting -----------------------------------------------------------------------
    def _check_params(self):
        """Check the data-independent parameters; return ``(k, n_init)``."""
        check_scalar_param(self.n_clusters, "n_clusters", int, low=1)
        if isinstance(self.n_init, str) and self.n_init == "auto":
            n_init = 1
        else:
            check_scalar_param(self.n_init, "n_init", int, low=1)
            n_init = int(self.n_init)
        check_scalar_param(self.max_iter, "max_iter", int, low=1)
        check_scalar_param(self.tol, "tol", float, low=0)
        check_verbose_param(self.verbose)
        check_random_state_param(self.random_state)
        if isinstance(self.init, str):
            check_option_param(self.init, "init", ("k-means++",))
        if self.n_local_trials is not None:
            check_scalar_param(self.n_local_trials, "n_local_trials", int, low=1)
        return int(self.n_clusters), n_init

    def _n_trials(self):
        """``n_local_trials`` with ``None`` resolved as in scikit-learn."""
        if self.n_local_trials is None:
            return 2 + int(np.log(self.n_clusters))
        return int(self.n_local_trials)

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

    def _kmeans_plusplus(self, arrays, obs, stacked, rng, threads):
        """k-means++ seeding on the partial distance (see ``init`` and
        ``n_local_trials``)."""
        n = obs.shape[0]
        k = self.n_clusters
        n_trials = self._n_trials()
        mean, scale = self._stats()
        dtypes = [a.dtype for a in arrays]
        centres = [np.zeros((k, a.shape[1])) for a in arrays]
        presence = np.zeros((k, len(arrays)), dtype=bool)
        closest = np.full(n, np.inf)
        step = _chunk_rows(n, 1, _TABLE_ENTRIES)
        for j in range(k):
            if j == 0:
                seed = rng.randint(n)
            else:
                candidates = _draw_candidates(closest, n_trials, rng)
                if candidates.size == 1:
                    seed = candidates[0]
                else:
                    seed = self._best_candidate(
                        arrays, obs, stacked, candidates, closest, threads
                    )
            presence[j] = obs[seed]
            for m, a in enumerate(arrays):
                if obs[seed, m]:
                    centres[m][j] = (a[seed] - mean[m]) / scale[m]
            geometry = _CentreGeometry(
                [c[j:j + 1] for c in centres], presence[j:j + 1], mean, scale, dtypes
            )

            def work(chunks):
                for sl in chunks:
                    num, count = geometry.tables(
                        [a[sl] for a in arrays], obs[sl], stacked[sl]
                    )
                    d2 = geometry.squared(num, count, obs[sl])[:, 0]
                    np.minimum(closest[sl], d2, out=closest[sl])

            threads.map(work, n, step)
            closest[seed] = 0.0
        return centres, presence

    def _best_candidate(self, arrays, obs, stacked, candidates, closest, threads):
        """The candidate seed (sample index) of greedy k-means++ that leaves the lowest
        potential.

        The potential of candidate ``c`` is ``(number of samples with
        min(closest, d2(., c)) infinite, sum of the finite ones)``, compared in that
        order (ties: the first candidate); a candidate is at distance 0 from itself,
        as a chosen centre is. All candidates are measured in one pass, as centres of
        one :class:`_CentreGeometry`; ``closest`` is left unchanged.
        """
        n = obs.shape[0]
        t = candidates.size
        mean, scale = self._stats()
        centres = [
            np.where(
                obs[candidates, m, None], (a[candidates] - mean[m]) / scale[m], 0.0
            )
            for m, a in enumerate(arrays)
        ]
        geometry = _CentreGeometry(
            centres, obs[candidates], mean, scale, [a.dtype for a in arrays]
        )
        columns = np.arange(t)

        def work(chunks):
            n_far, total = np.zeros(t, dtype=np.intp), np.zeros(t)
            for sl in chunks:
                num, count = geometry.tables([a[sl] for a in arrays], obs[sl], stacked[sl])
                d2 = geometry.squared(num, count, obs[sl])
                own = (candidates >= sl.start) & (candidates < sl.stop)
                d2[candidates[own] - sl.start, columns[own]] = 0.0
                np.minimum(d2, closest[sl, None], out=d2)
                far = np.isinf(d2)
                n_far += far.sum(axis=0)
                d2[far] = 0.0
                total += d2.sum(axis=0)
            return n_far, total

        results = threads.map(work, n, _chunk_rows(n, t, _TABLE_ENTRIES))
        n_far = sum(r[0] for r in results)
        total = sum(r[1] for r in results)
        fewest = n_far == n_far.min()
        return candidates[np.flatnonzero(fewest)[np.argmin(total[fewest])]]

    def _lloyd_pass(self, arrays, obs, norms, geometry, threads, sums=None,
                    previous=None):
        """Assign every sample; optionally update members' input sums.

        Returns the labels and each sample's :meth:`_CentreGeometry.scores` at its
        centre when every centre has every modality, else its squared partial
        distance (see :func:`_closest_distances`). ``norms()`` gives the stacked
        norms, computed only when partial centres need them. ``sums``, when given, maps
        each group of chunks (by its first row) to its per-modality sums of members'
        input, kept from the pass that gave ``previous`` (see
        :func:`_add_member_sums`); it is updated in place.
        """
        n = obs.shape[0]
        k = geometry.presence.shape[0]
        labels = np.empty(n, dtype=np.intp)
        closest = np.empty(n)
        stacked = None if geometry.full else norms()

        def work(chunks):
            for sl in chunks:
                obs_c = obs[sl]
                chunk = [a[sl] for a in arrays]
                if geometry.full:
                    # The zz terms do not depend on the centre: the scores rank them.
                    num = geometry.scores(chunk, obs_c)
                else:
                    num = geometry.squared(
                        *geometry.tables(chunk, obs_c, stacked[sl]), obs_c
                    )
                best = num.argmin(axis=1)
                labels[sl] = best
                closest[sl] = num[np.arange(best.size), best]
            if sums is not None:  # sparse products for the whole group of chunks
                rows = slice(chunks[0].start, chunks[-1].stop)
                group = sums.setdefault(
                    rows.start, [np.zeros((k, a.shape[1])) for a in arrays]
                )
                _add_member_sums(
                    group, labels[rows], obs[rows], [a[rows] for a in arrays],
                    None if previous is None else previous[rows],
                )

        threads.map(work, n, _chunk_rows(n, k, _TABLE_ENTRIES))
        return labels, closest

    def _run(self, arrays, obs, norms, centres, presence, threads):
        """Lloyd iterations from one initialisation; returns the fitted run."""
        mean, scale = self._stats()
        dtypes = [a.dtype for a in arrays]
        k = presence.shape[0]
        previous = None
        converged = False
        group_sums = {}
        for n_iter in range(1, self.max_iter + 1):
            geometry = _CentreGeometry(centres, presence, mean, scale, dtypes)
            labels, closest = self._lloyd_pass(
                arrays, obs, norms, geometry, threads, group_sums, previous
            )
            sums = [sum(group[m] for group in group_sums.values())
                    for m in range(len(arrays))]
            if self.verbose:
                inertia = _closest_distances(closest, geometry, obs, norms).sum()
                print(f"Iteration {n_iter}, inertia {inertia:.6g}.")
            if previous is not None and np.array_equal(labels, previous):
                converged = True
                break
            new_centres = [c.copy() for c in centres]
            new_presence = presence.copy()
            for m in range(len(arrays)):
                members = np.bincount(labels[obs[:, m]], minlength=k)
                has = members > 0
                new_centres[m][has] = (
                    sums[m][has] / members[has, None] - mean[m]
                ) / scale[m]
                new_presence[has, m] = True
            shift = _centre_shift(centres, presence, new_centres, new_presence)
            centres, presence, previous = new_centres, new_presence, labels
            if shift <= self.tol:
                break
        if not converged:
            geometry = _CentreGeometry(centres, presence, mean, scale, dtypes)
            labels, closest = self._lloyd_pass(arrays, obs, norms, geometry, threads)
        distances = _closest_distances(closest, geometry, obs, norms)
        return centres, presence, labels, float(distances.sum()), n_iter

    @fit_atomically
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
        k, n_init = self._check_params()
        X, _ = self._validate_multimodal(X, reset=True, allow_empty_samples=False)
        self._check_n_clusters(k, X.n_samples)
        if self.n_local_trials is not None and self.n_local_trials > X.n_samples:
            raise ValueError(
                f"n_local_trials={self.n_local_trials} exceeds the {X.n_samples} training "
                "samples: more candidates per centre than samples cannot help (and each "
                "costs a pass over the data)."
            )
        if not isinstance(self.init, str) and n_init > 1:
            warnings.warn(
                "Explicit initial centres passed: performing only one init instead of "
                f"n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        arrays = [X[m] for m in self.modalities_]
        obs = X._validated_observed()
        # Features too large to square are divided by a power of two (a working copy
        # of their modality, whose statistics are then taken again); the 1e-8 added to
        # the deviations stays 1e-8 in input units. The first statistics pass also
        # bounds the magnitudes (|x - mean| <= sqrt of the sum of squared deviations);
        # only a modality whose bound comes near the limit (or overflows) takes the
        # exact max_abs pass.
        bounds = []
        with np.errstate(over="ignore", invalid="ignore"):
            means, scales = _modality_stats(
                arrays, obs, [_STD_EPS] * len(arrays), bounds
            )
        units = [
            1.0 if np.all(b <= dtype_limit(a.dtype) / 2)
            else power_of_two_scale(max_abs(a, axis=0), dtype_limit(a.dtype))
            for b, a in zip(bounds, arrays)
        ]
        self._input_scale = dict(zip(self.modalities_, units))
        arrays = self._working(arrays)
        again = [m for m, u in enumerate(units) if not is_unit(u)]
        if again:
            redone = _modality_stats(
                [arrays[m] for m in again], obs[:, again],
                [_STD_EPS / units[m] for m in again],
            )
            for m, mean, scale in zip(again, *redone):
                means[m], scales[m] = mean, scale
        self.mean_, self.scale_ = {}, {}
        for m, mean, scale, u in zip(self.modalities_, means, scales, units):
            self.mean_[m] = mean if is_unit(u) else mean * u
            self.scale_[m] = scale if is_unit(u) else scale * u
        norms = functools.cache(lambda: _stacked_norms(arrays, obs, means, scales))
        rng = check_random_state_param(self.random_state)
        best = None
        with _Threads() as threads:
            for _ in range(n_init):
                if isinstance(self.init, str):
                    centres, presence = self._kmeans_plusplus(
                        arrays, obs, norms(), rng, threads
                    )
                else:
                    centres, presence = self._initial_centres()
                if self.verbose:
                    print("Initialization complete.")
                run = self._run(arrays, obs, norms, centres, presence, threads)
                if best is None or run[3] < best[3]:
                    best = run
        centres, presence, labels, inertia, n_iter = best
        self._z_centers = centres
        self._presence = presence
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

    def _stats(self):
        """Per-modality mean and scale in working units (input units over the
        features' powers of two, which are 1 for ordinary data)."""
        units = [self._input_scale[m] for m in self.modalities_]
        return (
            [_unscaled(self.mean_[m], u) for m, u in zip(self.modalities_, units)],
            [_unscaled(self.scale_[m], u) for m, u in zip(self.modalities_, units)],
        )

    def _working(self, arrays):
        """Input arrays (or chunks) divided by their features' powers of two."""
        return [
            _unscaled(a, self._input_scale[m]) for m, a in zip(self.modalities_, arrays)
        ]

    def _centres_in_input_space(self):
        mean, scale = self._stats()
        centres = {}
        for m, name in enumerate(self.modalities_):
            c = self._z_centers[m] * scale[m] + mean[m]
            if not is_unit(self._input_scale[name]):
                c = c * self._input_scale[name]
            centres[name] = np.where(self._presence[:, m, None], c, np.nan)
        return MultiModalData(centres)

    # --- distances to the fitted centres ----------------------------------------------
    def _map_tables(self, X, func, obs=None, rank=False):
        """Call ``func(rows, observed, num, count)`` on chunks of validated ``X``.

        ``obs`` is ``X``'s observed mask (taken from the validation when not given).
        ``num`` and ``count`` are :meth:`_CentreGeometry.tables` against the fitted
        centres: the observed part of the partial distance of each sample to each
        centre, and the number of modalities they share. With ``rank`` and every
        centre complete, ``num`` only ranks the centres of each row (its
        :meth:`_CentreGeometry.scores`, or the tables for rows too far out for a
        cheap bound to rule out an overflow) and ``count`` is None. Chunks run in
        threads; the results come back as one list in row order.
        """
        arrays = [X[m] for m in self.modalities_]
        obs = X._validated_observed() if obs is None else obs
        mean, scale = self._stats()
        geometry = self._geometry([a.dtype for a in arrays])
        n = X.n_samples
        rank = rank and geometry.full
        # ||z||**2 / d <= ((||x|| + ||mean||) * max(1 / scale))**2 / d
        bounds = [(np.linalg.norm(u), np.max(1.0 / v)) for u, v in zip(mean, scale)]

        def exact(chunk, obs_c, index):
            """Tables of the chunk rows, redone in float64 or raising on overflow."""
            with np.errstate(over="ignore", invalid="ignore"):
                stacked = _stacked_norms(chunk, obs_c, mean, scale)
                num, count = geometry.tables(chunk, obs_c, stacked)
            bad = _overflowed(stacked, num)
            if bad.any():
                self._recompute_in_float64(
                    chunk, obs_c, stacked, num, count, bad, index
                )
            return num, count

        def ranking(chunk, obs_c, index):
            with np.errstate(over="ignore", invalid="ignore"):
                num = geometry.scores(chunk, obs_c)
                zz = np.zeros(obs_c.shape[0])
                for m, (x, (mean_norm, inverse)) in enumerate(zip(chunk, bounds)):
                    norm = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
                    term = ((norm + mean_norm) * inverse) ** 2 / x.shape[1]
                    zz += np.where(obs_c[:, m], term, 0.0)
            # Rows far out (or overflowing) get the tables, which rank as the scores
            # do but round as the distances do, and the overflow checks.
            far = np.flatnonzero(
                ~((zz <= _FAR_NORM) & (np.abs(num) <= _FLOAT64_MAX / 8).all(axis=1))
            )
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

        with _Threads() as threads:
            # larger chunks than the Lloyd passes: fewer rounds of per-pattern work
            step = _chunk_rows(n, self.n_clusters, 4 * _TABLE_ENTRIES)
            results = threads.map(work, n, step)
        return [r for group in results for r in group]

    def _geometry(self, dtypes):
        mean, scale = self._stats()
        return _CentreGeometry(self._z_centers, self._presence, mean, scale, dtypes)

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
            rows = rows[_overflowed(stacked[rows], num[rows])]
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
            return _stacked_norms(chunk, X.observed[rows], mean, scale)[
                :, : len(self.modalities_)
            ]

    def _map_squared(self, X, func, rank=False):
        """Like :meth:`_map_tables` with ``func(rows, observed, squared distances)``.

        With ``rank`` and every centre complete, ``func`` gets the scores that only
        rank the centres of each row (see :meth:`_map_tables`) instead.
        """
        geometry = self._geometry([X[m].dtype for m in self.modalities_])

        def squared(sl, obs, num, count):
            if not (rank and geometry.full):
                num = geometry.squared(num, count, obs)
            return func(sl, obs, num)

        return self._map_tables(X, squared, rank=rank)

    def predict(self, X):
        """Index of the closest centre for each sample (``-1`` for a sample with none).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "_z_centers")
        X, _ = self._validate_multimodal(X, reset=False)
        labels = np.empty(X.n_samples, dtype=np.intp)

        def assign(sl, obs, d2):
            labels[sl] = np.where(obs.any(axis=1), d2.argmin(axis=1), -1)

        self._map_squared(X, assign, rank=True)
        return labels

    @fit_atomically
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
        check_is_fitted(self, "_z_centers")
        original = X
        X, _ = self._validate_multimodal(X, reset=False)
        # float32 when every modality is float32 (as KMeans.transform), else float64
        dtype = np.result_type(np.float32, *(X[m].dtype for m in self.modalities_))
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
        return self._wrap_output(out, True, original)

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
        check_is_fitted(self, "_z_centers")
        X, _ = self._validate_multimodal(X, reset=False, allow_empty_samples=False)
        closest = np.empty(X.n_samples)

        def nearest(sl, obs, d2):
            closest[sl] = d2.min(axis=1)
            return closest[sl].sum()

        total = float(sum(self._map_squared(X, nearest)))
        if not np.isfinite(total):  # each term is finite; their sum overflowed
            rows = np.flatnonzero(closest > np.finfo(np.float64).max / closest.size)
            raise self._far_rows_error(
                self._norms(X, rows), rows, "the inertia of X overflows float64"
            )
        return -total

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _unscaled(a, unit):
    """``a / unit`` for powers of two ``unit`` (exact, in ``a``'s dtype, along the last
    axis); ``a`` itself when ``unit`` is 1."""
    if is_unit(unit):
        return a
    return a / np.asarray(unit, dtype=a.dtype)


def _closest_distances(closest, geometry, obs, norms):
    """Squared partial distances of the samples to their centres, from the
    ``closest`` values of :meth:`PartialModalityKMeans._lloyd_pass`."""
    if not geometry.full:
        return np.maximum(closest, 0.0)
    n_modalities = obs.shape[1]
    zz = norms()[:, :n_modalities].sum(axis=1)
    return np.maximum((zz + closest) / obs.sum(axis=1), 0.0)


def _add_member_sums(sums, labels, obs, arrays, previous=None):
    """Add each row ``i`` of ``arrays[m]`` to ``sums[m][labels[i]]`` where it is
    observed; with ``previous`` labels, move only the rows whose label changed.

    The sums are sparse one-hot products accumulated in float64 (float32 input is
    converted by blocks of rows). With ``previous``, ``sums`` must hold the sums under
    those labels: each moved row is subtracted from its old centre and added to its
    new one, so the cost follows the number of moved rows.
    """
    k = sums[0].shape[0]
    n = labels.size
    moved = None if previous is None else np.flatnonzero(labels != previous)
    if moved is not None and moved.size > n // 2:  # cheaper from scratch
        moved = None
        for total in sums:
            total[...] = 0.0
    step = _chunk_rows(n, sum(a.shape[1] for a in arrays), 16 * _INPUT_ENTRIES)

    def add(total, data, centres, columns, values):
        onehot = sparse.csr_array((data, (centres, columns)), shape=(k, len(values)))
        total += onehot @ values

    for m, x in enumerate(arrays):
        observed = obs[:, m]
        if moved is not None:
            rows = moved[observed[moved]]
            for block in gen_batches(rows.size, step) if rows.size else ():
                r = rows[block]
                signs = np.repeat([1.0, -1.0], r.size)
                columns = np.tile(np.arange(r.size), 2)
                centres = np.r_[labels[r], previous[r]]
                add(sums[m], signs, centres, columns, x[r].astype(np.float64))
        elif x.dtype == np.float64:  # one product, no copy (NaN rows are not read)
            rows = np.flatnonzero(observed)
            add(sums[m], np.ones(rows.size), labels[rows], rows, x)
        else:
            for sl in gen_batches(n, step):
                rows = np.flatnonzero(observed[sl])
                values = x[sl].astype(np.float64)
                add(sums[m], np.ones(rows.size), labels[sl][rows], rows, values)


def _draw_candidates(closest, n_trials, rng):
    """``n_trials`` k-means++ draws (sample indices) given each sample's squared
    partial distance to the nearest chosen centre.

    Uniform among the samples at infinite distance if there are any, else with
    probability proportional to ``closest``, else (all zero) uniform. One trial makes
    the same ``rng`` calls, with the same results, as a scalar draw.
    """
    n = closest.size
    far = np.flatnonzero(np.isinf(closest))
    if far.size:
        return far[rng.randint(far.size, size=n_trials)]
    cumulative = np.cumsum(closest)
    if cumulative[-1] > 0:
        draws = rng.uniform(size=n_trials) * cumulative[-1]
        return np.minimum(np.searchsorted(cumulative, draws, side="right"), n - 1)
    return rng.randint(n, size=n_trials)


_FLOAT64_MAX = float(np.finfo(np.float64).max)
# Bound on ||z||**2 / d below which a row's scores rank the centres without rounding
# away what the distances keep (values within 1e6 standard deviations).
_FAR_NORM = 2.0**40


def _overflowed(stacked, num):
    """Rows whose squared norms (first half of ``stacked``) or tables overflowed."""
    n_modalities = stacked.shape[1] // 2
    finite = np.isfinite(stacked[:, :n_modalities]).all(axis=1)
    return ~(finite & np.isfinite(num).all(axis=1))


def _centre_shift(old, old_presence, new, new_presence):
    """Largest squared partial distance between a centre and its update."""
    if not np.array_equal(old_presence, new_presence):
        return np.inf
    per_modality = np.column_stack(
        [((n - o) ** 2).sum(axis=1) / o.shape[1] for o, n in zip(old, new)]
    )
    shift = (per_modality * new_presence).sum(axis=1) / new_presence.sum(axis=1)
    return float(shift.max())
