"""The UCI Multiple Features handwritten digits, shipped with skmm."""

from importlib import resources

import numpy as np

from ._base import _loader_output, fill_loader_doc

__all__ = ["load_multiple_features"]

# (modality, description), in the order of the original files' documentation.
MFEAT_MODALITIES = (
    ("fou", "Fourier coefficients of the character shapes"),
    ("fac", "profile correlations"),
    ("kar", "Karhunen-Loeve coefficients"),
    ("pix", "pixel averages in 2 x 3 windows"),
    ("zer", "Zernike moments"),
    ("mor", "morphological features"),
)


@fill_loader_doc
def load_multiple_features(*, return_X_y=False, shuffle=False, random_state=None):
    """Load the UCI Multiple Features digits: 2000 samples, 6 modalities, 10 classes.

    Six feature sets computed from the same 2000 handwritten digits (200 per class):
    ``fou`` (76 Fourier coefficients), ``fac`` (216 profile correlations), ``kar`` (64
    Karhunen-Loeve coefficients), ``pix`` (240 pixel averages), ``zer`` (47 Zernike
    moments) and ``mor`` (6 morphological features). The data ship with skmm (no
    network access) and are complete; use
    :func:`~skmm.datasets.make_missing_modalities` to hide modalities.

    The rows come sorted by class (200 zeros, then 200 ones, ...), as in the original
    files. Splitters that do not shuffle then cut the data by digit: label-free
    cross-validation (``GridSearchCV(imputer, ..., cv=5).fit(X)`` or
    ``cross_val_score(imputer, X, cv=5)``, which use an unshuffled ``KFold``) validates
    on digits the training folds never saw (with ``cv=5``: two digits per fold). Load
    with ``shuffle=True``, or pass ``cv=KFold(5, shuffle=True, random_state=0)``, for
    unsupervised model selection. Supervised scoring of a classifier with an integer
    ``cv`` is not affected (scikit-learn then uses a ``StratifiedKFold``, which puts
    every digit in every fold).

    {loader_parameters_section}

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~skmm.MultiModalData`), ``target`` (int digits 0-9),
        ``target_names``, ``modality_descriptions`` and ``DESCR`` (with the citation).
    {loader_returns_X_y}

    Notes
    -----
    Source: UCI Machine Learning Repository, "Multiple Features" data set, donated by
    Robert P.W. Duin (Delft University of Technology), DOI 10.24432/C5HC70, licence
    CC BY 4.0.

    Examples
    --------
    >>> from skmm.datasets import load_multiple_features
    >>> X, y = load_multiple_features(return_X_y=True)
    >>> X.n_features["pix"], X.shape
    (240, (2000, 649))
    >>> y[:5]
    array([0, 0, 0, 0, 0])
    >>> X, y = load_multiple_features(return_X_y=True, shuffle=True, random_state=0)
    >>> len(set(y[:400].tolist()))
    10
    """
    folder = resources.files("skmm.datasets") / "data"
    arrays, target = {}, None
    for name, _ in MFEAT_MODALITIES:
        with resources.as_file(folder / f"mfeat-{name}.csv.gz") as path:
            table = np.loadtxt(path, delimiter=",", skiprows=1)
        arrays[name] = table[:, :-1]
        labels = table[:, -1].astype(np.int64)
        if target is not None and not np.array_equal(labels, target):
            raise RuntimeError(f"Labels of modality {name!r} differ from the others.")
        target = labels
    return _loader_output(
        arrays, target, return_X_y=return_X_y, shuffle=shuffle, random_state=random_state,
        target_names=np.array([str(d) for d in range(10)]),
        modality_descriptions=dict(MFEAT_MODALITIES),
        DESCR=(folder / "mfeat_README.md").read_text(encoding="utf-8"),
    )
