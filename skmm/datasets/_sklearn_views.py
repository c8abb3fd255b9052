"""scikit-learn's bundled data sets, cut into views (modalities) of the same samples."""

import numpy as np

from ._base import _loader_output, fill_loader_doc

__all__ = ["load_breast_cancer_views", "load_diabetes_views", "load_digits_views"]

_BREAST_CANCER_HEADER = """\
Wisconsin diagnostic breast cancer, as three views (skmm.datasets.load_breast_cancer_views)
===========================================================================================

scikit-learn's copy of the data (sklearn.datasets.load_breast_cancer), unchanged, cut into
three views of the 10 nuclear features of each sample: ``mean`` (their means over the
nuclei of the image), ``error`` (their standard errors) and ``worst`` (the mean of the
three largest values). Target: 0 malignant (212), 1 benign (357).

Source: UCI Machine Learning Repository, "Breast Cancer Wisconsin (Diagnostic)", by
W. H. Wolberg, W. N. Street and O. L. Mangasarian (University of Wisconsin, 1995), licence
CC BY 4.0; shipped with scikit-learn (BSD-3-Clause). Cite: W. N. Street, W. H. Wolberg and
O. L. Mangasarian, "Nuclear feature extraction for breast tumor diagnosis", IS&T/SPIE 1993
International Symposium on Electronic Imaging: Science and Technology, vol. 1905,
861-870, 1993.
"""

_DIGITS_HEADER = """\
Optical handwritten digits, as four views (skmm.datasets.load_digits_views)
===========================================================================

scikit-learn's copy of the data (sklearn.datasets.load_digits), unchanged, cut into four
views: the four 4 x 4 quadrants of each 8 x 8 image (``top_left``, ``top_right``,
``bottom_left``, ``bottom_right``; 16 pixels each, named ``pixel_<row>_<column>`` as in
scikit-learn, values 0-16). Target: the digit, 0-9.

Source: UCI Machine Learning Repository, "Optical Recognition of Handwritten Digits", by
E. Alpaydin and C. Kaynak (Bogazici University, 1998), licence CC BY 4.0; scikit-learn ships
its test set of 1797 images (BSD-3-Clause). Cite: E. Alpaydin and C. Kaynak, "Optical
Recognition of Handwritten Digits", UCI Machine Learning Repository, 1998; C. Kaynak,
"Methods of Combining Multiple Classifiers and Their Applications to Handwritten Digit
Recognition", MSc thesis, Bogazici University, 1995.
"""

_DIABETES_HEADER = """\
Diabetes progression, as two views (skmm.datasets.load_diabetes_views)
======================================================================

scikit-learn's copy of the data (sklearn.datasets.load_diabetes), with its scaled features
unchanged (each column centred, sum of squares 1), cut into two views: ``clinical`` (age,
sex, body mass index, blood pressure) and ``serum`` (the six blood serum measurements
s1-s6). Target: a continuous measure of disease progression one year after baseline
(regression).

Source: B. Efron, T. Hastie, I. Johnstone and R. Tibshirani, "Least angle regression",
Annals of Statistics 32(2), 407-499, 2004, who state no licence; shipped with scikit-learn
(BSD-3-Clause). Cite that paper.
"""


def _cut_views(source, views, header, *, return_X_y, shuffle, random_state):
    """Split a scikit-learn Bunch's columns into views and return the loader's output.

    Parameters
    ----------
    source : Bunch
        What a ``sklearn.datasets.load_*`` function returns.
    views : sequence of (name, description, column indices)
        The views, in order; their columns are those of ``source.data``.
    header : str
        The text put before scikit-learn's ``DESCR``.
    return_X_y, shuffle, random_state
        The loader's parameters.
    """
    names = [str(n) for n in source.feature_names]
    fields = {}
    if "target_names" in source:
        fields["target_names"] = np.asarray(source.target_names).astype(str)
    return _loader_output(
        {view: source.data[:, list(cols)] for view, _, cols in views},
        np.asarray(source.target),
        return_X_y=return_X_y, shuffle=shuffle, random_state=random_state,
        feature_names={view: [names[c] for c in cols] for view, _, cols in views},
        modality_descriptions={view: text for view, text, _ in views},
        DESCR=f"{header}\nscikit-learn's description follows.\n\n{source.DESCR}",
        **fields,
    )


