"""LateFusionRegressor on the diabetes views (clinical 4, serum 6 features, 442 samples),
MCAR over the modality slots (each sample keeps one) at 30 / 50 / 70%: R^2 on the test
folds of a shuffled 5-fold KFold (random_state=0), one mask per rate (random_state=0),
the same folds and masks for every method (the protocol of ``benchmarks/common.py``).

Methods: the fusions of :class:`~skmm.ensemble.LateFusionRegressor` (``mean``,
``stacking``, ``weighted``, and ``weighted`` with a CalMRLImputer joint expert), the
per-pattern oracle (RidgeCV on the complete training data restricted to each test
sample's modalities: fitted before hiding, the ceiling of a linear model after perfect
imputation) and mean imputation followed by standardisation and RidgeCV.

Run: ``flock /tmp/bench.lock .venv/bin/python benchmarks/bench_late_fusion_regression.py``
"""
import argparse
import time
import warnings

import numpy as np
from common import fold_scores, load_masked, print_table
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm._baselines import PatternOracleRegressor
from skmm.ensemble import LateFusionRegressor
from skmm.impute import CalMRLImputer


def methods(n_components):
    imputer = CalMRLImputer(n_components=n_components, clip=True, random_state=0)
    return {
        "late fusion, mean": LateFusionRegressor(fusion="mean"),
        "late fusion, stacking": LateFusionRegressor(fusion="stacking", random_state=0),
        "late fusion, weighted": LateFusionRegressor(random_state=0),
        f"weighted + CalMRL joint (q={n_components})": LateFusionRegressor(
            imputer=imputer, random_state=0),
        "per-pattern oracle": PatternOracleRegressor(),
        "mean imputation + RidgeCV": make_pipeline(
            SimpleImputer(keep_empty_features=True), StandardScaler(),
            RidgeCV(alphas=np.logspace(-3, 3, 13))),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--n-components", type=int, default=4)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    table = {}
    start = time.perf_counter()
    for rate in args.rates:
        data = load_masked("diabetes", rate)
        folds = list(KFold(5, shuffle=True, random_state=0).split(data.y))
        for name, est in methods(args.n_components).items():
            complete = getattr(est, "fit_before_hiding", False)
            scores = fold_scores(est, folds, data.X_missing, data.y, r2_score,
                                 X_fit=data.X if complete else None)
            table.setdefault(name, []).append(
                f"{scores.mean():.3f} ± {scores.std():.3f}"
            )
    print_table(["method", *(f"{int(100 * r)}% missing" for r in args.rates)],
                [(name, *cells) for name, cells in table.items()])
    print(f"\nR^2 over 5 test folds (mean ± std); {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
