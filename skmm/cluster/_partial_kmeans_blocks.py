"""Partial-modality k-means on data read in row blocks (Dask modalities).

The fit's passes over the data, each a sum over blocks
(:func:`skmm.utils._blocks.map_blocks`) on the active Dask scheduler:

- :func:`block_moments`: per-feature counts, means and squared deviations of every
  modality, merged over blocks (Chan, Golub and LeVeque), and :func:`block_max_abs`
  for the rare features too large to square;
- :class:`BlockLloyd`: one assignment of every block to the centres per Lloyd
  iteration, reduced to the members' sums (``k x d_m`` per modality), the inertia and
  the labels (which the convergence test compares, as in memory).

k-means++ is sequential over the centres (one pass over the data per centre), so on
blocks it seeds from :func:`seeding_sample`: all rows up to
``SEEDING_ROWS`` samples (then it equals the in-memory seeding), else that many
drawn at random. Explicit initial centres need no pass at all.
"""

import functools

import numpy as np
from sklearn.utils import gen_batches

from ..utils._blocks import map_blocks, row_blocks, take_rows
from ..utils._scaling import unscaled
from ._partial_distance import (
    closest_distances,
    lloyd_pass,
    merge_moments,
    modality_moments,
    stacked_norms,
)

__all__ = ["SEEDING_ROWS", "BlockLloyd", "block_max_abs", "block_moments",
           "seeding_sample"]

#: Samples k-means++ seeds from on data read in blocks (at least 10 per centre).
SEEDING_ROWS = 100_000


class _Serial:
    """:class:`~._partial_distance.Threads`' interface in the calling thread (a Dask
    task: the scheduler runs the blocks in parallel)."""

    n_threads = 1

    def map(self, work, n_samples, step):
        return [work(list(gen_batches(n_samples, max(1, step))))]


def _working(arrays, units):
    """``arrays`` divided by their features' powers of two (exact; 1: unchanged)."""
    return [unscaled(a, u) for a, u in zip(arrays, units)]


def block_moments(X, observed, units):
    """:func:`~._partial_distance.modality_moments` of the lazy ``X`` in ``units``."""
    blocks = row_blocks(X)
    parts = map_blocks(_moments, blocks, [observed[s] for s in blocks.slices()],
                       shared=(units,))
    merged = parts[0]
    for part in parts[1:]:
        merged = [merge_moments(a, b) for a, b in zip(merged, part)]
    return merged


def block_max_abs(X, observed):
    """Per modality, the largest magnitude of each feature over its observed rows."""
    blocks = row_blocks(X)
    parts = map_blocks(_max_abs, blocks, [observed[s] for s in blocks.slices()])
    return [np.max([p[m] for p in parts], axis=0) for m in range(len(parts[0]))]


def seeding_sample(X, observed, units, rng, size=SEEDING_ROWS):
    """In-memory ``(arrays, observed)`` of the rows k-means++ seeds from: every row
    of ``X`` up to ``size`` (``rng`` untouched), else ``size`` rows drawn from it."""
    rows = slice(None)
    if X.n_samples > size:
        rows = np.sort(rng.choice(X.n_samples, size, replace=False))
    return _working(take_rows(X, rows), units), observed[rows]


class BlockLloyd:
    """Lloyd assignments over the row blocks of the lazy ``X`` (mask ``observed``),
    the interface of the in-memory passes of :class:`PartialModalityKMeans`."""

    def __init__(self, X, observed, units, mean, scale):
        self.blocks = row_blocks(X)
        self.observed = [observed[s] for s in self.blocks.slices()]
        self.shared = (units, mean, scale)
        self.dtypes = [a.dtype for a in self.blocks.arrays]
        self._inertia = None

    def assign(self, geometry, previous=None, sums=True):
        """Labels of every sample and, with ``sums``, each modality's ``(k, d_m)``
        sums of members' (working-unit) rows; ``previous`` is not needed."""
        parts = map_blocks(_assign, self.blocks, self.observed,
                           shared=self.shared + (geometry, sums))
        self._inertia = float(sum(p[2] for p in parts))
        labels = np.concatenate([p[0] for p in parts])
        if not sums:
            return labels, None
        return labels, [sum(p[1][m] for p in parts) for m in range(len(self.dtypes))]

    def using(self, threads):
        """Itself: the blocks run on the Dask scheduler, not in ``threads``."""
        return self

    def inertia(self, geometry):
        """Sum of squared partial distances of the last :meth:`assign`."""
        return self._inertia


# --- per-block work (runs on the workers) ---------------------------------------------
def _moments(*args):
    *arrays, observed, units = args
    return modality_moments(_working(arrays, units), observed)


def _max_abs(*args):
    *arrays, observed = args
    return [np.abs(a[observed[:, m]]).max(axis=0, initial=0.0)
            for m, a in enumerate(arrays)]


def _assign(*args):
    *arrays, observed, units, mean, scale, geometry, sums = args
    arrays = _working(arrays, units)
    norms = functools.cache(lambda: stacked_norms(arrays, observed, mean, scale))
    groups = {} if sums else None
    labels, closest = lloyd_pass(arrays, observed, norms, geometry, _Serial(), groups)
    inertia = closest_distances(closest, geometry, observed, norms).sum()
    return labels, groups[0] if sums else None, inertia
