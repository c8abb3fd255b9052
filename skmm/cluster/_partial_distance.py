"""The partial-modality distance kernel: tables, sums and seeding draws on arrays.

The partial distance between a sample ``i`` and a centre ``j`` averages per-modality
squared distances over the modalities both have, each divided by its width::

    d(i, j)**2 = mean over m in S_ij of ||z_i^m - c_j^m||**2 / d_m

(infinite when ``S_ij`` is empty), in a per-modality standardised space
``z = (x - mean) / scale``. Distances to all centres are computed in chunks of samples
with one matrix product per modality (``||z||**2 - 2 z.c + ||c||**2``, folded so the
raw input is never copied or standardised as a whole: :class:`CentreGeometry`),
masked by which modalities each sample and centre have.

Everything here works on plain arrays in modality order (``arrays``: one 2-D array per
modality, NaN rows where missing; ``obs``: the ``(n_samples, n_modalities)`` observed
mask; ``mean``, ``scale``: per-modality statistics; centres standardised). The
estimator, :class:`~skmm.cluster.PartialModalityKMeans`, owns the parameters, the
validation, the units and the error messages, and calls these functions; chunks run in
threads through :class:`Threads`.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from scipy.linalg.blas import dgemm
from sklearn.utils import gen_batches
from threadpoolctl import ThreadpoolController

__all__ = [
    "CentreGeometry",
    "Threads",
    "add_member_sums",
    "best_candidate",
    "centre_shift",
    "closest_distances",
    "draw_candidates",
    "far_rows",
    "input_rows",
    "kmeans_plusplus",
    "lloyd_pass",
    "merge_moments",
    "modality_moments",
    "modality_stats",
    "norm_bounds",
    "overflowed",
    "stacked_norms",
    "table_rows",
]

# Chunk sizes: at most this many (sample, centre) entries per distance table and
# this many input values per standardisation temporary.
_TABLE_ENTRIES = 2**16
_INPUT_ENTRIES = 2**16

_FLOAT64_MAX = float(np.finfo(np.float64).max)
# Bound on ||z||**2 / d below which a row's scores rank the centres without rounding
# away what the distances keep (values within 1e6 standard deviations).
_FAR_NORM = 2.0**40


def _chunk_rows(n_samples, n_entries_per_row, budget):
    return int(max(1, min(n_samples, budget // max(1, n_entries_per_row))))


def table_rows(n_samples, n_columns, factor=1):
    """Rows per chunk of a distance table with ``n_columns`` columns (``factor``
    times the usual size)."""
    return _chunk_rows(n_samples, n_columns, factor * _TABLE_ENTRIES)


def input_rows(n_samples, width, factor=1):
    """Rows per chunk of a temporary of ``width`` input values per row (``factor``
    times the usual size)."""
    return _chunk_rows(n_samples, width, factor * _INPUT_ENTRIES)


class Threads:
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


class CentreGeometry:
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
            ``[obs * zz, obs]`` as floats (see :func:`stacked_norms`).

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


def stacked_norms(arrays, obs, mean, scale):
    """``[obs * ||z||**2 / d, obs]`` per modality, shape (n, 2 M)."""
    n, n_modalities = obs.shape
    out = np.zeros((n, 2 * n_modalities))
    out[:, n_modalities:] = obs
    for m, a in enumerate(arrays):
        d = a.shape[1]
        inverse = 1.0 / scale[m]
        for sl in gen_batches(n, input_rows(n, d)):
            z = a[sl] - mean[m]
            z *= inverse
            out[sl, m] = np.einsum("ij,ij->i", z, z)
        out[:, m] /= d
        out[~obs[:, m], m] = 0.0
    return out


def modality_moments(arrays, obs):
    """Per modality ``(count, mean, sum of squared deviations)`` of the observed rows,
    per feature, in one pass: the moments of chunks of rows are merged as in Chan,
    Golub and LeVeque's pairwise update (:func:`merge_moments`)."""
    out = []
    for m, a in enumerate(arrays):
        n, d = a.shape
        o = obs[:, m]
        every = bool(o.all())
        total = (0, np.zeros(d), np.zeros(d))
        for sl in gen_batches(n, input_rows(n, d)):
            rows = a[sl] if every else a[sl][o[sl]]
            size = rows.shape[0]
            if size == 0:
                continue
            chunk_mean = rows.sum(axis=0, dtype=np.float64) / size
            deviation = rows - chunk_mean
            total = merge_moments(
                total, (size, chunk_mean, np.einsum("ij,ij->j", deviation, deviation))
            )
        out.append(total)
    return out


