"""Which criterion picks an imputer's size: likelihood, reconstruction or labels?

For each bundled data set (``skmm.datasets.BENCHMARK_DATASETS``, rows shuffled), 50% of
the modality slots are hidden (MCAR). In each fold of an outer 5-fold split
(``StratifiedKFold(5, shuffle=True, random_state=0)``; ``KFold`` for the continuous
target of diabetes), the size of the imputer (``CalMRLImputer(clip=True)``'s
``n_components``, ``PartialModalityKMeansImputer``'s ``n_clusters``) is chosen on the
training fold by an inner 3-fold grid search under three criteria:

* ``likelihood``: the imputer's own ``score`` (``GridSearchCV(imputer, grid,
  cv=KFold(3, shuffle=True, random_state=0)).fit(X_train)``, no ``y``);
* ``reconstruction``: the same search with
  ``scoring=skmm.metrics.make_imputation_scorer(rate=0.2, random_state=0)``;
* ``label-aware``: ``GridSearchCV(make_pipeline(imputer, StandardScaler(),
  LogisticRegression(max_iter=2000)), {"<step>__<size>": grid}, cv=3).fit(X_train,
  y_train)`` (``RidgeCV`` and R^2 for a continuous target).

The first two are one multi-metric search (same inner folds and fits). Every size of the
grid is also fitted as that pipeline on the whole training fold and scored on the test
fold: accuracy (R^2), and imputation RMSE on the hidden rows (standardised units). A
criterion's figures are those of the size it chose in each fold. The grid is
``4, 8, 16, 32, 64, 128`` (``--grid``), clipped to what the data can hold
(``n_components`` to the features, ``n_clusters`` to a tenth of the training rows;
``skmm benchmark`` also clips ``n_components`` to a tenth of the rows, which would
leave nothing to choose on nutrimouse).

Run: ``flock /tmp/bench.lock .venv/bin/python benchmarks/bench_model_selection.py
[--quick] [--datasets NAME ...] [--imputers calmrl pmkmeans] [--n-jobs 2]``
(``--quick``: grid ``4, 16, 64``). Prints markdown tables and writes them as JSON to
``benchmarks/results/model_selection.json`` (``--out``).
"""

import argparse
import json
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from common import load_masked, median_time, print_table
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skmm.benchmark import benchmark_task
from skmm.datasets import BENCHMARK_DATASETS
from skmm.impute import CalMRLImputer, PartialModalityKMeansImputer
from skmm.metrics import imputation_rmse, make_imputation_scorer

IMPUTERS = {  # name -> (imputer, the parameter searched)
    "calmrl": (CalMRLImputer(clip=True, random_state=0), "n_components"),
    "pmkmeans": (PartialModalityKMeansImputer(random_state=0), "n_clusters"),
}
GRID = (4, 8, 16, 32, 64, 128)
UNSUPERVISED = {
    "likelihood": lambda est, X, y=None: est.score(X),  # what scoring=None calls
    "reconstruction": make_imputation_scorer(rate=0.2, random_state=0),
}
CRITERIA = (*UNSUPERVISED, "label-aware")


