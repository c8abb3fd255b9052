"""skmm on data that is not mfeat: scikit-learn's breast-cancer (30 features -> 3 views
of 10) and wine (13 -> 2 views) given as per-modality DataFrames that lack the rows of
the samples missing that view (the natural layout, shuffled), through real pipelines:
5-fold stratified accuracy of a LogisticRegression probe, row pairing checked label by
label, pandas output with make_column_selector.

The views are built here (not by ``benchmarks/common.py``'s masking protocol): the point
is the natural layout. Timing and table come from ``common``.

Run: ``.venv/bin/python benchmarks/bench_real_views.py``
"""
import warnings

import numpy as np
import pandas as pd
import torch
from common import median_time, print_table
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm import MultiModalData
from skmm.embed import OVAIBEmbedder
from skmm.impute import CalMRLImputer, PartialModalityKMeansImputer

RATE = 0.4  # share of each view's rows absent, every sample keeps the first view


def breast_cancer():
    data = load_breast_cancer()
    names = list(data.feature_names)
    return data, {"mean": names[:10], "se": names[10:20], "worst": names[20:]}


def wine():
    data = load_wine()
    names = list(data.feature_names)
    return data, {"chem": names[:7], "color": names[7:]}


DATASETS = {"breast cancer (3 views)": breast_cancer, "wine (2 views)": wine}


def views(data, groups, rate, seed):
    """Per-view DataFrames lacking the rows of the samples missing that view, shuffled."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(data.data, columns=data.feature_names,
                         index=[f"id{i:04d}" for i in range(len(data.target))])
    y = pd.Series(data.target, index=frame.index)
    keep = rng.random((len(frame), len(groups))) > rate
    keep[~keep.any(1), 0] = True
    mods = {}
    for j, (name, cols) in enumerate(groups.items()):
        sub = frame.loc[keep[:, j], cols]
        mods[name] = sub.sample(frac=1, random_state=j)      # shuffled, rows missing
    return mods, y


def methods(X):
    def probe():
        return LogisticRegression(max_iter=3000)

    return {
        "mean": make_pipeline(SimpleImputer(), StandardScaler(), probe()),
        "calmrl q=4": make_pipeline(
            CalMRLImputer(n_components=4, random_state=0), StandardScaler(), probe()
        ),
        "pmkmeans k=8": make_pipeline(
            PartialModalityKMeansImputer(n_clusters=8, random_state=0),
            StandardScaler(), probe(),
        ),
        "calmrl -> ColumnTransformer(first view)": make_pipeline(
            CalMRLImputer(n_components=4, random_state=0),
            ColumnTransformer(
                [("v", StandardScaler(), slice(0, X.n_features[X.modalities[0]]))]
            ),
            probe(),
        ),
        "ovaib (20 epochs)": make_pipeline(
            OVAIBEmbedder(max_epochs=20, random_state=0), probe()
        ),
    }


def check_pandas_round_trip(X, mods):
    """pandas output keeps the aligned index; make_column_selector picks a view."""
    out = (
        CalMRLImputer(n_components=4, random_state=0)
        .set_output(transform="pandas")
        .fit_transform(mods)
    )
    assert list(out.index) == list(X.index) and np.isfinite(out.to_numpy()).all()
    last_view = make_column_selector(pattern=f"^{X.modalities[-1]}__")
    sel = make_pipeline(
        CalMRLImputer(n_components=4, random_state=0),
        ColumnTransformer([("p", StandardScaler(), last_view)]),
    )
    sel.set_output(transform="pandas")
    print(
        "  pandas + make_column_selector:",
        sel.fit_transform(mods).shape,
        "index kept:",
        list(sel.transform(mods).index[:2]),
    )


def main():
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    for title, make in DATASETS.items():
        mods, y = views(*make(), RATE, 0)
        X = MultiModalData(mods)
        assert list(X.index) == list(y.index) or set(X.index) == set(y.index)
        yy = y.loc[X.index].to_numpy()   # labels by the aligned index
        # pairing check: every observed row equals the source row with that label
        for m, f in mods.items():
            rows = X.index.get_indexer(f.index)
            assert np.array_equal(X[m][rows], f.to_numpy())
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        missing = np.round(1 - X.observed.mean(0), 2)
        print(f"\n{title}: {X.n_samples} samples, {X.n_features}, missing {missing}\n")
        rows = []
        for name, pipe in methods(X).items():
            seconds, s = median_time(lambda: cross_val_score(pipe, X, yy, cv=cv))
            rows.append((name, f"{s.mean():.3f} ± {s.std():.3f}", f"{seconds:.1f}"))
        print_table(["method", "5-fold accuracy", "s"], rows)
        check_pandas_round_trip(X, mods)


if __name__ == "__main__":
    main()
