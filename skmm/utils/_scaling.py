"""Exact power-of-two rescaling that keeps squares of huge finite values finite.

Shared by :class:`~skmm.cluster.PartialModalityKMeans` and the imputers. Dividing by a
power of two only changes the exponent of each value, so computing on ``x / 2**e``
and multiplying the results back gives the same bits as exact-range arithmetic; data
that needs no rescaling takes no new path at all.
"""

import numpy as np

__all__ = [
    "FLOAT32_LIMIT", "FLOAT64_LIMIT", "dtype_limit", "far_rows_error", "is_unit",
    "max_abs", "power_of_two_scale", "unscaled",
]

# Magnitudes above which squares summed over many values risk overflowing float64
# (2**400 squared is 2**800, leaving 2**223 of head room for the sums).
FLOAT64_LIMIT = 2.0**400
# Magnitudes above which sums and products computed in float32 risk overflow.
FLOAT32_LIMIT = 2.0**60


def max_abs(a, axis=None):
    """Largest magnitude of ``a`` (along ``axis``), ignoring NaN; 0 where there is none.

    Two reductions over ``a``, no temporary of its size.
    """
    a = np.asarray(a)
    return np.fmax(np.fmax.reduce(a, axis=axis, initial=0.0),
                   -np.fmin.reduce(a, axis=axis, initial=0.0))


def power_of_two_scale(magnitude, limit=FLOAT64_LIMIT):
    """Powers of two ``s`` bringing ``magnitude / s`` into ``[1, 2)`` above ``limit``.

    Parameters
    ----------
    magnitude : float or ndarray
        Largest magnitude of the values to rescale (finite), e.g. per feature.
    limit : float, default=FLOAT64_LIMIT
        Magnitudes up to this need no rescaling (their ``s`` is 1).

    Returns
    -------
    float or ndarray
        Exactly ``1.0`` when nothing exceeds ``limit`` (test it with
        :func:`is_unit`), else an array shaped like ``magnitude`` of powers of two (at
        most ``2**1023``; 1 where ``magnitude <= limit``).
    """
    magnitude = np.asarray(magnitude, dtype=np.float64)
    above = magnitude > limit
    if not above.any():
        return 1.0
    return np.where(above, np.ldexp(1.0, np.frexp(magnitude)[1] - 1), 1.0)


def is_unit(scale):
    """Whether a :func:`power_of_two_scale` result leaves every value unchanged."""
    return bool(np.all(np.asarray(scale) == 1.0))


def unscaled(a, unit):
    """``a / unit`` for powers of two ``unit`` (exact, in ``a``'s dtype, along the last
    axis); ``a`` itself when ``unit`` is 1."""
    if is_unit(unit):
        return a
    return a / np.asarray(unit, dtype=a.dtype)


def dtype_limit(dtype):
    """:data:`FLOAT32_LIMIT` for float32 data (computed in float32), else
    :data:`FLOAT64_LIMIT`."""
    return FLOAT32_LIMIT if np.dtype(dtype) == np.float32 else FLOAT64_LIMIT


def far_rows_error(owner, modalities, magnitudes, rows, consequence):
    """ValueError naming ``rows`` and, for each, its modality farthest from the fit.

    Parameters
    ----------
    owner : str
        Estimator name, to start the message.
    modalities : sequence of str
    magnitudes : ndarray of shape (len(rows), n_modalities)
        Size of each row's standardised values per modality (NaN counts as infinite);
        the largest names the row's modality.
    rows : ndarray of int
        Row indices in the caller's input.
    consequence : str
        What overflows.

    Returns
    -------
    ValueError
    """
    from ..utils._validation import _first_rows

    rows = np.asarray(rows)
    worst = np.argmax(np.nan_to_num(np.asarray(magnitudes, float), nan=np.inf), axis=1)
    parts = [
        f"modality {modalities[m]!r} of rows {_first_rows(rows[worst == m])}"
        for m in np.unique(worst)
    ]
    return ValueError(
        f"{owner}: {'; '.join(parts)} holds values too far from the training data (in "
        f"units of its standard deviations): {consequence}. Check for unmasked fill "
        "values or rescale the data."
    )
