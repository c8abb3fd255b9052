"""Cluster-guided completion of missing modalities (UL4M4, stage 2)."""

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.utils.validation import check_is_fitted

from .._data import MultiModalData
from ..base import MultiModalMixin, MultiModalTransformerMixin, fit_context
from ..cluster import PartialModalityKMeans
from ..cluster._partial_kmeans import _PartialKMeansParams
from ..utils._patterns import missing_patterns

__all__ = ["PartialModalityKMeansImputer"]


class PartialModalityKMeansImputer(
    MultiModalMixin, MultiModalTransformerMixin, _PartialKMeansParams
):
    """Fill missing modalities from partial-modality k-means centres (UL4M4).

    :meth:`fit` clusters the incomplete data with
    :class:`~skmm.cluster.PartialModalityKMeans`, whose parameters it takes unchanged
    (the two classes share one signature). :meth:`transform` completes each sample
    greedily: candidate ``f`` is the sample with its missing modalities taken from centre
    ``f`` (where centre ``f`` has them); the candidate closest to any centre (partial
    distance) fills every missing modality it provides, then the next closest fills what
    is still missing, and so on. Observed values are returned bit-for-bit unchanged.

    Read more in the :ref:`User Guide <partial_kmeans>`.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters; must not exceed the number of training samples. The paper
        uses 64.
    init : "k-means++" or multimodal data of shape (n_clusters, ...), default="k-means++"
        See :class:`~skmm.cluster.PartialModalityKMeans`.
    n_local_trials : int or None, default=1
        Candidates per centre of the k-means++ seeding; the one leaving the lowest
        potential is kept (greedy k-means++). ``None`` means ``2 + int(log(n_clusters))``
        as in scikit-learn. See :class:`~skmm.cluster.PartialModalityKMeans`.
    n_init : int or "auto", default=1
        Number of k-means++ runs; the lowest inertia is kept.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        Convergence threshold on the largest squared partial centre shift.
    verbose : int, default=0
        Print the inertia after each clustering iteration when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means++ draws.

    Attributes
    ----------
    kmeans_ : PartialModalityKMeans
        The fitted clusterer.
    cluster_centers_ : MultiModalData of shape (n_clusters, n_features)
        Centres in input space (NaN rows where a centre lacks a modality); the values
        that fill missing modalities.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    inertia_ : float
        Sum of squared partial distances of the training samples to their centres.
    n_iter_ : int
        Number of Lloyd iterations.
    modalities_ : tuple of str
        Input modality names (``("x0",)`` for a 2-D array).
    n_features_per_modality_ : dict
        Width of each modality.
    n_features_in_ : int
        Total input width.
    feature_names_in_ : ndarray of str
        ``"modality__feature"`` input names (multimodal input only).

    See Also
    --------
    skmm.cluster.PartialModalityKMeans : the clustering stage alone.
    sklearn.impute.KNNImputer : fills from nearest samples rather than centres.

    Notes
    -----
    The greedy completion is computed in closed form, vectorised over samples. The
    squared distance of candidate ``f`` of sample ``i`` to centre ``j`` splits into an
    observed part (sample ``i`` against centre ``j``: one ``n x k`` table, computed by
    matrix products) and a filled part (centre ``f`` against centre ``j`` on the
    missing modalities: ``k x k`` tables shared by all samples with the same missing
    pattern). Candidates rank by their distance to their nearest centre, and each
    missing modality comes from the best-ranked candidate whose centre has it (ties:
    lowest candidate index): ``O(n k^2)`` after ``O(n k sum d_m)``. When every centre
    has every modality the filled part of candidate ``f`` against centre ``f`` is zero,
    so the first candidate taken is the nearest centre on the observed modalities and
    it fills everything: the stage costs one assignment pass, ``O(n k sum d_m)``.

    Values too large to square are handled as in
    :class:`~skmm.cluster.PartialModalityKMeans` (exact power-of-two rescaling at fit;
    a ValueError naming the rows whose distances overflow float64 at transform), so
    the filled values, rows of :attr:`cluster_centers_`, are always finite.

    A modality that no centre has would be filled with its training mean; after
    fitting this cannot happen for a modality observed in training. A sample with no
    modality at all at :meth:`transform` gets the training mean of every modality
    (there is nothing to compare to the centres). Such samples are an error at
    :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.impute import PartialModalityKMeansImputer
    >>> rng = np.random.default_rng(0)
    >>> a = np.r_[rng.normal(0, 1, (20, 3)), rng.normal(5, 1, (20, 3))]
    >>> b = np.r_[rng.normal(0, 1, (20, 2)), rng.normal(5, 1, (20, 2))]
    >>> a[[0, 39]] = np.nan
    >>> imp = PartialModalityKMeansImputer(n_clusters=2, random_state=0)
    >>> Xt = imp.fit_transform({"a": a, "b": b})
    >>> Xt["a"][[0, 39]].round(1)  # each filled from its own cluster's centre
    array([[0. , 0. , 0.2],
           [4.6, 5. , 5.5]])
    """

    _accepts_dask = True

    @fit_context()
    def fit(self, X, y=None):
        """Cluster the incomplete data.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            A missing modality is a whole row of NaN. Every sample needs at least one
            modality and every modality at least one sample.
        y : ignored

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    @fit_context()
    def fit_transform(self, X, y=None):
        """Cluster ``X``, then fill its missing modality rows as :meth:`transform` does.

        The data is validated once, for both steps; a failure leaves the estimator as
        it was.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        MultiModalData (ndarray for 2-D input)
            As :meth:`transform` returns.
        """
        X, obs = self._fit(X)
        return self.transform(X) if X.lazy else self._completed(X, obs)

    def _fit(self, X):
        """Validate ``X`` and cluster it; return it and its observed mask."""
        X, as_array = self._validate_multimodal(X, reset=True, allow_empty_samples=False)
        obs = X._validated_observed()
        kmeans = PartialModalityKMeans(**self.get_params())
        kmeans._record_fitted_input(X, as_array)
        self.kmeans_ = kmeans._fit_validated(X, obs)
        return X, obs

    @property
    def cluster_centers_(self):
        return self.kmeans_.cluster_centers_

    @property
    def labels_(self):
        return self.kmeans_.labels_

    @property
    def inertia_(self):
        return self.kmeans_.inertia_

    @property
    def n_iter_(self):
        return self.kmeans_.n_iter_

    def transform(self, X):
        """Fill every missing modality row.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            Data with the fitted modalities and widths.

        Returns
        -------
        MultiModalData (ndarray for 2-D input)
            Copies of the input arrays with the missing rows filled; observed values
            are the input's, bit for bit.
        """
        check_is_fitted(self, "kmeans_")
        X, _ = self._validate_multimodal(X, reset=False)
        if X.lazy:
            stacked = self._lazy(lambda block, _: np.asarray(self.transform(block)), X,
                                 X.shape[1], X.dtype)
            return self._lazy_containers(stacked, X)[0]
        return self._completed(X, X._validated_observed())

    def _completed(self, X, obs):
        """A copy of the validated ``X`` (observed mask ``obs``), completed."""
        out = MultiModalData(
            {m: X[m].copy() for m in self.modalities_},
            feature_names=X.feature_names, index=X.index,
        )
        _complete(self.kmeans_, out, obs)
        return out

    def score(self, X, y=None):
        """Opposite of the clustering inertia of ``X``.

        See :meth:`skmm.cluster.PartialModalityKMeans.score`. It grows with
        ``n_clusters``; use it to compare other parameters.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : ignored

        Returns
        -------
        float
        """
        check_is_fitted(self, "kmeans_")
        X, _ = self._validate_multimodal(X, reset=False, allow_empty_samples=False)
        return self.kmeans_.score(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _complete(kmeans, X, obs):
    """Greedy completion of ``X`` (validated, modified in place, with observed mask
    ``obs``) from ``kmeans``, through its public seam: ``cluster_presence_``,
    ``standardized_centers_`` and :meth:`~PartialModalityKMeans.map_distance_tables`."""
    presence = kmeans.cluster_presence_
    all_present = presence.all()
    k = presence.shape[0]
    # k x k tables: ||c_f^m - c_j^m||^2 / d_m where both centres have m, and 1 there.
    shared = (presence.T[:, :, None] & presence.T[:, None, :]).astype(np.float64)
    # (NaN from the NaN rows of absent modalities is masked out)
    centre_sq = np.where(shared > 0, np.stack([
        cdist(c, c, "sqeuclidean") / c.shape[1]
        for c in (kmeans.standardized_centers_[m] for m in kmeans.modalities_)
    ]), 0.0)
    filled_values = [np.asarray(kmeans.cluster_centers_[m]) for m in kmeans.modalities_]
    means = [kmeans.mean_[m] for m in kmeans.modalities_]
    arrays = [X[m] for m in kmeans.modalities_]
    per_pattern = {}

    def pattern_tables(observed):
        """For one missing pattern, ``1 / size`` and ``filled part / size``, as [j, f],
        and for each centre ``j`` its ``1 / size`` when the same for every ``f`` (else
        NaN).

        ``size[f, j]`` is the number of modalities candidate ``f`` and centre ``j``
        share: ``|O ∩ P_j| + |U ∩ P_f ∩ P_j|``, the same for every sample with
        observed set ``O`` and missing set ``U``. Pairs sharing none get ``(0, inf)``.
        """
        key = observed.tobytes()
        if key not in per_pattern:
            missing = (~observed).astype(np.float64)
            filled_sq = np.tensordot(missing, centre_sq, axes=1)
            size = np.tensordot(missing, shared, axes=1) + presence[:, observed].sum(1)
            with np.errstate(divide="ignore", invalid="ignore"):
                inverse = np.where(size > 0, 1.0 / size, 0.0)
                filled = np.where(size > 0, filled_sq * inverse, np.inf)
            inverse = np.ascontiguousarray(inverse.T)
            uniform = np.where(
                (inverse == inverse[:, :1]).all(axis=1), inverse[:, 0], np.nan
            )
            per_pattern[key] = (inverse, np.ascontiguousarray(filled.T), uniform)
        return per_pattern[key]

    def fill_from_nearest_centre(sl, obs, num):
        # Every centre has every modality: candidate f is complete, and its distance to
        # centre f is the observed part alone (the filled part is 0) while any other
        # pair adds a non-negative filled part over the same number of modalities. The
        # first candidate taken is therefore the nearest centre on the observed
        # modalities, and it fills everything. ``num`` ranks the centres of each row.
        nearest = num.argmin(axis=1)
        for m, a in enumerate(arrays):
            rows = np.flatnonzero(~obs[:, m])
            a[sl.start + rows] = filled_values[m][nearest[rows]]

    def fill_by_pattern(sl, obs, num):
        patterns, _, pattern_rows = missing_patterns(obs)
        for observed, rows in zip(patterns, pattern_rows):
            if observed.all() or not observed.any():
                continue
            observed_part = num[rows]
            inverse_size, filled_part, uniform = pattern_tables(observed)
            # Distance of each candidate f to its nearest centre: the minimum over j
            # of observed_part[:, j] / size[f, j] + filled[f, j] / size[f, j].
            best = np.full((rows.size, k), np.inf)
            d2 = np.empty_like(best)
            for j in range(k):
                if np.isnan(uniform[j]):
                    np.multiply(observed_part[:, j, None], inverse_size[j], out=d2)
                    d2 += filled_part[j]
                else:  # the same size for every f: one product per row
                    column = observed_part[:, j] * uniform[j]
                    np.add(column[:, None], filled_part[j], out=d2)
                np.minimum(best, d2, out=best)
            for m in np.flatnonzero(~observed):
                has = presence[:, m]
                if has.any():
                    f = np.where(has, best, np.inf).argmin(axis=1)
                    arrays[m][sl.start + rows] = filled_values[m][f]
                else:  # no centre has m (cannot happen after fit)
                    arrays[m][sl.start + rows] = means[m]

    def fill(sl, obs, num, count):
        if all_present:
            fill_from_nearest_centre(sl, obs, num)
        else:
            fill_by_pattern(sl, obs, num)
        empty = sl.start + np.flatnonzero(~obs.any(axis=1))
        for m, a in enumerate(arrays):
            a[empty] = means[m]

    kmeans.map_distance_tables(X, fill, observed=obs, rank=True)
