"""Missing patterns: the distinct rows of an observed mask, found through integer codes."""

import numpy as np

# Patterns of up to this many modalities are packed into one int64 code per row.
_MAX_CODED_MODALITIES = 62


def missing_patterns(observed):
    """Distinct rows of the ``(n, M)`` observed mask, each row's pattern and each
    pattern's rows.

    Equivalent to ``np.unique(observed, axis=0, return_inverse=True)`` (patterns in the
    same lexicographic order, ``False`` before ``True``), but each row is first packed
    into one integer, which makes it one to two orders of magnitude faster.

    Parameters
    ----------
    observed : array-like of bool, shape (n_samples, n_modalities)

    Returns
    -------
    patterns : bool ndarray of shape (n_patterns, n_modalities)
    pattern_index : int ndarray of shape (n_samples,)
        The pattern of each row.
    pattern_rows : tuple of int ndarray
        The rows of each pattern, in increasing order.
    """
    observed = np.asarray(observed, dtype=bool)
    n_modalities = observed.shape[1]
    if n_modalities > _MAX_CODED_MODALITIES:
        patterns, index = np.unique(observed, axis=0, return_inverse=True)
    else:
        # The first modality is the most significant bit: integer order is then the
        # lexicographic order of the rows, as with np.unique(axis=0).
        weights = np.left_shift(1, np.arange(n_modalities - 1, -1, -1, dtype=np.int64))
        codes = observed.astype(np.int64) @ weights
        unique_codes, index = np.unique(codes, return_inverse=True)
        patterns = (unique_codes[:, None] & weights) != 0
    index = index.reshape(-1)
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=len(patterns))
    rows = np.split(order, np.cumsum(counts)[:-1]) if len(patterns) else []
    return patterns, index, tuple(rows)
