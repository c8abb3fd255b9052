"""Properties every public torch embedder shares (float64 inference, no silent NaN,
failure-atomic fits), each tested with its ``TEST_PARAMS`` (2 epochs)."""

import copy
import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skmm.datasets import make_missing_modalities  # noqa: E402
from skmm.embed import (  # noqa: E402
    CalMRLEmbedder,
    COrALEmbedder,
    OVAIBEmbedder,
    PairwiseCLIPEmbedder,
)
from skmm.utils._testing import TEST_PARAMS  # noqa: E402

EMBEDDERS = [COrALEmbedder, CalMRLEmbedder, OVAIBEmbedder, PairwiseCLIPEmbedder]
# the embedders with per-modality embeddings and retrieval_scores
RETRIEVAL = (OVAIBEmbedder, PairwiseCLIPEmbedder, CalMRLEmbedder)
# float64 inference: a row's output differs across batch compositions by ~1e-15 (float32
# kernels: up to ~1e-6); 1e-12 leaves a 1000-fold margin on any CPU or thread count.
SUBSET_ATOL = 1e-12


def _make(cls, **params):
    return cls(**{**TEST_PARAMS[cls.__name__](), "batch_size": 16, **params})


@pytest.fixture
def data(linked_data):
    return make_missing_modalities(linked_data(60), 0.3, random_state=0)


def _outputs(est, X, candidates):
    """Every inference output of ``est`` on ``X`` (retrieval: queries ``X``)."""
    out = [est.transform(X)]
    if isinstance(est, CalMRLEmbedder):
        for output in ("latent", "concat"):
            out.append(est.set_params(output=output).transform(X))
        est.set_params(output="anchor")
    if isinstance(est, RETRIEVAL):
        out.append(est.retrieval_scores(X, candidates, "a"))
    return out


@pytest.mark.parametrize("cls", EMBEDDERS, ids=lambda c: c.__name__)
def test_inference_does_not_depend_on_the_other_rows(cls, data):
    est = _make(cls).fit(data)
    full = _outputs(est, data, data)
    single = [_outputs(est, data[i : i + 1], data) for i in range(8)]
    rows = np.random.default_rng(0).permutation(60)[:17]
    subset = _outputs(est, data[rows], data)
    for k, whole in enumerate(full):
        by_row = np.concatenate([s[k] for s in single])
        np.testing.assert_allclose(by_row, whole[:8], rtol=0, atol=SUBSET_ATOL)
        np.testing.assert_allclose(subset[k], whole[rows], rtol=0, atol=SUBSET_ATOL)
    if isinstance(est, RETRIEVAL):  # nor on the other candidates
        np.testing.assert_allclose(est.retrieval_scores(data, data[rows], "a"),
                                   full[-1][:, rows], rtol=0, atol=SUBSET_ATOL)


@pytest.mark.parametrize("cls", EMBEDDERS, ids=lambda c: c.__name__)
def test_inference_leaves_the_estimator_state_alone(cls, data):
    est = _make(cls).fit(data)
    state = dict(est.__dict__)
    _outputs(est, data, data)
    assert est.__dict__.keys() == state.keys()
    assert all(est.__dict__[k] is v for k, v in state.items())
    assert all(p.dtype == torch.float32 for p in est.module_.parameters())


@pytest.mark.parametrize("value", [1e20, 9.96921e36, 1e200])
@pytest.mark.parametrize("cls", EMBEDDERS, ids=lambda c: c.__name__)
def test_huge_value_at_transform_is_embedded_or_a_clear_error_never_nan(cls, value, data):
    """Float64 inference embeds values up to 1e100 training SDs finitely (a fill value
    of 9.96921e36 included); beyond, a ValueError names the modality and the row."""
    est = _make(cls).fit(data)
    X = {m: data[m].copy() for m in data.modalities}
    X["a"][3] = 0.5  # observed
    X["a"][3, 1] = value
    rows = np.delete(np.arange(60), 3)
    clean = est.transform({m: v[rows] for m, v in X.items()})
    if value < 1e100:
        out = est.transform(X)
        assert np.isfinite(out).all()
        # the other rows do not depend on the huge one (float64: ~1e-15)
        np.testing.assert_allclose(out[rows], clean, rtol=1e-12, atol=1e-12)
        return
    match = r"Modality 'a' has values too large to embed in rows \[3\]"
    with pytest.raises(ValueError, match=match):
        est.transform(X)
    if isinstance(est, RETRIEVAL):
        with pytest.raises(ValueError, match=match):
            est.retrieval_scores(X, data, "a")
    assert np.isfinite(clean).all()


