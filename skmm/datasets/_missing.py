"""Simulate missing modalities: MCAR slots, the UL4M4 protocols and block patterns."""

from collections.abc import Mapping

import numpy as np
from sklearn.utils import check_random_state

from .._data import MultiModalData
from ..utils._validation import check_modality_param, check_multimodal

__all__ = ["make_missing_modalities"]

_PATTERNS = ("mcar", "standard", "block", "complex")


def _mcar_mask(observed, rates, rng, max_redraws=1000):
    """Hide each observed slot with its modality's rate; redraw rows left empty."""
    hidden = np.zeros_like(observed)
    todo = np.flatnonzero(observed.any(axis=1))
    for _ in range(max_redraws):
        if not todo.size:
            return hidden
        draw = (rng.random((todo.size, rates.size)) < rates) & observed[todo]
        hidden[todo] = draw
        todo = todo[~(observed[todo] & ~draw).any(axis=1)]
    raise ValueError(
        "Could not leave every sample a modality: the missing rates are too close to 1."
    )


def _block_mask(observed, groups, modalities, rng):
    """Assign samples to disjoint groups, each keeping one set of modalities."""
    keep_sets, weights = [], []
    for key, weight in groups.items():
        names = modalities if key == "all" else ((key,) if isinstance(key, str) else key)
        unknown = [m for m in names if m not in modalities]
        if unknown or not names:
            raise ValueError(
                f"groups key {key!r} must be 'all' or a non-empty tuple of modalities "
                f"among {list(modalities)}."
            )
        keep_sets.append(np.isin(modalities, names))
        weights.append(float(weight))
    weights = np.asarray(weights)
    if (weights < 0).any() or not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"groups proportions must be >= 0 and sum to 1; got {weights}.")
    n = observed.shape[0]
    counts = np.floor(weights * n).astype(int)
    extra = np.argsort(-(weights * n - counts), kind="stable")[: n - counts.sum()]
    counts[extra] += 1
    group_of = np.repeat(np.arange(len(keep_sets)), counts)[rng.permutation(n)]
    keep = np.asarray(keep_sets)[group_of]
    hidden = observed & ~keep
    # A sample that would lose every modality it has keeps them all.
    hidden[~(observed & keep).any(axis=1)] = False
    return hidden


def make_missing_modalities(
    X, rate=0.5, *, pattern="mcar", groups=None, random_state=None, return_mask=False
):
    """Hide whole modality rows of ``X`` to simulate missing modalities.

    Every sample keeps at least one of the modalities it had. ``X`` is not modified.

    Parameters
    ----------
    X : MultiModalData, dict of arrays or 2-D array
        Data, usually complete; rows already missing stay missing.
    rate : float or dict, default=0.5
        Probability that a modality slot is hidden (``"mcar"``, ``"standard"``); a dict
        gives one rate per modality.
    pattern : {"mcar", "standard", "block", "complex"}, default="mcar"
        - ``"mcar"``: each (sample, modality) slot is hidden independently with its
          modality's rate; a sample that would lose everything is redrawn, so for few
          modalities the realised rate is a little below ``rate``.
        - ``"standard"``: the UL4M4 protocol ``a_image_b_text``: as ``"mcar"``, but one
          modality at least must have rate 0 (e.g. ``{"image": 0.7, "text": 0.0}``).
        - ``"block"``: samples are split at random into disjoint groups with exact
          proportions given by ``groups``; each group keeps one set of modalities.
        - ``"complex"``: the UL4M4 protocol ``g_a_b``, the same as ``"block"`` with
          ``groups={"all": g, ("image",): a, ("text",): b}``.
    groups : dict, default=None
        For ``"block"``/``"complex"``: ``{modalities kept: proportion}``, keys ``"all"``,
        a modality name or a tuple of names; proportions sum to 1.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws (no global state is used).
    return_mask : bool, default=False
        Also return the ``(n_samples, n_modalities)`` bool mask of the slots hidden here.

    Returns
    -------
    X_missing : MultiModalData
        A copy of ``X`` with hidden rows set to NaN (arrays untouched by the mask are
        shared, not copied).
    hidden : ndarray of shape (n_samples, n_modalities), dtype bool
        Returned when ``return_mask`` is True.

    Examples
    --------
    >>> from skmm.datasets import load_multiple_features, make_missing_modalities
    >>> X, y = load_multiple_features(return_X_y=True)
    >>> Xm, hidden = make_missing_modalities(X, 0.5, random_state=0, return_mask=True)
    >>> bool(Xm.observed.any(axis=1).all())
    True
    """
    X = check_multimodal(X)
    if pattern not in _PATTERNS:
        raise ValueError(f"pattern must be one of {_PATTERNS}; got {pattern!r}.")
    rng = check_random_state(random_state)
    observed = X.observed
    if pattern in ("mcar", "standard"):
        rates = check_modality_param(rate, X.modalities, "rate")
        for m, r in rates.items():
            if not 0.0 <= float(r) <= 1.0:
                raise ValueError(f"rate for modality {m!r} must be in [0, 1]; got {r}.")
        rates = np.array([float(r) for r in rates.values()])
        if pattern == "standard" and not (rates == 0).any():
            raise ValueError(
                "pattern='standard' needs one modality that is always kept (rate 0), "
                f"e.g. rate={{{X.modalities[0]!r}: 0.0, ...}}; got {rate!r}."
            )
        if (rates >= 1).all():
            raise ValueError("rate must be below 1 for at least one modality.")
        hidden = _mcar_mask(observed, rates, rng)
    else:
        if not isinstance(groups, Mapping) or not groups:
            raise ValueError(
                f"pattern={pattern!r} needs groups={{modalities kept: proportion}}."
            )
        hidden = _block_mask(observed, groups, X.modalities, rng)
    out = {}
    for j, (m, a) in enumerate(X.items()):
        if hidden[:, j].any():
            a = a.copy()
            a[hidden[:, j]] = np.nan
        out[m] = a
    X_missing = MultiModalData(out, feature_names=X.feature_names, index=X.index)
    return (X_missing, hidden) if return_mask else X_missing