def merge_moments(a, b):
    """The ``(count, mean, sum of squared deviations)`` of two sets of rows together."""
    count, mean, sq = a
    size, chunk_mean, chunk_sq = b
    if size == 0:
        return a
    delta = chunk_mean - mean
    total = count + size
    return (total, mean + delta * (size / total),
            sq + (chunk_sq + delta**2 * (count * size / total)))


def modality_stats(arrays, obs, eps, bounds=None, moments=None):
    """Per-feature mean and ``std + eps[m]`` of each modality over its observed rows.

    From :func:`modality_moments` of the data (or the ``moments`` given, e.g. merged
    over blocks of rows). A list given as ``bounds`` receives, per modality,
    ``|mean| + sqrt(sum of squared deviations)``, which bounds each feature's magnitude
    (``inf`` or NaN when the sums overflow).
    """
    means, scales = [], []
    for m, (count, mean, sq) in enumerate(moments or modality_moments(arrays, obs)):
        means.append(mean)
        scales.append(np.sqrt(sq / count) + eps[m])
        if bounds is not None:
            bounds.append(np.abs(mean) + np.sqrt(sq))
    return means, scales


def norm_bounds(mean, scale):
    """Per modality ``(||mean||, max(1 / scale))``, which bound ``||z||**2 / d`` by
    ``((||x|| + ||mean||) * max(1 / scale))**2 / d`` (see :func:`far_rows`)."""
    return [(np.linalg.norm(u), np.max(1.0 / v)) for u, v in zip(mean, scale)]


