"""What skmm transformers return drops into any scikit-learn step.

Each skmm transformer is followed, in a Pipeline, by scikit-learn steps that take a 2-D
array: ColumnTransformer (int, slice, bool, string and ``make_column_selector``
columns), FunctionTransformer, SelectKBest, PolynomialFeatures and FeatureUnion, with
the default output and with ``set_output(transform="pandas")``.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures, StandardScaler

from skmm import MultiModalData
from skmm.datasets import make_missing_modalities
from skmm.utils._testing import IMPUTERS, registered_instances

TRANSFORMERS = [e for e in registered_instances() if hasattr(e, "transform")]
IDS = [type(e).__name__ for e in TRANSFORMERS]
N = 48


def _data(est):
    """Three modalities; with missing rows only for the imputers and the indicator
    (whose outputs are finite), so that every downstream step sees finite values."""
    rng = np.random.default_rng(0)
    y = np.arange(N) % 2
    X = MultiModalData(
        a=rng.normal(size=(N, 3)) + y[:, None],
        b=rng.normal(size=(N, 2)) - y[:, None],
        c=rng.normal(size=(N, 4)),
    )
    if type(est).__name__ in IMPUTERS | {"MissingModalityIndicator"}:
        X = make_missing_modalities(X, 0.3, random_state=0)
    return X, y


def _steps(width):
    """Downstream steps for an input of ``width`` columns (any output container)."""
    mask = np.zeros(width, dtype=bool)
    mask[::2] = True
    return {
        "column_slice": ColumnTransformer([("s", StandardScaler(), slice(0, 2))]),
        "column_ints": ColumnTransformer(
            [("s", StandardScaler(), [0, width - 1])], remainder="passthrough"
        ),
        "column_int": ColumnTransformer([("s", StandardScaler(), [1])]),
        "column_bool": ColumnTransformer([("s", StandardScaler(), mask)]),
        "function": FunctionTransformer(np.abs),
        "identity": FunctionTransformer(),
        "select_k_best": SelectKBest(f_classif, k=2),
        "polynomial": PolynomialFeatures(2),
        "feature_union": FeatureUnion([("pca", PCA(2)), ("scale", StandardScaler())]),
    }


STEP_NAMES = list(_steps(4))


@pytest.mark.parametrize("output", ["default", "pandas"])
@pytest.mark.parametrize("step", STEP_NAMES)
@pytest.mark.parametrize("est", TRANSFORMERS, ids=IDS)
def test_sklearn_steps_after_skmm_transformers(est, step, output):
    if output == "pandas":
        pytest.importorskip("pandas")
    X, y = _data(est)
    width = clone(est).fit(X, y).transform(X[:2]).shape[1]
    pipe = make_pipeline(clone(est), _steps(width)[step], LogisticRegression())
    if output == "pandas":
        pipe.set_output(transform="pandas")
    pipe.fit(X, y)
    assert pipe.predict(X[:5]).shape == (5,)
    Xt = pipe[:-1].transform(X)
    assert np.isfinite(np.asarray(Xt, dtype=float)).all()


@pytest.mark.parametrize("est", TRANSFORMERS, ids=IDS)
def test_string_column_selectors_on_pandas_output(est):
    pytest.importorskip("pandas")
    X, y = _data(est)
    first = clone(est).set_output(transform="pandas").fit(X, y).transform(X).columns
    prefix = str(first[0]).split("__")[0]
    transformer = ColumnTransformer(
        [
            ("named", StandardScaler(), [first[0], first[-1]]),
            ("pattern", StandardScaler(), make_column_selector(pattern=f"^{prefix}")),
        ]
    )
    pipe = make_pipeline(clone(est), transformer, LogisticRegression())
    pipe.set_output(transform="pandas")
    pipe.fit(X, y)
    Xt = pipe[:-1].transform(X)
    assert Xt.shape[0] == N and list(Xt.index) == list(range(N))


def test_pandas_output_keeps_the_input_index():
    pd = pytest.importorskip("pandas")
    from skmm.impute import CalMRLImputer

    rng = np.random.default_rng(0)
    labels = [f"s{i}" for i in range(20)]
    a = pd.DataFrame(rng.normal(size=(20, 3)), index=labels)
    b = pd.DataFrame(rng.normal(size=(12, 2)), index=labels[8:][::-1])  # 8 rows missing
    imputer = CalMRLImputer(n_components=1, random_state=0).set_output(transform="pandas")
    out = imputer.fit_transform({"a": a, "b": b})
    assert list(out.index) == labels
    np.testing.assert_array_equal(out.loc["s9", ["b__0", "b__1"]], b.loc["s9"])
    assert np.isfinite(out.to_numpy()).all()
    default = clone(imputer).set_output(transform="default").fit({"a": a, "b": b})
    assert list(default.transform({"a": a, "b": b}).index) == labels
