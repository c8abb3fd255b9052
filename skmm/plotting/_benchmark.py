"""The benchmark figure: accuracy against missing rate, one line per method."""

import numpy as np

from ._base import axes_or_new


class BenchmarkDisplay:
    """Accuracy (mean +- std over folds) against the missing rate, per method.

    Parameters
    ----------
    results : list of :class:`skmm.benchmark.BenchmarkResult` or of dicts

    Attributes
    ----------
    ax_, figure_ : matplotlib Axes and Figure, after :meth:`plot`.
    """

    def __init__(self, results):
        self.results = [r if isinstance(r, dict) else vars(r) for r in results]

    @classmethod
    def from_results(cls, results, *, ax=None):
        """Plot results of :func:`skmm.benchmark.run_benchmark` (or its JSON rows)."""
        return cls(results).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the figure (points with error bars when there is one missing rate)."""
        self.figure_, self.ax_ = axes_or_new(ax, figsize=(7, 4.5))
        methods = list(dict.fromkeys(r["method"] for r in self.results))
        for method in methods:
            rows = sorted(
                (r for r in self.results if r["method"] == method),
                key=lambda r: r["missing_rate"],
            )
            rate = np.array([r["missing_rate"] for r in rows])
            mean = np.array([r["accuracy_mean"] for r in rows])
            std = np.array([r["accuracy_std"] for r in rows])
            self.ax_.errorbar(rate, mean, yerr=std, marker="o", capsize=3, label=method)
        self.ax_.set_xlabel("share of modality slots missing")
        self.ax_.set_ylabel("accuracy (CV)")
        self.ax_.set_title("Downstream accuracy with missing modalities")
        self.ax_.grid(alpha=0.3)
        self.ax_.legend(fontsize="small", loc="best")
        self.figure_.tight_layout()
        return self
