"""Training curves of skmm's torch embedders."""

from ._base import axes_or_new


class TrainingCurveDisplay:
    """Per-epoch losses from a fitted embedder's ``history_``.

    Parameters
    ----------
    history : list of dict
        One dict of losses per epoch (the ``history_`` of a torch embedder).
    keys : sequence of str, optional
        Which entries to draw (default: every numeric entry but ``"epoch"``).

    Attributes
    ----------
    ax_, figure_ : matplotlib Axes and Figure, after :meth:`plot`.
    """

    def __init__(self, history, keys=None):
        self.history = list(history)
        self.keys = keys

    @classmethod
    def from_estimator(cls, estimator, *, keys=None, ax=None):
        """Plot the curves of a fitted torch embedder."""
        history = getattr(estimator, "history_", None)
        if history is None:
            raise ValueError(
                f"{type(estimator).__name__} has no history_: fit a torch embedder first."
            )
        return cls(history, keys).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw one line per loss entry against the epoch."""
        self.figure_, self.ax_ = axes_or_new(ax)
        keys = self.keys
        if keys is None:
            keys = [
                k for k, v in (self.history[0].items() if self.history else [])
                if k != "epoch" and isinstance(v, (int, float))
            ]
        epochs = [h.get("epoch", i + 1) for i, h in enumerate(self.history)]
        for key in keys:
            self.ax_.plot(epochs, [h.get(key, float("nan")) for h in self.history], label=key)
        self.ax_.set_xlabel("epoch")
        self.ax_.set_ylabel("loss")
        if keys:
            self.ax_.legend()
        return self
