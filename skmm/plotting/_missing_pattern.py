"""Missing-pattern matrix of a multimodal data set (rows x modalities)."""

import numpy as np

from ..utils._validation import check_multimodal
from ._base import axes_or_new


class MissingPatternDisplay:
    """Which modality each sample has, as an image (dark = observed), like missingno.

    Parameters
    ----------
    observed : ndarray of shape (n_samples, n_modalities), dtype bool
    modalities : sequence of str

    Attributes
    ----------
    ax_, figure_ : matplotlib Axes and Figure, after :meth:`plot`.

    Examples
    --------
    >>> from skmm.datasets import load_multiple_features, make_missing_modalities
    >>> from skmm.plotting import MissingPatternDisplay
    >>> X = make_missing_modalities(load_multiple_features().data, 0.3, random_state=0)
    >>> disp = MissingPatternDisplay.from_data(X)  # doctest: +SKIP
    """

    def __init__(self, observed, modalities):
        self.observed = np.asarray(observed, dtype=bool)
        self.modalities = list(modalities)

    @classmethod
    def from_data(cls, X, *, sort=True, ax=None):
        """Plot the pattern of ``X`` (any input skmm accepts).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        sort : bool, default=True
            Group samples with the same pattern together.
        ax : matplotlib Axes, optional
        """
        X = check_multimodal(X)
        observed = X.observed
        if sort:
            order = np.lexsort(observed.T[::-1])[::-1]
            observed = observed[order]
        return cls(observed, X.modalities).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the matrix and the observed share of each modality."""
        self.figure_, self.ax_ = axes_or_new(ax)
        self.ax_.imshow(
            self.observed,
            aspect="auto",
            interpolation="nearest",
            cmap="Greys",
            vmin=0,
            vmax=1,
        )
        if len(self.observed):
            rates = self.observed.mean(axis=0)
        else:
            rates = np.zeros(len(self.modalities))
        self.ax_.set_xticks(range(len(self.modalities)))
        self.ax_.set_xticklabels(
            [f"{m}\n{100 * r:.0f}%" for m, r in zip(self.modalities, rates)]
        )
        self.ax_.set_ylabel("sample")
        self.ax_.set_title("observed modalities (dark) and observed share")
        return self
