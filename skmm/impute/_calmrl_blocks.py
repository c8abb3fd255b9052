"""CalMRL's EM on data read in row blocks (Dask modalities): out of core, or spread.

Every quantity the in-memory fit takes from all rows at once is a sum over rows, so
here it is a sum over blocks (:func:`skmm.utils._blocks.map_blocks`), each block read
from its source and standardised as :meth:`CalMRLImputer.transform` standardises:

1. column sums and sums of squares (and extremes, for ``data_min_`` / ``data_max_``
   and the power-of-two units of values too large to square);
2. with ``standardize``, the sums of squared deviations from the means;
   (the :class:`~._calmrl_em.Totals` of the standardised rows, for the noise floors
   and the M-step, follow from these sums without a pass of their own);
3. one pass per EM iteration: the E-step of each block reduced to its
   :class:`~._calmrl_em.Moments` (per-pattern sums and grams of the posterior means,
   cross products, log-likelihood), from which the M-step is exact.

The PCA start reads only the rows :func:`~._calmrl_em.pca_rows` draws (20,000). Memory
is that of one block per worker plus the observed mask; what travels between workers is
the parameters one way and the per-block statistics back. With the same data, the same
``random_state`` and ordinary magnitudes it follows the in-memory fit step for step, up
to the order of floating-point sums.
"""

import functools
import operator
from types import SimpleNamespace

import numpy as np

from ..utils._blocks import map_blocks, row_blocks, take_rows
from ..utils._scaling import FLOAT64_LIMIT, is_unit, power_of_two_scale
from . import _calmrl_em as em

__all__ = ["fit_blocks"]


def fit_blocks(X, observed, *, n_components, standardize, min_noise_variance, init,
               noise, max_iter, tol, expand, verbose, random_state):
    """Fit the shared-latent model on the lazy ``X`` (validated; mask ``observed``).

    Returns a namespace with ``center``, ``scale`` (per modality, input units:
    ``(z - center) / scale`` is what the model sees), ``params``, ``history``,
    ``converged``, ``data_min`` and ``data_max`` (per modality).
    """
    blocks = row_blocks(X)
    obs = [observed[s] for s in blocks.slices()]

    def column_sums(units, center, extremes=False):
        """Per modality ``[sums, sums of squares(, minima, maxima)]`` of all blocks."""
        parts = map_blocks(_sums, blocks, obs, shared=(units, center, extremes))
        out = []
        for per_block in zip(*parts):
            total = [sum(p[0] for p in per_block), sum(p[1] for p in per_block)]
            if extremes:
                total += [np.fmin.reduce([p[2] for p in per_block]),
                          np.fmax.reduce([p[3] for p in per_block])]
            out.append(total)
        return out

    counts = observed.sum(axis=0)
    units = [1.0] * len(blocks.arrays)
    raw = column_sums(units, None, extremes=True)
    data_min = [r[2].astype(a.dtype) for r, a in zip(raw, X.values())]
    data_max = [r[3].astype(a.dtype) for r, a in zip(raw, X.values())]
    # Values too large to square: powers of two per feature (standardising) or per
    # modality, as in memory; the sums are then taken again in those units.
    if not all(np.all(r[1] <= FLOAT64_LIMIT**2) for r in raw):
        sizes = [np.maximum(-r[2], r[3]) for r in raw]
        units = [power_of_two_scale(m if standardize else m.max()) for m in sizes]
        if not all(map(is_unit, units)):
            raw = column_sums(units, None)
    if standardize:
        center = [r[0] / n if n else np.zeros_like(r[0]) for r, n in zip(raw, counts)]
        deviations = column_sums(units, center)
        scale = [np.sqrt(d[1] / max(n, 1)) for d, n in zip(deviations, counts)]
        for s in scale:
            s[s == 0] = 1.0
        # the standardised rows (z / u - center) / scale: their sums follow
        sums = [(d[0] / s, d[1] / s**2) for d, s in zip(deviations, scale)]
        center = [c if is_unit(u) else c * u for c, u in zip(center, units)]
        scale = [s if is_unit(u) else s * u for s, u in zip(scale, units)]
    else:
        center = [np.zeros(a.shape[1]) for a in blocks.arrays]
        scale = [np.ones(a.shape[1]) * u for a, u in zip(blocks.arrays, units)]
        sums = [(r[0], r[1]) for r in raw]  # of z / u
    totals = em.Totals(
        X.n_samples, counts, tuple(s for s, _ in sums), tuple(q for _, q in sums),
        np.array([q.sum() for _, q in sums]),
    )
    floors = em.noise_floors(totals, min_noise_variance)
    if init == "pca":
        rows = em.pca_rows(X.n_samples, random_state)
        arrays = take_rows(X, slice(None) if rows is None else rows)
        sample_obs = observed if rows is None else observed[rows]
        data = em.prepare(arrays, sample_obs, center=center, scale=scale)
        params = em.init_params_pca(data, n_components, floors=floors,
                                    random_state=random_state, totals=totals)
    else:
        params = em.init_params_random(totals, n_components, floors=floors,
                                       random_state=random_state)
    if noise == "feature":  # the isotropic start, broadcast to the features
        floors = em.noise_floors(totals, min_noise_variance, per_feature=True)
        params = em.feature_noise_params(params, floors)
    patterns = em.missing_patterns(observed)[0]

    def expect(params):
        stats = functools.reduce(operator.add, map_blocks(
            _moments, blocks, obs, shared=(center, scale, params, patterns)))
        return None, stats, em.pattern_covariances(params, patterns)[0]

    params, _, history, converged = em.run_em(
        expect, params, patterns, totals, floors=floors, max_iter=max_iter, tol=tol,
        expand=expand, verbose=verbose,
    )
    return SimpleNamespace(center=center, scale=scale, params=params, history=history,
                           converged=converged, data_min=data_min, data_max=data_max)


# --- per-block work (runs on the workers) ---------------------------------------------
def _sums(*args):
    """Per modality: column sums and sums of squares of the observed rows in
    ``units``, centred on ``center`` (None: raw), and with ``extremes`` the column
    minima and maxima (NaN where the block observes none)."""
    *arrays, observed, units, center, extremes = args
    out = []
    for j, a in enumerate(arrays):
        v = np.asarray(a[observed[:, j]], dtype=np.float64)
        if not is_unit(units[j]):
            v = v / units[j]
        if center is not None:
            v = v - center[j]
        with np.errstate(over="ignore"):
            stats = [v.sum(axis=0), np.einsum("ij,ij->j", v, v)]
        if extremes:
            empty = np.full(v.shape[1], np.nan)
            stats += [v.min(axis=0) if len(v) else empty,
                      v.max(axis=0) if len(v) else empty]
        out.append(stats)
    return out


def _moments(*args):
    *arrays, observed, center, scale, params, patterns = args
    data = em.prepare(arrays, observed, center=center, scale=scale)
    return em.block_moments(data, params, patterns)
