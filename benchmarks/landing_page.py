"""The benchmark shown on the documentation's landing page.

Run: ``.venv/bin/python benchmarks/landing_page.py [--dataset NAME] [--methods a,b,...]
[--epochs N] [--n-jobs N]``

Runs :func:`skmm.benchmark.run_benchmark` on a bundled data set (``--dataset``, one of
``skmm.datasets.BENCHMARK_DATASETS``; default mfeat) with MCAR at 30%, 50% and 70% of
modality slots missing, 5-fold stratified CV, one BLAS/torch thread per worker
(``--n-jobs`` workers run the folds), and writes, for mfeat,

- ``doc/_static/benchmark.json``: every result, one row per (method, missing rate);
- ``doc/_static/benchmark.png``: accuracy against missing rate, one line per method;
- ``doc/benchmark_results.rst``: the table included by ``doc/index.rst``;

and for another data set NAME the same as ``benchmark-NAME.json``, ``benchmark-NAME.png``
and ``benchmark_results_NAME.rst`` (dashes as underscores).

Masks and folds depend only on ``--random-state``, so methods can be (re)run separately:
results of the methods named by ``--methods`` replace their previous rows in the JSON
file and the figure and table are redrawn from all rows. The stored rows were made with
the defaults, except ``coral`` (``--methods coral --epochs 30``); the epochs each
embedder trained are recorded in the JSON file and shown in the table.
"""

import argparse
import json
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skmm.benchmark import METHODS, _json_safe, make_method, run_benchmark, save_figure
from skmm.datasets import BENCHMARK_DATASETS

DOC = Path(__file__).resolve().parents[1] / "doc"
RATES = (0.3, 0.5, 0.7)
DEFAULT_METHODS = (
    "zero+indicator", "late-fusion", "stacking", "mean", "knn", "iterative", "hgb",
    "softimpute", "mofa", "pmkmeans", "calmrl", "calmrl-feature", "coral", "ovaib",
    "clip", "fusion", "oracle",
)
# What each data set is, for the opening sentence of its table.
DATASETS = {
    "mfeat": "the bundled mfeat digits (2,000 samples, six modalities, 10 classes)",
    "nutrimouse": "nutrimouse (40 mice, gene expression and hepatic lipid views, 5 diets)",
    "breast-cancer": "scikit-learn's breast cancer data as three views (mean, standard "
                     "error and worst of 10 measurements; 569 samples, 2 classes)",
    "digits": "scikit-learn's 8x8 digits as four views, the image quadrants (1,797 "
              "samples, 10 classes)",
    "diabetes": "scikit-learn's diabetes data as two views (clinical: age, sex, body "
                "mass index, blood pressure; six blood serum measurements; 442 patients, "
                "a continuous target: disease progression after one year)",
}
# Rows that are references, not methods: left out of the ranking.
REFERENCES = ("oracle",)
# The opening paragraph of doc/benchmark_results.rst, line by line.
INTRO = """\
{score} on {dataset} with a
share of the modality rows hidden
completely at random, every sample keeping at least one. Imputers feed
``StandardScaler -> {probe}``; embedders feed the probe with their embedding
plus the presence bits. RMSE: imputation error on the hidden rows of the test folds
(standardised units, imputers only); fit: seconds per training fold at 50% missing,
one thread. Measured on {machine} {dates}; reproduce with
``python benchmarks/landing_page.py{option}`` (``python -m skmm benchmark{option}``
runs the same comparison from the command line)."""


# What the scores are, by the results' metric: (the score, the probe, its name in text).
SCORES = {
    "accuracy": ("Accuracy of a logistic-regression probe (5-fold stratified CV)",
                 "LogisticRegression", "accuracy"),
    "r2": ("R² (coefficient of determination) of a ridge probe (5-fold CV)", "RidgeCV",
           "R²"),
}


def _cell(rows, rate):
    row = next((r for r in rows if np.isclose(r["missing_rate"], rate)), None)
    if row is None:
        return "—"
    return f"{row['score_mean']:.3f} ± {row['score_std']:.3f}"


def ranking_lines(results):
    """One bullet per missing rate: the two most accurate methods and whether the lead
    exceeds the fold-to-fold standard deviation (written from the numbers, so that the
    text says what a rerun measures)."""
    lines = []
    for rate in RATES:
        rows = sorted((r for r in results if np.isclose(r["missing_rate"], rate)
                       and r["method"] not in REFERENCES),
                      key=lambda r: -r["score_mean"])
        if len(rows) < 2:
            continue
        first, second = rows[:2]
        # the lead between the numbers as printed, so that the sentence adds up
        lead = round(first["score_mean"], 3) - round(second["score_mean"], 3)
        spread = max(first["score_std"], second["score_std"])
        within = "smaller" if lead < spread else "larger"
        ceiling = next((r for r in results if np.isclose(r["missing_rate"], rate)
                        and r["method"] in REFERENCES), None)
        reference = "" if ceiling is None else (
            f" The ``{ceiling['method']}`` reference reaches "
            f"{ceiling['score_mean']:.3f}.")
        lines.append(
            f"- {100 * rate:.0f}% missing: ``{first['method']}`` "
            f"{first['score_mean']:.3f}, then ``{second['method']}`` "
            f"{second['score_mean']:.3f}; the lead ({lead:.3f}) is {within} than the "
            f"folds' standard deviation ({spread:.3f}).{reference}"
        )
    return lines


def _dates(meta):
    """``on DATE``, or the range of the per-method run dates when they differ."""
    dates = sorted(set(meta.get("dates", {}).values()) or {meta["date"]})
    if len(dates) == 1:
        return f"on {dates[0]}"
    return f"between {dates[0]} and {dates[-1]} (the date of each method's run is in " \
        "``doc/_static/benchmark.json``)"


