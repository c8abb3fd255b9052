"""Synthetic modalities with controlled redundant, unique and synergistic signal."""

from collections.abc import Mapping
import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

from .._data import MultiModalData

__all__ = ["make_redundant_unique_synergistic"]

# Continuous nuisance factors per modality (sample-specific variation that carries no
# target); their loadings are scaled by this factor relative to the signal bits.
_N_NUISANCE = 2
_NUISANCE_SCALE = 0.5


def make_redundant_unique_synergistic(
    n_samples=1000, *, n_modalities=2, n_features=16, noise=0.1, random_state=None
):
    """Multimodal data whose targets are redundant, unique or synergistic.

    Each sample has balanced latent bits: ``r`` (seen by every modality), ``u`` (seen
    only by the first modality) and one bit ``a_m`` per modality (seen only by
    modality ``m``). Modality ``m`` is a random linear map of its bits (coded
    ``-1/+1``) and of two Gaussian nuisance factors, plus Gaussian noise:

    - first modality: ``[r, u, a_0]``; every other modality ``m``: ``[r, a_m]``.

    The three targets:

    - ``redundant = r``: every modality predicts it alone;
    - ``unique = u``: only the first modality predicts it;
    - ``synergistic = a_0 XOR a_1``: no single modality carries any information
      about it, and no model additive over modalities (such as a linear probe on
      concatenated per-modality embeddings) can beat chance; it needs a joint,
      non-linear view of the first two modalities.

    This is the benchmark of :class:`~skmm.embed.COrALEmbedder` (the "synthetic
    benchmark idea" of its specification). Hide modalities with
    :func:`~skmm.datasets.make_missing_modalities`.

    Parameters
    ----------
    n_samples : int, default=1000
    n_modalities : int, default=2
        Number of modalities (>= 2), named ``m0, m1, ...`` unless ``n_features`` is a
        dict.
    n_features : int or dict, default=16
        Width of every modality, or ``{modality: width}`` (its length must equal
        ``n_modalities``; its keys name the modalities). Each width must be at least
        the number of latent factors of the modality (5 for the first, 4 for the
        others).
    noise : float, default=0.1
        Standard deviation of the additive noise (the signal of each bit has unit
        variance per feature on average).
    random_state : int, RandomState instance or None, default=None
        Seed of the draws (no global state is used).

    Returns
    -------
    X : MultiModalData
        Complete data, ``n_modalities`` modalities.
    targets : Bunch
        ``redundant``, ``unique`` and ``synergistic``: int arrays of 0/1 of shape
        ``(n_samples,)`` (a Bunch is also a dict).

    Examples
    --------
    >>> from skmm.datasets import make_redundant_unique_synergistic
    >>> X, y = make_redundant_unique_synergistic(100, n_features={"a": 8, "b": 6},
    ...                                          random_state=0)
    >>> X.n_features, sorted(y)
    ({'a': 8, 'b': 6}, ['redundant', 'synergistic', 'unique'])
    """
    if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1; got {n_samples!r}.")
    if not isinstance(n_modalities, numbers.Integral) or n_modalities < 2:
        raise ValueError(f"n_modalities must be an int >= 2; got {n_modalities!r}.")
    if isinstance(n_features, Mapping):
        if len(n_features) != n_modalities:
            raise ValueError(
                f"n_features names {len(n_features)} modalities but n_modalities="
                f"{n_modalities}."
            )
        widths = dict(n_features)
    elif isinstance(n_features, numbers.Integral):
        widths = {f"m{i}": n_features for i in range(n_modalities)}
    else:
        raise TypeError(
            f"n_features must be an int or a dict {{modality: width}}; got {n_features!r}."
        )
    n_latent = [3 + _N_NUISANCE] + [2 + _N_NUISANCE] * (n_modalities - 1)
    for (m, d), k in zip(widths.items(), n_latent):
        if not isinstance(d, numbers.Integral) or d < k:
            raise ValueError(
                f"Width of modality {m!r} must be an int >= {k} (its latent factors); "
                f"got {d!r}."
            )
    if not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"noise must be a real number >= 0; got {noise!r}.")

    rng = check_random_state(random_state)
    n = int(n_samples)
    bits = rng.randint(0, 2, size=(n, 2 + n_modalities))  # r, u, a_0, ..., a_{M-1}
    signs = 2.0 * bits - 1.0
    r, u, a = signs[:, :1], signs[:, 1:2], signs[:, 2:]
    arrays = {}
    for i, (m, d) in enumerate(widths.items()):
        factors = [r, u, a[:, i : i + 1]] if i == 0 else [r, a[:, i : i + 1]]
        factors = np.hstack(factors)
        loadings = rng.standard_normal((factors.shape[1], int(d)))
        nuisance = rng.standard_normal((n, _N_NUISANCE))
        nuisance_loadings = _NUISANCE_SCALE * rng.standard_normal((_N_NUISANCE, int(d)))
        arrays[m] = (
            factors @ loadings
            + nuisance @ nuisance_loadings
            + noise * rng.standard_normal((n, int(d)))
        )
    targets = Bunch(
        redundant=bits[:, 0].copy(),
        unique=bits[:, 1].copy(),
        synergistic=np.bitwise_xor(bits[:, 2], bits[:, 3]),
    )
    return MultiModalData(arrays), targets
