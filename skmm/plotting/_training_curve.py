"""Training curves of skmm's torch embedders."""

import numbers

from ._base import axes_or_new

# History columns that are losses: the total and every loss term, on the training rows
# and (with early stopping) on the validation rows. Everything else in ``history_``
# (``epoch``, ``dur`` in seconds, ...) is bookkeeping.
_LOSS_PREFIXES = ("train_", "valid_")


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _columns(history):
    """Numeric history columns, in order of first appearance over the epochs."""
    names = {}
    for record in history:
        for key, value in record.items():
            if _is_number(value):
                names.setdefault(key, None)
    return list(names)


def _is_loss(key):
    return key.startswith(_LOSS_PREFIXES)


class TrainingCurveDisplay:
    """Per-epoch losses from a fitted embedder's ``history_``.

    By default one line is drawn per loss column of the history: ``train_loss`` and the
    method's loss terms (``train_<term>``), and with early stopping ``valid_loss`` and
    ``valid_<term>``. Bookkeeping columns such as ``dur`` (seconds per epoch) are left
    out unless named in ``keys``.

    Parameters
    ----------
    history : list of dict
        One dict per epoch (the ``history_`` of a torch embedder).
    keys : str or sequence of str, default=None
        History columns to draw, e.g. ``["train_loss", "valid_loss"]`` or ``"dur"``.
        None draws every loss column (the numeric columns whose names start with
        ``"train_"`` or ``"valid_"``). A name absent from every epoch raises a
        ValueError at :meth:`plot`; epochs without it are drawn as gaps.

    Attributes
    ----------
    keys_ : list of str
        Columns drawn, after :meth:`plot`.
    lines_ : dict of str to matplotlib Line2D
        The line of each column, after :meth:`plot`.
    ax_ : matplotlib Axes
        Axes with the curves, after :meth:`plot`.
    figure_ : matplotlib Figure
        Figure holding ``ax_``, after :meth:`plot`.

    See Also
    --------
    skmm.embed.PairwiseCLIPEmbedder : A torch embedder; its ``history_`` is drawn here.
    skmm.embed.COrALEmbedder : A torch embedder with several loss terms.

    Examples
    --------
    >>> from skmm.plotting import TrainingCurveDisplay
    >>> history = [{"epoch": 1, "train_loss": 2.0, "dur": 0.5},
    ...            {"epoch": 2, "train_loss": 1.5, "dur": 0.4}]
    >>> TrainingCurveDisplay(history).plot().keys_
    ['train_loss']
    """

    def __init__(self, history, keys=None):
        self.history = list(history)
        self.keys = keys

    @classmethod
    def from_estimator(cls, estimator, *, keys=None, ax=None):
        """Plot the training curves of a fitted torch embedder.

        Parameters
        ----------
        estimator : fitted torch embedder
            Any estimator with a ``history_`` list (the embedders of :mod:`skmm.embed`).
        keys : str or sequence of str, default=None
            History columns to draw; None draws every loss column (see the class
            documentation).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        history = getattr(estimator, "history_", None)
        if history is None:
            raise ValueError(
                f"{type(estimator).__name__} has no history_: fit a torch embedder first."
            )
        return cls(history, keys).plot(ax=ax)

    def _resolve_keys(self):
        available = _columns(self.history)
        if self.keys is None:
            return [k for k in available if _is_loss(k)]
        keys = [self.keys] if isinstance(self.keys, str) else self.keys
        try:
            keys = list(keys)
        except TypeError:
            raise TypeError(
                f"keys must be None, a str or a sequence of str; got {self.keys!r}."
            ) from None
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(
                    f"keys must be None, a str or a sequence of str; got {key!r} of "
                    f"type {type(key).__name__} in keys={self.keys!r}."
                )
            if key not in available:
                shown = ", ".join(repr(k) for k in available) or "none"
                raise ValueError(
                    f"keys names {key!r}, which is not a numeric column of the history "
                    f"(columns: {shown})."
                )
        return keys

    def plot(self, *, ax=None):
        """Draw one line per selected column against the epoch.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.

        Returns
        -------
        self : TrainingCurveDisplay
        """
        keys = self._resolve_keys()
        self.figure_, self.ax_ = axes_or_new(ax)
        epochs = [h.get("epoch", i + 1) for i, h in enumerate(self.history)]
        self.keys_, self.lines_ = keys, {}
        for key in keys:
            values = [h.get(key) for h in self.history]
            values = [float(v) if _is_number(v) else float("nan") for v in values]
            (self.lines_[key],) = self.ax_.plot(epochs, values, label=key)
        self.ax_.set_xlabel("epoch")
        if keys and all(_is_loss(k) for k in keys):
            self.ax_.set_ylabel("loss")
        elif keys == ["dur"]:
            self.ax_.set_ylabel("seconds per epoch")
        if keys:
            self.ax_.legend()
        return self
