"""The benchmark figure: accuracy (or imputation RMSE) against missing rate, per method."""

import numpy as np

from ._base import axes_or_new


_METRICS = {
    "accuracy": ("accuracy_mean", "accuracy_std", "accuracy (CV)",
                 "Downstream accuracy with missing modalities"),
    "rmse": ("rmse", None, "imputation RMSE (standardised)",
             "Imputation error on the hidden rows"),
}


class BenchmarkDisplay:
    """Accuracy (mean +- std over folds) or imputation RMSE against the missing rate.

    Parameters
    ----------
    results : list of :class:`skmm.benchmark.BenchmarkResult` or of dicts
    metric : {"accuracy", "rmse"}, default="accuracy"
        What the y axis shows; with ``"rmse"`` methods without an imputation error
        (embedders, zero fill) are left out.

    Attributes
    ----------
    ax_, figure_ : matplotlib Axes and Figure, after :meth:`plot`.
    """

    def __init__(self, results, *, metric="accuracy"):
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {sorted(_METRICS)}; got {metric!r}.")
        self.results = [r if isinstance(r, dict) else vars(r) for r in results]
        self.metric = metric

    @classmethod
    def from_results(cls, results, *, metric="accuracy", ax=None):
        """Plot results of :func:`skmm.benchmark.run_benchmark` (or its JSON rows)."""
        return cls(results, metric=metric).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the figure (points with error bars when there is one missing rate)."""
        self.figure_, self.ax_ = axes_or_new(ax, figsize=(7, 4.5))
        value, spread, ylabel, title = _METRICS[self.metric]
        methods = list(dict.fromkeys(r["method"] for r in self.results))
        # colour by method, the same in every panel
        for index, method in enumerate(methods):
            rows = sorted(
                (r for r in self.results
                 if r["method"] == method and np.isfinite(r[value])),
                key=lambda r: r["missing_rate"],
            )
            if not rows:
                continue
            rate = np.array([r["missing_rate"] for r in rows])
            mean = np.array([r[value] for r in rows])
            std = None if spread is None else np.array([r[spread] for r in rows])
            self.ax_.errorbar(rate, mean, yerr=std, marker="o", capsize=3, label=method,
                              color=f"C{index % 10}")
        self.ax_.set_xlabel("share of modality slots missing")
        self.ax_.set_ylabel(ylabel)
        self.ax_.set_title(title)
        self.ax_.grid(alpha=0.3)
        self.ax_.legend(fontsize="small", loc="best")
        self.figure_.tight_layout()
        return self