@fill_loader_doc
def load_breast_cancer_views(*, return_X_y=False, shuffle=False, random_state=None):
    """Load the Wisconsin breast cancer data as 3 views: 569 samples, 2 classes.

    scikit-learn's :func:`~sklearn.datasets.load_breast_cancer` (no network access),
    its 30 columns cut by what they summarise of the same 10 nuclear features (radius,
    texture, perimeter, area, smoothness, compactness, concavity, concave points,
    symmetry, fractal dimension): ``mean`` (``"mean radius"``, ...), ``error`` (the
    standard errors, ``"radius error"``, ...) and ``worst`` (the mean of the three
    largest values, ``"worst radius"``, ...). The values are scikit-learn's, unchanged
    (not standardised); stacked, the views are its matrix, column for column.

    {loader_parameters_section}

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~skmm.MultiModalData`), ``target`` (0 malignant, 1 benign),
        ``target_names``, ``feature_names`` (per modality, scikit-learn's names),
        ``modality_descriptions`` and ``DESCR`` (with the citation).
    {loader_returns_X_y}

    Notes
    -----
    Source: UCI Machine Learning Repository, "Breast Cancer Wisconsin (Diagnostic)", by
    W. H. Wolberg, W. N. Street and O. L. Mangasarian (1995), licence CC BY 4.0; the copy
    is scikit-learn's (BSD-3-Clause). Cite W. N. Street, W. H. Wolberg and
    O. L. Mangasarian, "Nuclear feature extraction for breast tumor diagnosis", IS&T/SPIE
    Symposium on Electronic Imaging: Science and Technology, vol. 1905, 861-870, 1993.

    Examples
    --------
    >>> from skmm.datasets import load_breast_cancer_views
    >>> bunch = load_breast_cancer_views()
    >>> bunch.data.n_features
    {'mean': 10, 'error': 10, 'worst': 10}
    >>> bunch.feature_names["worst"][:2]
    ['worst radius', 'worst texture']
    >>> bunch.target_names.tolist(), bunch.target.shape
    (['malignant', 'benign'], (569,))
    """
    from sklearn.datasets import load_breast_cancer

    source = load_breast_cancer()
    names = [str(n) for n in source.feature_names]
    views = [
        (view, text, [i for i, n in enumerate(names) if match(n)])
        for view, text, match in (
            ("mean", "means over the nuclei", lambda n: n.startswith("mean ")),
            ("error", "standard errors over the nuclei", lambda n: n.endswith(" error")),
            ("worst", "means of the three largest values",
             lambda n: n.startswith("worst ")),
        )
    ]
    return _cut_views(source, views, _BREAST_CANCER_HEADER, return_X_y=return_X_y,
                      shuffle=shuffle, random_state=random_state)


