"""What every real-data loader of skmm shares: the row shuffle and the returned Bunch."""

import numpy as np
from sklearn.utils import Bunch

from .._data import MultiModalData
from ..utils._validation import check_random_state_param, check_scalar_param

# The parameters and the tuple every loader shares, for ``{loader_parameters}`` and
# ``{loader_returns_X_y}`` in its docstring (at the indentation of an entry's name);
# ``{loader_parameters_section}`` is the whole Parameters section of a loader with no
# parameter of its own.
LOADER_PARAMETERS_DOC = """return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    shuffle : bool, default=False
        Permute the rows once, with the same permutation for every modality and for the
        target. The default keeps the order of the source files.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutation when ``shuffle`` is True (an int gives the same order on
        every call); unused otherwise."""

LOADER_RETURNS_X_Y_DOC = """(X, y) : tuple of (MultiModalData, ndarray)
        If ``return_X_y`` is True."""


def fill_loader_doc(func):
    """Function decorator: fill the placeholders of the shared docstring entries."""
    if func.__doc__:
        func.__doc__ = func.__doc__.replace(
            "{loader_parameters_section}",
            "Parameters\n    ----------\n    {loader_parameters}",
        ).replace(
            "{loader_parameters}", LOADER_PARAMETERS_DOC
        ).replace("{loader_returns_X_y}", LOADER_RETURNS_X_Y_DOC)
    return func


def _loader_output(arrays, target, *, return_X_y, shuffle, random_state, **fields):
    """Shuffle the rows (if asked), wrap the modalities, return ``(X, y)`` or a Bunch.

    Parameters
    ----------
    arrays : dict of {str: ndarray of shape (n_samples, d_m)}
        The modalities, rows aligned with ``target``.
    target : ndarray of shape (n_samples,)
    return_X_y, shuffle, random_state
        The loader's parameters (see :func:`~skmm.datasets.load_multiple_features`).
    **fields
        The Bunch's other entries (``target_names``, ``DESCR``, ...), left unshuffled.

    Returns
    -------
    Bunch or tuple
        ``Bunch(data=X, target=y, **fields)``, or ``(X, y)`` if ``return_X_y``.
    """
    check_scalar_param(return_X_y, "return_X_y", bool)
    check_scalar_param(shuffle, "shuffle", bool)
    rng = check_random_state_param(random_state)
    if shuffle:
        # One permutation for every modality and the target keeps the rows aligned.
        order = rng.permutation(len(target))
        arrays = {name: a[order] for name, a in arrays.items()}
        target = target[order]
    arrays = {
        name: np.ascontiguousarray(a, dtype=np.float64) for name, a in arrays.items()
    }
    X = MultiModalData(arrays, feature_names=fields.get("feature_names"))
    if return_X_y:
        return X, target
    return Bunch(data=X, target=target, **fields)
