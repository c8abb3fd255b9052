import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skmm.datasets import make_missing_modalities  # noqa: E402
from skmm.embed import PairwiseCLIPEmbedder  # noqa: E402
from skmm.embed._losses import info_nce  # noqa: E402


def test_loss_is_mean_of_pairwise_info_nce_over_present_rows(fast_params, linked_data):
    X = make_missing_modalities(linked_data(40), 0.4, random_state=0)
    emb = PairwiseCLIPEmbedder(**fast_params).fit(X)
    data = emb._to_tensors(X, "cpu")
    xs, observed = data.tensors, data.observed
    loss, parts = emb.batch_loss(emb.module_, xs, observed, epoch=1, generator=None)
    z = emb._unit_embeddings(emb.module_, xs, observed)
    expected = []
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        rows = observed[:, i] & observed[:, j]
        expected.append(info_nce(z[rows, i], z[rows, j], emb.temperature))
    assert loss.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-6)
    # garbage in the rows of missing modalities changes nothing
    garbage = [torch.where(observed[:, [m]], x, torch.full_like(x, -50.0))
               for m, x in enumerate(xs)]
    garbage_loss, _ = emb.batch_loss(emb.module_, garbage, observed, epoch=1,
                                     generator=None)
    assert garbage_loss.item() == loss.item()


def test_fit_loss_decreases_and_alignment(fast_params, linked_data):
    X = linked_data()
    params = {**fast_params, "max_epochs": 12, "fusion": "concat"}
    emb = PairwiseCLIPEmbedder(**params).fit(X)
    assert emb.loss_curve_[-1] < 0.8 * emb.loss_curve_[0]
    Z = emb.transform(X)
    assert Z.shape == (80, 3 * 8 + 3)
    names = emb.get_feature_names_out()
    assert names[0] == "a__emb0" and names[-1] == "present__c"
    # matching samples are closer across modalities than random pairs
    z = Z[:, :24].reshape(80, 3, 8)
    cos = z[:, 0] @ z[:, 1].T
    assert np.diag(cos).mean() > cos.mean() + 0.2


def test_retrieval_scores_are_cosines(fast_params, linked_data):
    X = linked_data(40)
    emb = PairwiseCLIPEmbedder(**{**fast_params, "fusion": "concat"}).fit(X)
    z = emb.transform(X)[:, :24].reshape(40, 3, 8)
    S = emb.retrieval_scores(X, X, "b", "a")
    # transform and retrieval both run the float64 network: rounding ~1e-15
    np.testing.assert_allclose(S, z[:, 1] @ z[:, 0].T, rtol=0, atol=1e-12)
    # several candidate modalities: cosine with their normalised mean
    S2 = emb.retrieval_scores(X, X[:10], "b")
    c = z[:10, 0] + z[:10, 2]
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    np.testing.assert_allclose(S2, z[:, 1] @ c.T, rtol=0, atol=1e-12)


def test_deterministic_pickle_and_missing_fit(fast_params, linked_data):
    X = make_missing_modalities(linked_data(60), 0.5, random_state=2)
    a = PairwiseCLIPEmbedder(**fast_params).fit(X)
    b = PairwiseCLIPEmbedder(**fast_params).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.transform(X), a.transform(X))
    # samples sharing no modality pair still embed (from their one modality)
    Z = a.transform(X)
    assert np.isfinite(Z).all() and np.all(np.linalg.norm(Z, axis=1) > 0)


def test_bad_params(fast_params, linked_data):
    with pytest.raises(ValueError, match="fusion"):
        PairwiseCLIPEmbedder(**{**fast_params, "fusion": "max"}).fit(linked_data(20))
    with pytest.raises(ValueError, match="normalize_output"):
        PairwiseCLIPEmbedder(**{**fast_params, "normalize_output": "yes"}).fit(
            linked_data(20))


def test_normalize_output(fast_params, linked_data):
    X = make_missing_modalities(linked_data(30), 0.3, random_state=0)
    emb = PairwiseCLIPEmbedder(**{**fast_params, "normalize_output": True}).fit(X)
    np.testing.assert_allclose(np.linalg.norm(emb.transform(X), axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", ["temperature", "max_epochs"])
def test_documented_defaults_follow_each_class(name):
    """OVA-IB and CLIP share a parameter docstring but not these defaults."""
    import inspect

    from skmm.embed import OVAIBEmbedder

    for cls in (OVAIBEmbedder, PairwiseCLIPEmbedder):
        default = inspect.signature(cls).parameters[name].default
        assert f"{name} : " in cls.__doc__
        line = cls.__doc__.split(f"{name} : ", 1)[1].splitlines()[0]
        assert line.endswith(f"default={default}"), (cls.__name__, line)
