"""Synthetic data drawn from the CalMRL shared-latent model."""

from collections.abc import Mapping

from sklearn.utils import check_random_state

from .._data import MultiModalData
from ..utils._validation import check_modality_param

__all__ = ["make_shared_latent"]


def make_shared_latent(
    n_samples=500,
    n_features=None,
    n_components=4,
    noise=0.1,
    random_state=None,
    return_params=False,
):
    """Draw complete multimodal data from a shared Gaussian latent.

    ``beta ~ N(0, I_q)`` for each sample and, for every modality,
    ``z^m = W^m beta + mu^m + eps^m`` with ``eps^m ~ N(0, noise_m^2 I)``; the entries
    of ``W^m`` and ``mu^m`` are standard normal. This is the generative model of
    :class:`~skmm.impute.CalMRLImputer`, so its imputation error can be compared with
    the noise floor ``noise_m``. Hide modalities with
    :func:`~skmm.datasets.make_missing_modalities`.

    Parameters
    ----------
    n_samples : int, default=500
    n_features : dict or None, default=None
        ``{modality: width}``; None gives ``{"m0": 10, "m1": 15, "m2": 20}``.
    n_components : int, default=4
        Size ``q`` of the shared latent.
    noise : float or dict, default=0.1
        Standard deviation of the noise of each modality (a scalar or
        ``{modality: value}``).
    random_state : int, RandomState instance or None, default=None
        Seed of the draws (no global state is used).
    return_params : bool, default=False
        Also return the true parameters.

    Returns
    -------
    X : MultiModalData
        Complete data.
    params : dict
        Only with ``return_params``: ``"components"`` (``{m: W^m}``, shape
        ``(d_m, q)``), ``"mean"`` (``{m: mu^m}``), ``"noise_variance"``
        (``{m: noise_m^2}``) and ``"latent"`` (``beta``, shape ``(n_samples, q)``).

    Examples
    --------
    >>> from skmm.datasets import make_shared_latent
    >>> X, params = make_shared_latent(100, {"a": 3, "b": 5}, n_components=2,
    ...                                random_state=0, return_params=True)
    >>> X.n_features, params["components"]["b"].shape
    ({'a': 3, 'b': 5}, (5, 2))
    """
    if n_features is None:
        n_features = {"m0": 10, "m1": 15, "m2": 20}
    if not isinstance(n_features, Mapping) or not n_features:
        raise TypeError(
            f"n_features must be a non-empty dict {{modality: width}}; got {n_features!r}."
        )
    for m, d in n_features.items():
        if int(d) != d or d < 1:
            raise ValueError(f"Width of modality {m!r} must be an int >= 1; got {d!r}.")
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1; got {n_samples!r}.")
    if int(n_components) != n_components or n_components < 1:
        raise ValueError(f"n_components must be an int >= 1; got {n_components!r}.")
    noise = check_modality_param(noise, list(n_features), "noise")
    for m, s in noise.items():
        if not s >= 0:
            raise ValueError(f"noise of modality {m!r} must be >= 0; got {s!r}.")
    rng = check_random_state(random_state)
    latent = rng.standard_normal((int(n_samples), int(n_components)))
    arrays, components, means = {}, {}, {}
    for m, d in n_features.items():
        components[m] = rng.standard_normal((int(d), int(n_components)))
        means[m] = rng.standard_normal(int(d))
        eps = noise[m] * rng.standard_normal((int(n_samples), int(d)))
        arrays[m] = latent @ components[m].T + means[m] + eps
    X = MultiModalData(arrays)
    if not return_params:
        return X
    params = {
        "components": components,
        "mean": means,
        "noise_variance": {m: float(s) ** 2 for m, s in noise.items()},
        "latent": latent,
    }
    return X, params