def _paths(dataset):
    """``(json, png, rst)`` paths of a data set's results."""
    if dataset == "mfeat":
        return (DOC / "_static" / "benchmark.json", DOC / "_static" / "benchmark.png",
                DOC / "benchmark_results.rst")
    return (DOC / "_static" / f"benchmark-{dataset}.json",
            DOC / "_static" / f"benchmark-{dataset}.png",
            DOC / f"benchmark_results_{dataset.replace('-', '_')}.rst")


def write_table(results, path, meta, dataset="mfeat"):
    """The RST table of the landing page, methods sorted by accuracy at 50% missing."""
    methods = list(dict.fromkeys(r["method"] for r in results))
    at_half = {
        m: next((r["score_mean"] for r in results
                 if r["method"] == m and np.isclose(r["missing_rate"], 0.5)), 0.0)
        for m in methods
    }
    methods.sort(key=lambda m: -at_half[m])
    title = "Benchmark" if dataset == "mfeat" else f"Benchmark on {dataset}"
    score, probe, scored = SCORES[results[0].get("metric", "accuracy")]
    option = "" if dataset == "mfeat" else f" --dataset {dataset}"
    lines = [
        title,
        "-" * len(title),
        "",
        *INTRO.format(score=score, probe=probe, dataset=DATASETS[dataset],
                      machine=meta["machine"], dates=_dates(meta),
                      option=option).splitlines(),
        "",
        f"Highest mean {scored} at each missing rate, and the runner-up:",
        "",
        *ranking_lines(results),
        "",
        "Each embedder is trained for one number of epochs only (in brackets);",
        "the gallery example :ref:`sphx_glr_auto_examples_plot_ovaib.py` compares",
        "``OVAIBEmbedder`` and ``PairwiseCLIPEmbedder`` on complete training data at two",
        "training budgets, where their order depends on the budget.",
        "",
        f".. image:: _static/{_paths(dataset)[1].name}",
        f"   :alt: {scored} against the share of missing modality slots, "
        "one line per method",
        "   :width: 640px",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - method",
        *[f"     - {100 * rate:.0f}% missing" for rate in RATES],
        "     - RMSE (50%)",
        "     - fit s (50%)",
    ]
    for m in methods:
        rows = [r for r in results if r["method"] == m]
        half = next((r for r in rows if np.isclose(r["missing_rate"], 0.5)), None)
        missing_rmse = half is None or half["rmse"] is None or np.isnan(half["rmse"])
        rmse = "—" if missing_rmse else f"{half['rmse']:.3f}"
        fit = "—" if half is None else f"{half['fit_time']:.1f}"
        epochs = meta.get("epochs", {}).get(m)
        trained = f" ({epochs} epochs)" if epochs else ""
        lines += [f"   * - ``{m}``: {METHODS[m][1]}{trained}",
                  *[f"     - {_cell(rows, rate)}" for rate in RATES],
                  f"     - {rmse}", f"     - {fit}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=list(BENCHMARK_DATASETS), default="mfeat")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="workers running the folds (one thread each)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs of the embedders (default: each one's own)")
    parser.add_argument("--redraw", action="store_true",
                        help="only redraw figure and table")
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]

    store, figure, table = _paths(args.dataset)
    saved = json.loads(store.read_text()) if store.exists() else {"results": []}
    results = saved["results"]
    if not args.redraw:
        import torch

        torch.set_num_threads(1)
        X, y = BENCHMARK_DATASETS[args.dataset](return_X_y=True)
        for method in methods:
            start = time.perf_counter()
            with threadpool_limits(1):
                new = run_benchmark(X, y, methods=[method], missing_rates=RATES, cv=5,
                                    random_state=args.random_state, max_epochs=args.epochs,
                                    n_jobs=args.n_jobs)
            print(f"{method}: {time.perf_counter() - start:.0f} s", flush=True)
            # Re-read before writing: another run may have stored other methods meanwhile.
            saved = json.loads(store.read_text()) if store.exists() else {"results": []}
            results = [r for r in saved["results"] if r["method"] != method]
            results += [_json_safe(asdict(r)) for r in new]
            meta = saved.get("meta", {})
            epochs = meta.get("epochs", {})
            # Rows kept from earlier runs keep their own date (files written before
            # per-method dates recorded one date for all).
            dates = meta.get("dates") or {
                r["method"]: meta["date"] for r in results if "date" in meta
            }
            dates[method] = time.strftime("%Y-%m-%d")
            params = make_method(method)[0].get_params()
            trained = [v for k, v in params.items() if k.endswith("__max_epochs")]
            if trained:  # a torch embedder: record the epochs it trained
                epochs[method] = args.epochs or trained[0]
            saved = {
                "results": results,
                "meta": {"machine": f"{platform.machine()} Linux, {os.cpu_count()} cores",
                         "date": time.strftime("%Y-%m-%d"), "dates": dates,
                         "epochs": epochs},
            }
            store.parent.mkdir(exist_ok=True)
            store.write_text(json.dumps(_json_safe(saved), indent=1, allow_nan=False))

    import matplotlib

    matplotlib.use("Agg")
    order = [m for m in METHODS if any(r["method"] == m for r in results)]
    results.sort(key=lambda r: (order.index(r["method"]), r["missing_rate"]))
    save_figure(results, figure)
    write_table(results, table, saved["meta"], args.dataset)
    print(f"wrote {store}, {figure} and {table}")


if __name__ == "__main__":
    main()