def far_rows(arrays, obs, scores, bounds):
    """Rows of a chunk whose :meth:`CentreGeometry.scores` may not rank the centres as
    their distances do.

    Those are the rows whose squared norms may exceed ``2**40`` (values about ``1e6``
    standard deviations out, where the scores round away what the distances keep), by
    the bound of :func:`norm_bounds`, and the rows whose scores come near overflow;
    they take the :meth:`CentreGeometry.tables`, which rank as the scores do but round
    as the distances do.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        zz = np.zeros(obs.shape[0])
        for m, (x, (mean_norm, inverse)) in enumerate(zip(arrays, bounds)):
            norm = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
            term = ((norm + mean_norm) * inverse) ** 2 / x.shape[1]
            zz += np.where(obs[:, m], term, 0.0)
    return np.flatnonzero(
        ~((zz <= _FAR_NORM) & (np.abs(scores) <= _FLOAT64_MAX / 8).all(axis=1))
    )


def overflowed(stacked, num):
    """Rows whose squared norms (first half of ``stacked``) or tables overflowed."""
    n_modalities = stacked.shape[1] // 2
    finite = np.isfinite(stacked[:, :n_modalities]).all(axis=1)
    return ~(finite & np.isfinite(num).all(axis=1))


# --- k-means++ seeding ------------------------------------------------------------------
def draw_candidates(closest, n_trials, rng):
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


def kmeans_plusplus(arrays, obs, stacked, mean, scale, n_clusters, n_trials, rng,
                    threads):
    """k-means++ seeding on the partial distance; returns standardised centres (zero
    rows where absent) and their presence.

    The first centre is the sample ``rng.randint(n)``; each next one is drawn by
    :func:`draw_candidates` (``n_trials`` candidates, the one of
    :func:`best_candidate` kept when there are several) and takes exactly the
    modalities of its seed sample. ``stacked`` is :func:`stacked_norms` of the data.
    """
    n = obs.shape[0]
    k = n_clusters
    dtypes = [a.dtype for a in arrays]
    centres = [np.zeros((k, a.shape[1])) for a in arrays]
    presence = np.zeros((k, len(arrays)), dtype=bool)
    closest = np.full(n, np.inf)
    step = table_rows(n, 1)
    for j in range(k):
        if j == 0:
            seed = rng.randint(n)
        else:
            candidates = draw_candidates(closest, n_trials, rng)
            if candidates.size == 1:
                seed = candidates[0]
            else:
                seed = best_candidate(
                    arrays, obs, stacked, mean, scale, candidates, closest, threads
                )
        presence[j] = obs[seed]
        for m, a in enumerate(arrays):
            if obs[seed, m]:
                centres[m][j] = (a[seed] - mean[m]) / scale[m]
        geometry = CentreGeometry(
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


def best_candidate(arrays, obs, stacked, mean, scale, candidates, closest, threads):
    """The candidate seed (sample index) of greedy k-means++ that leaves the lowest
    potential.

    The potential of candidate ``c`` is ``(number of samples with
    min(closest, d2(., c)) infinite, sum of the finite ones)``, compared in that
    order (ties: the first candidate); a candidate is at distance 0 from itself,
    as a chosen centre is. All candidates are measured in one pass, as centres of
    one :class:`CentreGeometry`; ``closest`` is left unchanged.
    """
    n = obs.shape[0]
    t = candidates.size
    centres = [
        np.where(
            obs[candidates, m, None], (a[candidates] - mean[m]) / scale[m], 0.0
        )
        for m, a in enumerate(arrays)
    ]
    geometry = CentreGeometry(
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

    results = threads.map(work, n, table_rows(n, t))
    n_far = sum(r[0] for r in results)
    total = sum(r[1] for r in results)
    fewest = n_far == n_far.min()
    return candidates[np.flatnonzero(fewest)[np.argmin(total[fewest])]]


# --- Lloyd iterations -------------------------------------------------------------------
def lloyd_pass(arrays, obs, norms, geometry, threads, sums=None, previous=None):
    """Assign every sample; optionally update members' input sums.

    Returns the labels and each sample's :meth:`CentreGeometry.scores` at its
    centre when every centre has every modality, else its squared partial
    distance (see :func:`closest_distances`). ``norms()`` gives the stacked
    norms, computed only when partial centres need them. ``sums``, when given, maps
    each group of chunks (by its first row) to its per-modality sums of members'
    input, kept from the pass that gave ``previous`` (see
    :func:`add_member_sums`); it is updated in place.
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
            add_member_sums(
                group, labels[rows], obs[rows], [a[rows] for a in arrays],
                None if previous is None else previous[rows],
            )

    threads.map(work, n, table_rows(n, k))
    return labels, closest


def closest_distances(closest, geometry, obs, norms):
    """Squared partial distances of the samples to their centres, from the
    ``closest`` values of :func:`lloyd_pass`."""
    if not geometry.full:
        return np.maximum(closest, 0.0)
    n_modalities = obs.shape[1]
    zz = norms()[:, :n_modalities].sum(axis=1)
    return np.maximum((zz + closest) / obs.sum(axis=1), 0.0)


def add_member_sums(sums, labels, obs, arrays, previous=None):
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
    step = input_rows(n, sum(a.shape[1] for a in arrays), 16)

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


def centre_shift(old, old_presence, new, new_presence):
    """Largest squared partial distance between a centre and its update."""
    if not np.array_equal(old_presence, new_presence):
        return np.inf
    per_modality = np.column_stack(
        [((n - o) ** 2).sum(axis=1) / o.shape[1] for o, n in zip(old, new)]
    )
    shift = (per_modality * new_presence).sum(axis=1) / new_presence.sum(axis=1)
    return float(shift.max())