@fill_loader_doc
def load_digits_views(*, return_X_y=False, shuffle=False, random_state=None):
    """Load scikit-learn's 8 x 8 digits as 4 views (image quadrants): 1797 samples.

    scikit-learn's :func:`~sklearn.datasets.load_digits` (no network access), each
    8 x 8 image cut into its four 4 x 4 quadrants: ``top_left``, ``top_right``,
    ``bottom_left`` and ``bottom_right``, 16 pixels each (row by row within the
    quadrant, named ``pixel_<row>_<column>`` after the whole image's row and column, as
    in scikit-learn). The values are scikit-learn's, unchanged (counts 0-16). Ten
    classes, the digits 0-9.

    {loader_parameters_section}

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~skmm.MultiModalData`, the four quadrants), ``target`` (int
        digits 0-9), ``target_names`` (``"0"`` to ``"9"``), ``feature_names`` (per view),
        ``modality_descriptions`` and ``DESCR`` (with the citation).
    {loader_returns_X_y}

    Notes
    -----
    Source: UCI Machine Learning Repository, "Optical Recognition of Handwritten
    Digits", by E. Alpaydin and C. Kaynak (1998), licence CC BY 4.0; scikit-learn ships
    its test set (BSD-3-Clause). Cite that UCI entry and C. Kaynak, "Methods of Combining
    Multiple Classifiers and Their Applications to Handwritten Digit Recognition", MSc
    thesis, Bogazici University, 1995.

    Examples
    --------
    >>> from skmm.datasets import load_digits_views
    >>> X, y = load_digits_views(return_X_y=True)
    >>> X.modalities
    ('top_left', 'top_right', 'bottom_left', 'bottom_right')
    >>> X.shape, X.n_features["top_right"]
    ((1797, 64), 16)
    >>> load_digits_views().feature_names["top_right"][:5]
    ['pixel_0_4', 'pixel_0_5', 'pixel_0_6', 'pixel_0_7', 'pixel_1_4']
    """
    from sklearn.datasets import load_digits

    pixels = np.arange(64).reshape(8, 8)  # column of pixel (row, column) in the data
    views = [
        (f"{vertical}_{horizontal}", f"{vertical} {horizontal} 4 x 4 quadrant",
         pixels[rows, columns].ravel().tolist())
        for vertical, rows in (("top", slice(0, 4)), ("bottom", slice(4, 8)))
        for horizontal, columns in (("left", slice(0, 4)), ("right", slice(4, 8)))
    ]
    return _cut_views(load_digits(), views, _DIGITS_HEADER, return_X_y=return_X_y,
                      shuffle=shuffle, random_state=random_state)


@fill_loader_doc
def load_diabetes_views(*, return_X_y=False, shuffle=False, random_state=None):
    """Load the diabetes regression data as 2 views: 442 samples, continuous target.

    scikit-learn's :func:`~sklearn.datasets.load_diabetes` (no network access; its
    default scaled features, unchanged), cut into ``clinical`` (``age``, ``sex``,
    ``bmi``, ``bp``: age, sex, body mass index, average blood pressure) and ``serum``
    (``s1`` to ``s6``, six blood serum measurements). The target, a measure of disease
    progression one year after baseline, is continuous: a regression task, which the
    benchmark (a classification probe) does not score.

    {loader_parameters_section}

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~skmm.MultiModalData`), ``target`` (float), ``feature_names``
        (per modality), ``modality_descriptions`` and ``DESCR`` (with the citation); no
        ``target_names``.
    {loader_returns_X_y}

    Notes
    -----
    Source: B. Efron, T. Hastie, I. Johnstone and R. Tibshirani, "Least angle
    regression", Annals of Statistics 32(2), 407-499, 2004 (no licence stated); the copy
    is scikit-learn's (BSD-3-Clause). Cite that paper.

    Examples
    --------
    >>> from skmm.datasets import load_diabetes_views
    >>> bunch = load_diabetes_views()
    >>> bunch.feature_names["clinical"], bunch.feature_names["serum"][-2:]
    (['age', 'sex', 'bmi', 'bp'], ['s5', 's6'])
    >>> bunch.data.shape, bunch.target.dtype
    ((442, 10), dtype('float64'))
    """
    from sklearn.datasets import load_diabetes

    views = [
        ("clinical", "age, sex, body mass index and blood pressure", range(0, 4)),
        ("serum", "six blood serum measurements", range(4, 10)),
    ]
    return _cut_views(load_diabetes(), views, _DIABETES_HEADER, return_X_y=return_X_y,
                      shuffle=shuffle, random_state=random_state)
