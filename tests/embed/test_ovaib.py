import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skmm.datasets import make_missing_modalities  # noqa: E402
from skmm.embed import OVAIBEmbedder  # noqa: E402
from skmm.embed._ovaib import projection_scores  # noqa: E402


def _direct_scores(anchor, rest, ridge):
    """Per-sample reference: s[n, p] = cos(z_n, A_p (A_p^T A_p + l I)^-1 A_p^T z_n)."""
    anchor, rest = np.asarray(anchor, float), np.asarray(rest, float)
    out = np.zeros((len(anchor), len(rest)))
    for p in range(len(rest)):
        A = rest[p][np.abs(rest[p]).sum(axis=1) > 0].T  # observed columns only
        if A.shape[1] == 0:
            continue
        proj = A @ np.linalg.solve(A.T @ A + ridge * np.eye(A.shape[1]), A.T)
        for n, z in enumerate(anchor):
            pz = proj @ z
            out[n, p] = z @ pz / (np.linalg.norm(z) * np.linalg.norm(pz))
    return out


@pytest.mark.parametrize("ridge", [1e-8, 1e-2])
def test_projection_scores_match_direct_per_sample_computation(ridge):
    g = torch.Generator().manual_seed(0)
    anchor = torch.randn(5, 6, generator=g, dtype=torch.float64)
    rest = torch.randn(4, 3, 6, generator=g, dtype=torch.float64)
    rest[1, 2] = 0.0  # an absent modality: its column must drop out
    rest[3, :2] = 0.0
    fast = projection_scores(anchor, rest, ridge).numpy()
    np.testing.assert_allclose(fast, _direct_scores(anchor, rest, ridge), rtol=1e-9,
                               atol=1e-12)
    assert fast.min() >= 0 and fast.max() <= 1 + 1e-12
    # dropping the zero column gives exactly the span of the observed ones
    np.testing.assert_allclose(
        fast[:, 1], projection_scores(anchor, rest[1:2, :2], ridge).numpy()[:, 0],
        rtol=1e-12,
    )


def _float64_reference_loss(emb, z, observed):
    """OVA-IB's loss as first written: float64 inverse-Gram scores, then InfoNCE."""
    import torch.nn.functional as F

    def scores(a, r):
        inv = torch.linalg.inv(r @ r.mT + emb.ridge * torch.eye(r.shape[1],
                                                                dtype=r.dtype))
        B = (r.reshape(-1, r.shape[2]) @ a.T).reshape(r.shape[0], r.shape[1], -1)
        C = inv @ B
        bc = (B * C).sum(1)
        proj = (bc - emb.ridge * (C * C).sum(1)).clamp_min(1e-30)
        return (bc / proj.sqrt()).T / a.norm(dim=1).clamp_min(1e-15)[:, None]

    M = observed.shape[1]
    sufficiency, minimality = [], []
    for m in range(M):
        others = [i for i in range(M) if i != m]
        valid = observed[:, others].any(1)
        rows = torch.nonzero(observed[:, m] & valid).flatten()
        logits = (scores(z[rows, m], z[:, others]) / emb.temperature).masked_fill(
            ~valid[None], float("-inf"))
        if emb.include_positive_in_denominator:
            sufficiency.append(F.cross_entropy(logits, rows))
        else:
            at = torch.arange(rows.numel())
            negatives = logits.clone()
            negatives[at, rows] = float("-inf")
            ok = torch.isfinite(negatives).any(1)
            sufficiency.append((torch.logsumexp(negatives[ok], 1)
                                - logits[at, rows][ok]).mean())
        n_rest = observed[rows][:, others].sum(1, keepdim=True)
        centroid = z[rows][:, others].sum(1) / n_rest
        minimality.append((z[rows, m] - centroid).square().sum(1).mean())
    return torch.stack(sufficiency).mean() + emb.beta * torch.stack(minimality).mean()


@pytest.mark.parametrize("spread", [1.0, 0.01, 0.001])
@pytest.mark.parametrize("paper_form", [False, True])
def test_float32_loss_and_gradient_match_float64_reference(spread, paper_form):
    # spread: how far the modalities of a sample lie from a shared direction; 0.001
    # makes every span nearly degenerate (1 - cos ~ 1e-6), the worst conditioning
    g = torch.Generator().manual_seed(0)
    n, M, d = 96, 4, 32
    raw = torch.randn(n, 1, d, generator=g) + spread * torch.randn(n, M, d, generator=g)
    observed = torch.rand(n, M, generator=g) > 0.3
    observed[:, 0] = True
    emb = OVAIBEmbedder(include_positive_in_denominator=not paper_form)

    class Net(torch.nn.Module):  # z is the parameter
        def __init__(self, z):
            super().__init__()
            self.z = torch.nn.Parameter(z)

        def forward(self, xs):
            return self.z

    net = Net(raw.clone())
    loss, _ = emb.batch_loss(net, None, observed, epoch=1, generator=None)
    loss.backward()
    z64 = torch.nn.Parameter(raw.double())
    ref = _float64_reference_loss(
        emb, torch.nn.functional.normalize(z64, dim=2) * observed[..., None], observed)
    ref.backward()
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    err = (net.z.grad.double() - z64.grad).abs().max() / z64.grad.abs().max()
    assert err < 1e-4