def clipped_grid(param, grid, n_train, n_features):
    """The grid clipped to what the data can hold (see the module docstring)."""
    limit = {"n_clusters": max(2, n_train // 10), "n_components": n_features}[param]
    return sorted({min(q, limit) for q in grid})


def run_fold(imputer, param, grid, regression, X_true, X, hidden, y, train, test):
    """Sizes chosen by each criterion, and every size's test score and RMSE."""
    warnings.simplefilter("ignore")  # convergence warnings of EM and the probe
    with threadpool_limits(1):
        inner = KFold(3, shuffle=True, random_state=0)
        search = GridSearchCV(imputer, {param: grid}, cv=inner, scoring=UNSUPERVISED,
                              refit=False).fit(X[train])
        probe = RidgeCV(np.logspace(-3, 3, 13)) if regression else LogisticRegression(
            max_iter=2000
        )
        pipe = make_pipeline(clone(imputer), StandardScaler(), probe)
        key = f"{pipe.steps[0][0]}__{param}"
        labelled = GridSearchCV(pipe, {key: grid}, cv=3, refit=False).fit(
            X[train], y[train]
        )
        ranks = {c: search.cv_results_[f"rank_test_{c}"] for c in UNSUPERVISED}
        ranks["label-aware"] = labelled.cv_results_["rank_test_score"]
        chosen = {c: grid[int(np.argmin(r))] for c, r in ranks.items()}  # ties: smaller
        fixed = {}
        for q in grid:
            est = clone(pipe).set_params(**{key: q}).fit(X[train], y[train])
            filled = est[0].transform(X[test])
            fixed[q] = (
                float(est[1:].score(filled, y[test])),  # accuracy or R^2
                imputation_rmse(X_true[test], filled, hidden[test])["overall"],
            )
    return chosen, fixed


def figures(score, rmse):
    return {"score": float(score.mean()), "score_std": float(score.std()),
            "rmse": float(rmse.mean())}


def summarise(grid, folds):
    """One row per criterion and per fixed size: choices, test score and RMSE over folds."""
    rows = []
    for c in CRITERIA:
        picks = [chosen[c] for chosen, _ in folds]
        score, rmse = np.array([fixed[q] for (_, fixed), q in zip(folds, picks)]).T
        rows.append({"selection": c, "chosen": picks,
                     "mode": Counter(picks).most_common(1)[0][0],
                     **figures(score, rmse)})
    for q in grid:
        score, rmse = np.array([fixed[q] for _, fixed in folds]).T
        rows.append({"selection": f"fixed {q}", "chosen": [q] * len(folds), "mode": q,
                     **figures(score, rmse)})
    return rows


def print_rows(title, param, metric, rows):
    print(f"\n### {title}\n")
    print_table(["selection", f"{param} per fold", "mode", metric, "RMSE"], [
        [r["selection"], ", ".join(map(str, r["chosen"])), r["mode"],
         f"{r['score']:.3f} ± {r['score_std']:.3f}", r["rmse"]]
        for r in rows
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="grid 4, 16, 64")
    parser.add_argument("--grid", nargs="*", type=int, default=list(GRID))
    parser.add_argument("--datasets", nargs="*", default=list(BENCHMARK_DATASETS),
                        choices=list(BENCHMARK_DATASETS))
    parser.add_argument("--imputers", nargs="*", default=list(IMPUTERS),
                        choices=list(IMPUTERS))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"
                                             / "model_selection.json"))
    args = parser.parse_args(argv)
    grid = (4, 16, 64) if args.quick else args.grid
    runs = []  # (dataset, imputer, metric, grid, a task per outer fold)
    for name in args.datasets:
        X_true, y, X, hidden = load_masked(
            name, 0.5, loader_kwargs={"shuffle": True, "random_state": 0}
        )
        regression = benchmark_task(y) == "regression"
        split = KFold if regression else StratifiedKFold
        folds = list(split(5, shuffle=True, random_state=0).split(X_true.observed, y))
        n_features = sum(X_true.n_features.values())
        for imp_name in args.imputers:
            imputer, param = IMPUTERS[imp_name]
            sizes = clipped_grid(param, grid, len(folds[0][0]), n_features)
            runs.append((name, imp_name, "R^2" if regression else "accuracy", sizes, [
                delayed(run_fold)(imputer, param, sizes, regression, X_true, X, hidden,
                                  y, tr, te)
                for tr, te in folds
            ]))
    seconds, results = median_time(lambda: Parallel(n_jobs=args.n_jobs)(
        task for *_, tasks in runs for task in tasks
    ))
    report = []
    for name, imp_name, metric, sizes, tasks in runs:
        folds, results = results[:len(tasks)], results[len(tasks):]
        param = IMPUTERS[imp_name][1]
        rows = summarise(sizes, folds)
        report.append({"dataset": name, "imputer": imp_name, "param": param,
                       "metric": metric, "grid": sizes, "rows": rows})
        print_rows(f"{name}, {imp_name} ({param})", param, metric, rows)
    print(f"\n{seconds:.0f} s with n_jobs={args.n_jobs}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"argv": sys.argv[1:] if argv is None else argv,
                               "seconds": round(seconds), "results": report},
                              indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
