"""The benchmark figure: score (accuracy, R^2) or imputation RMSE per method and rate."""

import numpy as np

from ._base import axes_or_new


_METRICS = {
    "score": ("score_mean", "score_std", "{metric} (CV)",
              "Downstream {metric} with missing modalities"),
    "rmse": ("rmse", None, "imputation RMSE (standardised)",
             "Imputation error on the hidden rows"),
}
_METRICS["accuracy"] = _METRICS["score"]  # its name when the benchmark only classified
# the score fields' names in results of skmm 0.1, which scored accuracy only
_OLD_NAMES = {"accuracy_mean": "score_mean", "accuracy_std": "score_std",
              "accuracies": "scores"}


_KINDS = ("auto", "line", "bar")
# Most lines whose legend goes inside the axes; more get it beside them.
_LEGEND_INSIDE = 6


def _result_row(result):
    """A result (dataclass or JSON row, of any skmm version) as a dict of new names."""
    row = dict(result if isinstance(result, dict) else vars(result))
    for old, new in _OLD_NAMES.items():
        if old in row:
            row.setdefault(new, row.pop(old))
    row.setdefault("metric", "accuracy")
    return row


def _as_float(value):
    """A figure of a result row; ``None`` (not measured, as in ``results.json``) is NaN."""
    return float("nan") if value is None else float(value)


class BenchmarkDisplay:
    """Score (mean +- std over folds) or imputation RMSE of each benchmarked method.

    With several missing rates, one line per method against the rate; with a single
    rate, a bar per method, ranked from best to worst (the x axis of a line plot would
    hold one point).

    Parameters
    ----------
    results : list of :class:`skmm.benchmark.BenchmarkResult` or of dicts
        Dicts as in ``results.json``, where a figure not measured is ``None``.
    metric : {"score", "rmse"}, default="score"
        What is shown: the downstream score (accuracy, or R^2 for a continuous target,
        as the results' ``metric`` says; ``"accuracy"`` is an alias), or the imputation
        RMSE, which leaves out methods without one (embedders, zero fill).
    kind : {"auto", "line", "bar"}, default="auto"
        ``"auto"`` draws lines when the results hold several missing rates and ranked
        bars when they hold one; ``"bar"`` with several rates draws the mean over them.

    Attributes
    ----------
    ax_, figure_ : matplotlib Axes and Figure, after :meth:`plot`.
    kind_ : {"line", "bar"}
        What was drawn.
    methods_ : list of str
        The methods drawn: in first-appearance order for lines, best first for bars.
    legend_beside_ : bool
        Whether the legend was put beside the axes (lines of more than six methods,
        which a legend inside would hide); the figure then needs room on the right.
    """

    def __init__(self, results, *, metric="score", kind="auto"):
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {sorted(_METRICS)}; got {metric!r}.")
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}; got {kind!r}.")
        self.results = [_result_row(r) for r in results]
        self.metric = metric
        self.kind = kind

    @classmethod
    def from_results(cls, results, *, metric="score", kind="auto", ax=None):
        """Plot results of :func:`skmm.benchmark.run_benchmark` (or its JSON rows)."""
        return cls(results, metric=metric, kind=kind).plot(ax=ax)

    def _rows(self, method):
        """The method's rows with a measured figure, by missing rate."""
        value = _METRICS[self.metric][0]
        rows = [r for r in self.results
                if r["method"] == method and np.isfinite(_as_float(r[value]))]
        return sorted(rows, key=lambda r: r["missing_rate"])

    def plot(self, *, ax=None):
        """Draw the figure; return ``self``."""
        self.figure_, self.ax_ = axes_or_new(ax, figsize=(7, 4.5))
        value, spread, label, title = _METRICS[self.metric]
        scored = " / ".join(dict.fromkeys(r["metric"] for r in self.results)) or "score"
        scored = scored.replace("r2", "R²")
        label, title = label.format(metric=scored), title.format(metric=scored)
        methods = list(dict.fromkeys(r["method"] for r in self.results))
        # one colour per method, the same in every panel (tab20 beyond ten methods)
        if len(methods) <= 10:
            colours = {m: f"C{i}" for i, m in enumerate(methods)}
        else:
            import matplotlib

            palette = matplotlib.colormaps["tab20"]
            colours = {m: palette(i % 20) for i, m in enumerate(methods)}
        curves = {m: self._rows(m) for m in methods}
        curves = {m: rows for m, rows in curves.items() if rows}
        rates = {r["missing_rate"] for rows in curves.values() for r in rows}
        self.legend_beside_ = False
        self.kind_ = self.kind if self.kind != "auto" else (
            "line" if len(rates) > 1 else "bar")

        def figures(rows, key):
            return np.array([_as_float(r[key]) for r in rows])

        if self.kind_ == "line":
            for method, rows in curves.items():
                std = None if spread is None else figures(rows, spread)
                self.ax_.errorbar(figures(rows, "missing_rate"), figures(rows, value),
                                  yerr=std, marker="o", capsize=3, label=method,
                                  color=colours[method])
            self.ax_.set_xlabel("share of modality slots missing")
            self.ax_.set_ylabel(label)
            self.legend_beside_ = len(curves) > _LEGEND_INSIDE  # inside, it hides lines
            if self.legend_beside_:
                self.ax_.legend(fontsize="small", loc="upper left",
                                bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
            else:
                self.ax_.legend(fontsize="small", loc="best")
            self.methods_ = list(curves)
        else:
            mean = {m: figures(rows, value).mean() for m, rows in curves.items()}
            # best at the top: highest accuracy, lowest RMSE
            order = sorted(mean, key=mean.get, reverse=self.metric != "rmse")
            std = None
            if spread is not None and len(rates) == 1:
                std = [figures(curves[m], spread).mean() for m in order]
            position = np.arange(len(order))[::-1]
            self.ax_.barh(position, [mean[m] for m in order], xerr=std, capsize=3,
                          color=[colours[m] for m in order])
            self.ax_.set_yticks(position, order)
            if order:
                err = max(std) if std else 0.0
                low, high = min(mean.values()) - err, max(mean.values()) + err
                pad = 0.1 * (high - low) or 0.05 * abs(high) or 0.05
                start = max(low - pad, 0.0)
                self.ax_.set_xlim(start, high + pad)
                # the axis does not start at 0: the figures say what the lengths cannot
                for y, method in zip(position, order):
                    self.ax_.text(start + 0.02 * (high + pad - start), y,
                                  f"{mean[method]:.3f}", va="center", fontsize="small",
                                  bbox={"facecolor": "white", "alpha": 0.8,
                                        "edgecolor": "none", "pad": 1.5})
            rate_text = (f"{next(iter(rates)):.0%} of slots hidden" if len(rates) == 1
                         else f"mean over {len(rates)} missing rates")
            self.ax_.set_xlabel(f"{label}, {rate_text}")
            self.methods_ = order
        self.ax_.set_title(title)
        self.ax_.grid(alpha=0.3)
        self.figure_.tight_layout()
        return self