def test_float32_scores_match_float64():
    g = torch.Generator().manual_seed(2)
    anchor = torch.nn.functional.normalize(torch.randn(40, 16, generator=g), dim=1)
    rest = torch.randn(30, 1, 16, generator=g) + 0.01 * torch.randn(
        30, 4, 16, generator=g
    )
    rest = torch.nn.functional.normalize(rest, dim=2)
    rest[::3, 1] = 0.0
    s32 = projection_scores(anchor, rest, 1e-6)
    assert s32.dtype == torch.float32
    s64 = projection_scores(anchor.double(), rest.double(), 1e-6)
    np.testing.assert_allclose(s32.numpy(), s64.numpy(), rtol=0, atol=1e-5)


def test_projection_score_of_own_span_member_is_one_and_empty_span_is_zero():
    g = torch.Generator().manual_seed(1)
    rest = torch.randn(3, 2, 8, generator=g, dtype=torch.float64)
    rest[2] = 0.0
    anchor = rest[:, 0] + 0.5 * rest[:, 1]
    s = projection_scores(anchor[:2], rest, 1e-10)
    np.testing.assert_allclose(s.diagonal().numpy(), 1.0, atol=1e-8)
    assert torch.all(s[:, 2] == 0)
    # one rest vector: the score is |cos| (a 1-D span has no sign)
    a, b = torch.randn(2, 8, generator=g, dtype=torch.float64)
    s1 = projection_scores(a[None], (-b)[None, None], 1e-12).item()
    assert s1 == pytest.approx(abs(torch.nn.functional.cosine_similarity(a, b, dim=0)))


def test_fit_transform_loss_decreases_and_history(fast_params, linked_data):
    X = linked_data()
    emb = OVAIBEmbedder(**{**fast_params, "max_epochs": 12})
    Z = emb.fit_transform(X)
    assert Z.shape == (80, 8) and np.isfinite(Z).all()
    assert emb.loss_curve_[-1] < 0.8 * emb.loss_curve_[0]
    assert {"train_sufficiency", "train_minimality"} <= set(emb.history_[0])
    # fused = mean of unit vectors: norm <= 1
    assert np.linalg.norm(Z, axis=1).max() <= 1 + 1e-6


def test_minimality_weight_tightens_modality_embeddings(fast_params, linked_data):
    X = linked_data()
    low = OVAIBEmbedder(**{**fast_params, "max_epochs": 8, "beta": 0.0}).fit(X)
    high = OVAIBEmbedder(**{**fast_params, "max_epochs": 8, "beta": 5.0}).fit(X)
    assert high.history_[-1]["train_minimality"] < low.history_[-1]["train_minimality"]


def test_missing_modalities_never_enter_the_loss(fast_params, linked_data):
    X = linked_data(40)
    emb = OVAIBEmbedder(**fast_params).fit(X)
    Xm = make_missing_modalities(X, 0.4, random_state=0)
    data = emb._to_tensors(Xm, "cpu")
    observed = data.observed
    loss1, parts1 = emb.batch_loss(emb.module_, data.tensors, observed, epoch=1,
                                   generator=None)
    garbage = [torch.where(observed[:, [m]], x, torch.full_like(x, 1e3))
               for m, x in enumerate(data.tensors)]
    loss2, parts2 = emb.batch_loss(emb.module_, garbage, observed, epoch=1,
                                   generator=None)
    assert loss1.item() == loss2.item()
    # a modality absent from the whole batch gets no gradient at all
    present_no_b = observed.clone()
    present_no_b[:, 1] = False
    emb.module_.zero_grad()
    loss, _ = emb.batch_loss(emb.module_, data.tensors, present_no_b, epoch=1,
                             generator=None)
    loss.backward()
    grads_b = [p.grad for p in emb.module_.encoders[1].parameters()]
    assert all(g is None or torch.count_nonzero(g) == 0 for g in grads_b)
    grads_a = [p.grad for p in emb.module_.encoders[0].parameters()]
    assert any(g is not None and torch.count_nonzero(g) > 0 for g in grads_a)


def test_transform_fuses_present_modalities_only(fast_params, linked_data):
    X = linked_data(30)
    emb = OVAIBEmbedder(**{**fast_params, "fusion": "concat"}).fit(X)
    full = emb.transform(X)
    Xm = make_missing_modalities(X, 0.5, random_state=1)
    masked = emb.transform(Xm)
    obs = Xm.observed
    d = emb.embedding_dim
    assert masked.shape == (30, 3 * d + 3)
    np.testing.assert_array_equal(masked[:, -3:], obs.astype(float))
    for j in range(3):
        block = slice(j * d, (j + 1) * d)
        # the same rows in another batch, in float64: rounding ~1e-15
        np.testing.assert_allclose(masked[obs[:, j], block], full[obs[:, j], block],
                                   rtol=0, atol=1e-12)
        assert np.all(masked[~obs[:, j], block] == 0)
    # mean fusion = mean of the observed blocks
    emb.set_params(fusion="mean")
    blocks = full[:, : 3 * d].reshape(30, 3, d)
    expected = (blocks * obs[:, :, None]).sum(1) / obs.sum(1, keepdims=True)
    np.testing.assert_allclose(emb.transform(Xm), expected, rtol=0, atol=1e-12)
    assert list(emb.get_feature_names_out()[:2]) == ["emb0", "emb1"]


