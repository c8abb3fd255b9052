"""Recall@k of a cross-modal retrieval score matrix."""

import numbers

import numpy as np

__all__ = ["recall_at_k"]


def recall_at_k(scores, k=1, *, targets=None):
    """Fraction of queries whose true candidate is among the ``k`` best scored.

    Parameters
    ----------
    scores : array-like of shape (n_queries, n_candidates)
        Higher is a better match, e.g. the output of ``retrieval_scores`` of
        :class:`~skmm.embed.OVAIBEmbedder`, :class:`~skmm.embed.PairwiseCLIPEmbedder`
        or :class:`~skmm.embed.CalMRLEmbedder`.
        ``-inf`` marks a candidate that can never be retrieved; NaN is not allowed
        (drop the queries that lack the query modality first).
    k : int, default=1
        Number of retrieved candidates, ``1 <= k``. With ``k >= n_candidates`` every
        query is a hit.
    targets : array-like of int of shape (n_queries,), optional
        Index of each query's true candidate; default ``0, 1, ..., n_queries - 1``
        (query ``i`` and candidate ``i`` are the same sample).

    Returns
    -------
    float
        Recall@k in ``[0, 1]``. The rank of the true candidate is the number of
        candidates scored strictly higher plus the number of *other* candidates
        scored equal (ties count against the query); a query is a hit when its rank
        is below ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.metrics import recall_at_k
    >>> scores = np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.1]])
    >>> recall_at_k(scores, 1)
    0.5
    >>> recall_at_k(scores, 2)
    1.0
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError(
            f"scores must be a non-empty 2-D array (n_queries, n_candidates); got shape "
            f"{scores.shape}."
        )
    if np.isnan(scores).any():
        rows = np.flatnonzero(np.isnan(scores).any(axis=1))[:5].tolist()
        raise ValueError(
            f"scores contains NaN (first rows {rows}); drop the queries that lack the "
            "query modality before computing recall."
        )
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an integer >= 1; got {k!r}.")
    n_queries, n_candidates = scores.shape
    if targets is None:
        if n_candidates < n_queries:
            raise ValueError(
                f"Without targets, query i matches candidate i: n_candidates "
                f"({n_candidates}) must be >= n_queries ({n_queries})."
            )
        targets = np.arange(n_queries)
    else:
        targets = np.asarray(targets)
        if targets.shape != (n_queries,) or not np.issubdtype(targets.dtype, np.integer):
            raise ValueError(
                f"targets must be {n_queries} integer candidate indices; got "
                f"{targets.dtype} array of shape {targets.shape}."
            )
        if targets.min() < 0 or targets.max() >= n_candidates:
            raise ValueError(f"targets must lie in [0, {n_candidates - 1}].")
    true = scores[np.arange(n_queries), targets][:, None]
    rank = (scores > true).sum(axis=1) + (scores == true).sum(axis=1) - 1
    return float(np.mean(rank < k))