@pytest.mark.parametrize("cls", EMBEDDERS, ids=lambda c: c.__name__)
def test_huge_training_values_train_as_the_unscaled_data(cls, data):
    est = _make(cls).fit(data)
    # times 2**664 (~1e200) is exact and so is the standardisation: the same training
    big = {m: data[m] * 2.0**664 if m == "a" else data[m] for m in data.modalities}
    other = _make(cls).fit(big)
    assert all(torch.isfinite(p).all() for p in other.module_.parameters())
    np.testing.assert_array_equal(other.transform(big), est.transform(data))
    # one entry of 1e200 among ordinary values: finite weights and embedding
    X = {m: data[m].copy() for m in data.modalities}
    X["a"][np.flatnonzero(data.observed[:, 0])[0], 0] = 1e200
    est = _make(cls).fit(X)
    assert all(torch.isfinite(p).all() for p in est.module_.parameters())
    assert np.isfinite(est.transform(X)).all()


def _snapshot(est, X):
    """What a failed call must leave unchanged, as arrays to compare bit for bit."""
    tensors = list(est.module_.state_dict().values()) + [
        v for s in est._optimizer_state["state"].values() for v in s.values()
    ]
    arrays = [est.transform(X), np.array(est.loss_curve_),
              np.array([est.n_iter_, len(est.history_)])]
    if isinstance(est, CalMRLEmbedder):
        arrays.append(np.array([h["epoch"] for h in est.calibration_history_]))
        arrays += list(est.latent_model_.components)
    return arrays + [t.numpy().copy() for t in tensors]


@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("cls", EMBEDDERS, ids=lambda c: c.__name__)
def test_failed_continued_fit_leaves_the_estimator_unchanged(cls, method, data):
    est = _make(cls, warm_start=method == "warm_start")
    est.fit(data) if method == "warm_start" else est.partial_fit(data)
    twin = copy.deepcopy(est)  # never fails
    before, lr = _snapshot(est, data), est.lr
    # lr=1e12: AdamW's decoupled weight decay alone multiplies the weights by about
    # -1e9 per step, so they overflow within a few of the epoch's 4 steps on any CPU
    est.set_params(lr=1e12)
    with pytest.raises(FloatingPointError, match="diverged.*left as it was"):
        est.fit(data) if method == "warm_start" else est.partial_fit(data)
    after = _snapshot(est, data)
    assert len(after) == len(before)
    for x, y in zip(after, before):
        np.testing.assert_array_equal(x, y)
    # and it continues exactly as an estimator that never failed (same RNG state)
    est.set_params(lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for e in (est, twin):
            e.partial_fit(data)
    np.testing.assert_array_equal(est.transform(data), twin.transform(data))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(data),
                                  twin.transform(data))


@pytest.mark.parametrize("cls", EMBEDDERS, ids=lambda c: c.__name__)
def test_every_parameter_documents_its_real_default(cls):
    """``name : type, default=X`` in the docstring matches the signature (the shared
    training parameters included: ``batch_size`` is "auto", not 256)."""
    import inspect
    import re

    documented = {}
    for names, default in re.findall(r"^    (\w+(?:, \w+)*) : .*default=(.+)$",
                                     cls.__doc__, flags=re.M):
        for name in names.split(", "):
            documented[name] = default.strip()
    signature = inspect.signature(cls).parameters
    assert set(documented) == set(signature)
    for name, parameter in signature.items():
        real, doc = parameter.default, documented[name]
        if isinstance(real, str):
            assert doc.strip("\"'") == real, name
        elif isinstance(real, bool) or real is None:
            assert doc == str(real), name
        else:
            assert float(doc) == real, name
