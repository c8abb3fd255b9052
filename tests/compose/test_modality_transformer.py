import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm import MultiModalData
from skmm.compose import MissingModalityIndicator, ModalitySelector, ModalityTransformer
from skmm.datasets import make_missing_modalities


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = np.arange(80) % 2
    X = MultiModalData(
        text=rng.normal(size=(80, 6)) + y[:, None], image=rng.normal(size=(80, 4))
    )
    return make_missing_modalities(X, 0.3, random_state=0), y


def test_fits_on_observed_rows_and_keeps_missing_rows_missing(data):
    X, _ = data
    mt = ModalityTransformer({"text": PCA(2)}).fit(X)
    rows = X.observed[:, 0]
    expected = PCA(2).fit(X["text"][rows]).transform(X["text"][rows])
    out = mt.transform(X)
    np.testing.assert_allclose(out["text"][rows], expected)
    assert np.isnan(out["text"][~rows]).all()
    assert out["image"] is X["image"]
    assert list(mt.get_feature_names_out()[:2]) == ["text__pca0", "text__pca1"]


def test_supervised_transformer_gets_matching_targets(data):
    X, y = data
    transformer = ModalityTransformer({"text": SelectKBest(k=3)}, remainder="drop")
    out = transformer.fit_transform(X, y)
    assert out.modalities == ("text",) and out.n_features["text"] == 3


def test_nested_params_reachable_by_grid_search(data):
    X, y = data
    pipe = make_pipeline(
        ModalityTransformer({"text": PCA(2)}, remainder=StandardScaler()),
        MissingModalityIndicator(),
        LogisticRegression(),
    )
    grid = {"modalitytransformer__text__n_components": [1, 3]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert search.best_params_["modalitytransformer__text__n_components"] in (1, 3)
    mt = ModalityTransformer({"text": PCA(2)}).set_params(text=PCA(1), text__whiten=True)
    assert mt.transformers["text"].n_components == 1 and mt.transformers["text"].whiten


def test_bad_transformers(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"\['audio'\]"):
        ModalityTransformer({"audio": PCA()}).fit(X)
    with pytest.raises(ValueError, match="'text'"):
        ModalityTransformer({"text": "scale"}).fit(X)
    with pytest.raises(ValueError, match="'remainder'"):
        ModalityTransformer(remainder="keep").fit(X)


def test_indicator_and_selector(data):
    X, _ = data
    bits = MissingModalityIndicator().fit_transform(X)
    np.testing.assert_array_equal(bits, X.observed.astype(float))
    ind = MissingModalityIndicator(features="missing-only", presence=False).fit(X)
    assert list(ind.get_feature_names_out()) == ["missing__text", "missing__image"]
    sel = ModalitySelector(["image"]).fit(X)
    assert sel.transform(X).modalities == ("image",)
    with pytest.raises(ValueError, match="unknown"):
        ModalitySelector(["audio"]).fit(X)


def test_y_of_the_wrong_length_is_a_clear_error():
    X = {"a": np.ones((6, 2)), "b": np.zeros((6, 1))}
    with pytest.raises(ValueError, match="y has 5 samples but X has 6"):
        ModalityTransformer().fit(X, np.arange(5))


def test_pandas_config_and_misbehaving_transformers():
    import sklearn
    from sklearn.preprocessing import FunctionTransformer

    pd = pytest.importorskip("pandas")
    X = {"a": np.random.default_rng(0).normal(size=(6, 2))}
    with sklearn.config_context(transform_output="pandas"):
        out = ModalityTransformer(remainder=StandardScaler()).fit_transform(X)
    assert isinstance(out, pd.DataFrame) and out.shape == (6, 2)
    inner = StandardScaler().set_output(transform="pandas")
    assert ModalityTransformer(remainder=inner).fit_transform(X)["a"].shape == (6, 2)
    assert ModalityTransformer(
        remainder=FunctionTransformer(lambda x: x.tolist())
    ).fit_transform(X)["a"].shape == (6, 2)
    for bad in (lambda x: x[:, 0], lambda x: x[:2], lambda x: x[:, :0]):
        with pytest.raises(ValueError, match="transformer of modality 'a'"):
            ModalityTransformer(remainder=FunctionTransformer(bad)).fit_transform(X)