def test_empty_sample_at_transform_is_zero_and_missing_data_fit(
    fast_params, linked_data
):
    X = make_missing_modalities(linked_data(60), 0.5, random_state=0)
    emb = OVAIBEmbedder(**fast_params).fit(X)
    nan_row = {m: np.full((1, w), np.nan) for m, w in X.n_features.items()}
    assert np.all(emb.transform(nan_row) == 0)


def test_paper_denominator_option(fast_params, linked_data):
    emb = OVAIBEmbedder(temperature=0.5, include_positive_in_denominator=False)
    scores = torch.tensor([[0.9, 0.2, 0.4], [0.1, 0.8, 0.7]], dtype=torch.float64)
    rows = torch.tensor([0, 1])
    valid = torch.tensor([True, True, False])
    got = emb._sufficiency(scores, rows, valid).item()
    logits = (scores / 0.5).numpy()
    # paper's form: the positive is not in the denominator (column 2 is not valid)
    expected = np.mean([-logits[0, 0] + logits[0, 1], -logits[1, 1] + logits[1, 0]])
    assert got == pytest.approx(expected)
    emb.set_params(include_positive_in_denominator=True)
    ce = np.mean([-logits[0, 0] + np.log(np.exp(logits[0, :2]).sum()),
                  -logits[1, 1] + np.log(np.exp(logits[1, :2]).sum())])
    assert emb._sufficiency(scores, rows, valid).item() == pytest.approx(ce)
    # trains end to end
    paper = {**fast_params, "include_positive_in_denominator": False}
    emb = OVAIBEmbedder(**paper).fit(linked_data())
    assert np.isfinite(emb.loss_curve_).all()


def test_deterministic_and_pickle_round_trip(fast_params, linked_data):
    X = make_missing_modalities(linked_data(50), 0.3, random_state=0)
    a = OVAIBEmbedder(**fast_params).fit(X)
    b = OVAIBEmbedder(**fast_params).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.transform(X), a.transform(X))
    np.testing.assert_array_equal(restored.retrieval_scores(X, X, "a"),
                                  a.retrieval_scores(X, X, "a"))


def test_retrieval_scores(fast_params, linked_data):
    X = linked_data(40)
    emb = OVAIBEmbedder(**{**fast_params, "fusion": "concat", "ridge": 1e-10}).fit(X)
    d = emb.embedding_dim
    z = emb.transform(X)[:, : 3 * d].reshape(40, 3, d)
    S = emb.retrieval_scores(X, X, "a", "c")
    cos = z[:, 0] @ z[:, 2].T
    np.testing.assert_allclose(S, np.abs(cos), atol=1e-5)
    # one vs rest: the span of b and c; partial dicts are accepted
    S_rest = emb.retrieval_scores({"a": X["a"]}, {"b": X["b"], "c": X["c"]}, "a")
    ref = projection_scores(torch.from_numpy(z[:, 0]), torch.from_numpy(z[:, 1:]),
                            1e-10)
    np.testing.assert_allclose(S_rest, ref.numpy(), atol=1e-5)
    # missing query -> NaN row; candidate without the candidate modality -> -inf
    Xm = {m: X[m].copy() for m in X.modalities}
    Xm["a"][0] = np.nan
    Xm["c"][1] = np.nan
    S_m = emb.retrieval_scores(Xm, Xm, "a", "c")
    assert np.isnan(S_m[0]).all() and np.all(S_m[1:, 1] == -np.inf)
    with pytest.raises(ValueError, match="must not contain query_modality"):
        emb.retrieval_scores(X, X, "a", ["a", "b"])
    with pytest.raises(ValueError, match="query_modality must be one of"):
        emb.retrieval_scores(X, X, "zzz")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"temperature": 0}, "temperature"),
        ({"beta": -1}, "beta"),
        ({"ridge": 0.0}, "ridge"),
        ({"fusion": "sum"}, "fusion"),
        ({"include_positive_in_denominator": 1}, "include_positive_in_denominator"),
        ({"embedding_dim": 2}, "embedding_dim=2 must exceed"),
    ],
)
def test_bad_params(params, match, fast_params, linked_data):
    with pytest.raises(ValueError, match=match):
        OVAIBEmbedder(**{**fast_params, **params}).fit(linked_data(20))


def test_single_modality_warns(fast_params):
    with pytest.warns(UserWarning, match="nothing to align"):
        X = np.random.default_rng(0).normal(size=(20, 3))
        OVAIBEmbedder(**{**fast_params, "max_epochs": 1}).fit(X)
