import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skmm import MultiModalData  # noqa: E402
from skmm.datasets import make_missing_modalities, make_shared_latent  # noqa: E402
from skmm.embed import CalMRLEmbedder  # noqa: E402
from skmm.embed._losses import info_nce, stack_spectrum  # noqa: E402
from skmm.impute import _calmrl_em as em  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny problems: one intra-op thread is faster, and much faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


FAST = dict(embedding_dim=6, n_components=3, hidden_dim=16, max_epochs=4, batch_size=32,
            warmup_epochs=1, calibrate_every=1, random_state=0)


def _data(n=80, rate=0.4, seed=0):
    X = make_shared_latent(
        n, n_features={"a": 5, "b": 4, "c": 3}, n_components=2, random_state=seed
    )
    return make_missing_modalities(X, rate, random_state=seed)


def _reference_spectrum(z):
    """Singular values and sign-fixed leading left vector by torch.linalg.svd."""
    U, S, _ = torch.linalg.svd(z.transpose(1, 2), full_matrices=False)
    u = U[:, :, 0]
    sign = torch.sign((u[:, None, :] * z).sum((1, 2)))
    return S, u * sign[:, None]


# --- the spectrum helper ---------------------------------------------------------------
def test_stack_spectrum_matches_svd_values_and_gradients():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(6, 4, 7, dtype=torch.float64, generator=gen, requires_grad=True)
    ws = torch.randn(6, 4, dtype=torch.float64, generator=gen)
    wu = torch.randn(6, 7, dtype=torch.float64, generator=gen)

    def objective(fn):
        s, u = fn(z)
        return (s * ws).sum() + (u * wu).sum(), s, u

    ours, s, u = objective(stack_spectrum)
    ref, s_ref, u_ref = objective(_reference_spectrum)
    np.testing.assert_allclose(s.detach(), s_ref.detach(), atol=1e-12)
    np.testing.assert_allclose(u.detach(), u_ref.detach(), atol=1e-12)
    (g,) = torch.autograd.grad(ours, z)
    (g_ref,) = torch.autograd.grad(ref, z)
    np.testing.assert_allclose(g, g_ref, atol=1e-10)


def test_stack_spectrum_drops_columns_without_nan():
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(3, 4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    observed = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 1], [1, 1, 1, 1]], dtype=torch.bool)
    s, u = stack_spectrum(z, observed)
    (s.sum() + u.sum()).backward()
    assert torch.isfinite(z.grad).all()
    assert (z.grad[~observed] == 0).all()
    # one column: s = (|z|, 0, ...), u = z / |z|
    assert s[0, 0].item() == pytest.approx(z[0, 0].norm().item())
    assert (s[0, 1:] == 0).all()
    np.testing.assert_allclose(u[0].detach(), (z[0, 0] / z[0, 0].norm()).detach())
    # three columns: the spectrum of the sub-stack, zeros last
    s_ref, u_ref = _reference_spectrum(z[1:2, [0, 1, 3]].detach())
    np.testing.assert_allclose(s[1, :3].detach(), s_ref[0], atol=1e-12)
    assert s[1, 3].item() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(u[1].detach(), u_ref[0], atol=1e-12)


# --- training ----------------------------------------------------------------------
def test_loss_decreases():
    X = _data(120)
    emb = CalMRLEmbedder(**{**FAST, "max_epochs": 25, "calibrate_every": 5}).fit(X)
    assert np.isfinite(emb.loss_curve_).all()
    assert emb.loss_curve_[-1] < 0.8 * emb.loss_curve_[0]
    assert {"train_intra", "train_inter"} <= set(emb.history_[-1])


def test_calibration_refits_on_schedule_and_move_the_imputation():
    X = _data()
    emb = CalMRLEmbedder(**{**FAST, "max_epochs": 8, "warmup_epochs": 2,
                            "calibrate_every": 3}).fit(X)
    history = emb.calibration_history_
    # before epochs 3 and 6 (2 and 5 epochs done), and once after training
    assert [h["epoch"] for h in history] == [2, 5, 8]
    assert np.isnan(history[0]["imputation_shift"])
    assert all(h["imputation_shift"] > 1e-6 for h in history[1:])
    assert history[0]["n_iter"] >= 1
    assert all(1 <= h["n_iter"] <= emb.em_max_iter for h in history[1:])
    # no calibration during training without calibrate; one fit at the end
    plain = CalMRLEmbedder(**{**FAST, "max_epochs": 8, "calibrate": False}).fit(X)
    assert [h["epoch"] for h in plain.calibration_history_] == [8]
    # warm start continues the epoch count and the schedule
    emb.set_params(warm_start=True, max_epochs=3).fit(X)
    assert [h["epoch"] for h in emb.calibration_history_] == [2, 5, 8, 8, 11]


def _inference_representations(emb, X):
    """Representations and presence as ``transform`` computes them (float64)."""
    data = emb._to_tensors(X, "cpu", torch.float64)
    with torch.inference_mode():
        z = emb._representations(emb._inference_module("cpu"), data.tensors)
    return z, data.observed


def test_imputation_is_the_em_posterior_of_the_representations():
    X = _data()
    emb = CalMRLEmbedder(**FAST).fit(X)
    z, observed = _inference_representations(emb, X)
    with torch.inference_mode():
        mean = emb._posterior_mean(z, observed).numpy()
        stack = emb._calibrated_stack(z, observed).numpy()
    observed = X.observed
    zn = z.numpy()
    em_data = em.prepare([zn[:, j] for j in range(3)], observed)
    posterior = em.e_step(em_data, emb.latent_model_)
    # torch and numpy evaluate the same float64 formulas: rounding ~1e-15
    np.testing.assert_allclose(mean, posterior.mean, rtol=1e-9, atol=1e-10)
    np.testing.assert_array_equal(stack[observed], zn[observed])
    for j in range(3):
        miss = ~observed[:, j]
        pred = em.predictive_mean(emb.latent_model_, posterior.mean[miss], j)
        pred /= np.linalg.norm(pred, axis=1, keepdims=True)
        np.testing.assert_allclose(stack[miss, j], pred, atol=1e-10)
    # the latent output is that posterior mean
    latent = emb.set_params(output="latent").transform(X)
    np.testing.assert_allclose(latent, posterior.mean, rtol=1e-9, atol=1e-10)
    # training evaluates it in float32, from float32 representations
    data = emb._to_tensors(X, "cpu")
    with torch.no_grad():
        z32 = emb._representations(emb.module_, data.tensors)
        mean32 = emb._posterior_mean(z32, data.observed)
    assert mean32.dtype == torch.float32
    # float32 rounding of the network and the posterior (~1e-6): a 100-fold margin
    np.testing.assert_allclose(mean32.numpy(), posterior.mean, rtol=1e-4, atol=1e-4)


def test_gradient_flows_through_the_imputation():
    X = _data()
    emb = CalMRLEmbedder(**FAST).fit(X)
    data = emb._to_tensors(X, "cpu")
    only_a = (data.observed[:, 0] & ~data.observed[:, 1:].any(1)).nonzero()[:, 0]
    batch = data.take(only_a[:1])
    module = emb.module_
    # the warm-up epoch aligns the observed modalities only, later epochs impute
    for epoch, impute, expect_grad in ((2, True, True), (1, False, False)):
        assert emb._imputes_at(epoch) == impute
        module.zero_grad()
        loss, parts = emb.batch_loss(module, batch.tensors, batch.observed, epoch=epoch,
                                     generator=None)
        parts["intra"].backward()
        grad = module.encoders[0][0].weight.grad
        has_grad = grad is not None and grad.abs().max().item() > 0
        assert has_grad == expect_grad
        if not impute:  # one observed column: the stack is rank one
            assert parts["intra"].item() == pytest.approx(0.0, abs=1e-6)


def test_uncalibrated_loss_uses_observed_modalities_only():
    X = _data()
    emb = CalMRLEmbedder(**{**FAST, "calibrate": False}).fit(X)
    data = emb._to_tensors(X, "cpu")
    xs, observed = data.tensors, data.observed
    with torch.no_grad():
        loss, parts = emb.batch_loss(emb.module_, xs, observed, epoch=1, generator=None)
        z = emb._representations(emb.module_, xs)
        inter = []
        anchors = []
        for i in range(len(observed)):
            cols = observed[i].nonzero()[:, 0]
            _, u = _reference_spectrum(z[i : i + 1, cols].double())
            anchors.append(u[0].float())
        anchors = torch.stack(anchors)
        for m in range(3):
            rows = observed[:, m]
            inter.append(info_nce(anchors[rows], z[rows, m], emb.temperature))
    assert parts["inter"].item() == pytest.approx(torch.stack(inter).mean().item(),
                                                  rel=1e-4)
    # garbage in the rows of missing modalities changes nothing
    garbage = [torch.where(observed[:, [m]], x, torch.full_like(x, 30.0))
               for m, x in enumerate(xs)]
    with torch.no_grad():
        loss2, _ = emb.batch_loss(emb.module_, garbage, observed, epoch=1,
                                  generator=None)
    assert loss2.item() == pytest.approx(loss.item(), rel=1e-6)
    # a sample with one observed modality is embedded by that representation
    single = np.flatnonzero(X.observed.sum(1) == 1)[0]
    m = int(np.flatnonzero(X.observed[single])[0])
    z64, _ = _inference_representations(emb, X)  # float64, as in transform
    np.testing.assert_allclose(emb.transform(X)[single], z64[single, m].numpy(),
                               atol=1e-12)


# --- transform -----------------------------------------------------------------------
def test_missing_rows_and_empty_samples():
    X = _data()
    emb = CalMRLEmbedder(**FAST).fit(X)
    out = emb.transform(X)
    assert out.shape == (80, 6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    # missing rows' content is never read (NaN at input)
    arrays = {m: X[m].copy() for m in X.modalities}
    arrays["a"][~X.observed[:, 0]] = np.nan
    np.testing.assert_array_equal(emb.transform(MultiModalData(arrays)), out)
    # samples with nothing observed: the same anchor for all (of the model means)
    empty = MultiModalData({m: np.full((3, w), np.nan) for m, w in X.n_features.items()})
    anchors = emb.transform(empty)
    np.testing.assert_allclose(anchors, np.repeat(anchors[:1], 3, axis=0))
    assert np.linalg.norm(anchors[0]) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(emb.set_params(output="latent").transform(empty)).max() == 0
    emb.set_params(output="anchor", calibrate=False)
    assert np.abs(emb.transform(empty)).max() == 0
    # row-subset invariance: a sample's embedding does not depend on the others (float64
    # inference: the batch-size dependent rounding is ~1e-15)
    emb.set_params(calibrate=True)
    np.testing.assert_allclose(emb.transform(X[5:9]), out[5:9], rtol=0, atol=1e-12)


def test_anchor_sign_convention():
    X = _data()
    for calibrate in (True, False):
        emb = CalMRLEmbedder(**{**FAST, "calibrate": calibrate}).fit(X)
        u = torch.as_tensor(emb.transform(X))
        z, observed = _inference_representations(emb, X)  # float64, as in transform
        with torch.inference_mode():
            stack, cols = emb._stack(z, observed, calibrate)
        if cols is not None:
            stack = stack * cols[..., None]
        dots = (stack * u[:, None, :]).sum((1, 2))
        assert (dots > -1e-12).all()  # float64 rounding of a sum of ~1 terms: ~1e-16
        # and it is the leading singular vector of the stack, with that sign where the
        # sign is decided (two anti-correlated unit columns give u along z1 - z2, with
        # sum_m <u, z^m> = 0 for either sign)
        _, u_ref = _reference_spectrum(stack)
        clear = dots.abs() > 1e-3
        assert clear.float().mean() > 0.5
        # eigh of the Gram matrix against an SVD, both float64: ~1e-15 / spectral gap
        np.testing.assert_allclose(u[clear].numpy(), u_ref[clear].numpy(), atol=1e-9)


def test_output_and_feature_names():
    X = _data()
    emb = CalMRLEmbedder(**FAST).fit(X)
    assert list(emb.get_feature_names_out()) == [f"anchor{i}" for i in range(6)]
    emb.set_params(output="latent")
    assert emb.transform(X).shape == (80, 3)
    assert list(emb.get_feature_names_out()) == ["latent0", "latent1", "latent2"]
    emb.set_params(output="concat")
    names = list(emb.get_feature_names_out())
    assert names[:7] == [f"a__emb{i}" for i in range(6)] + ["b__emb0"]
    assert names[-3:] == ["present__a", "present__b", "present__c"]
    assert len(names) == emb.transform(X).shape[1] == 3 * 6 + 3
    emb.set_params(output="mean")
    with pytest.raises(ValueError, match="'output' parameter of CalMRLEmbedder must be"):
        emb.transform(X)


def test_deterministic_and_pickles():
    X = _data()
    a = CalMRLEmbedder(**FAST).fit(X)
    b = CalMRLEmbedder(**FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.transform(X), a.transform(X))
    assert [h["epoch"] for h in c.calibration_history_] == [1, 2, 3, 4]
    for x, y in zip(c.latent_model_.components, a.latent_model_.components):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"singular_value_temperature": 0.0}, "singular_value_temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"tau1": 0.0}, "tau1"),  # deprecated names: the error names them
        ({"tau2": -1.0}, "tau2"),
        ({"inter_loss": "pmrl"}, "inter_loss"),
        ({"inter_loss": None}, "inter_loss"),
        ({"calibrate_every": 0}, "calibrate_every"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
        ({"em_max_iter": 0}, "em_max_iter"),
        ({"calibrate": "yes"}, "calibrate"),
        ({"output": "both"}, "output"),
        ({"n_components": 100}, "n_components"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        CalMRLEmbedder(**{**FAST, **params}).fit(_data())


def test_modality_never_observed_is_an_error():
    X = _data()
    arrays = {m: X[m].copy() for m in X.modalities}
    arrays["c"][:] = np.nan
    arrays["a"][np.isnan(arrays["b"]).all(1)] = 0.0  # every sample keeps one modality
    with pytest.raises(ValueError, match="'c'"):
        CalMRLEmbedder(**FAST).fit(MultiModalData(arrays))


def test_untabulated_patterns_give_the_same_posterior(monkeypatch):
    from skmm.embed import _calmrl

    X = _data()
    emb = CalMRLEmbedder(**FAST).fit(X)
    expected = emb.set_params(output="latent").transform(X)
    monkeypatch.setattr(_calmrl, "_MAX_TABULATED", 0)
    emb._model_cache = None
    # the same float64 covariances, tabulated or per batch: rounding ~1e-15
    np.testing.assert_allclose(emb.transform(X), expected, rtol=1e-9, atol=1e-10)
    assert "cov" not in emb._model_tensors("cpu", torch.float64)


# --- the inter loss: ours and PMRL's ---------------------------------------------------
def test_pmrl_inter_loss_contrasts_anchors_with_anchors():
    import torch.nn.functional as F

    X = _data()
    params = {**FAST, "calibrate": False}
    ours = CalMRLEmbedder(**params).fit(X)
    pmrl = CalMRLEmbedder(**params, inter_loss="anchor_anchor").fit(X)
    for emb in (ours, pmrl):
        assert np.isfinite(emb.loss_curve_).all()
        assert np.isfinite(emb.transform(X)).all()
    # same seed and data, different loss: different networks and anchors
    assert ours.loss_curve_[0] != pmrl.loss_curve_[0]
    assert np.abs(ours.transform(X) - pmrl.transform(X)).max() > 1e-2
    # the PMRL term is CE(u_i . u_j / tau2, target i) over the batch's anchors
    data = pmrl._to_tensors(X, "cpu")
    with torch.no_grad():
        _, parts = pmrl.batch_loss(pmrl.module_, data.tensors, data.observed, epoch=1,
                                   generator=None)
        z = pmrl._representations(pmrl.module_, data.tensors)
        anchors = torch.stack([
            _reference_spectrum(z[i : i + 1, data.observed[i]].double())[1][0]
            for i in range(len(z))
        ]).float()
        logits = anchors @ anchors.T / pmrl.temperature
        expected = F.cross_entropy(logits, torch.arange(len(z)))
    # float32 network and spectrum against a float64 SVD: ~1e-6; a 100-fold margin
    assert parts["inter"].item() == pytest.approx(expected.item(), rel=1e-4)


def test_pmrl_inter_loss_trains_with_calibration():
    X = _data()
    emb = CalMRLEmbedder(**FAST, inter_loss="anchor_anchor").fit(X)
    assert len(emb.calibration_history_) == FAST["max_epochs"]
    assert np.isfinite(emb.loss_curve_).all()
    assert np.isfinite(emb.transform(X)).all()


# --- per-modality output and retrieval --------------------------------------------------
def test_concat_output_is_the_observed_representations():
    X = _data()
    emb = CalMRLEmbedder(**FAST).fit(X)
    out = emb.set_params(output="concat").transform(X)
    z, observed = _inference_representations(emb, X)
    z = z.numpy() * X.observed[:, :, None]
    np.testing.assert_array_equal(out[:, :18].reshape(80, 3, 6), z)
    np.testing.assert_array_equal(out[:, 18:], X.observed.astype(float))
    # never an imputation: missing blocks are zero, observed ones unit norm
    norms = np.linalg.norm(out[:, :18].reshape(80, 3, 6), axis=2)
    np.testing.assert_allclose(norms[X.observed], 1.0, atol=1e-12)
    assert (norms[~X.observed] == 0).all()


def test_retrieval_scores():
    X = make_shared_latent(40, n_features={"a": 5, "b": 4, "c": 3}, n_components=2,
                           random_state=0)
    emb = CalMRLEmbedder(**FAST).fit(make_missing_modalities(X, 0.3, random_state=0))
    z = emb.set_params(output="concat").transform(X)[:, :18].reshape(40, 3, 6)
    # one candidate modality: the cosine of the two representations
    S = emb.retrieval_scores(X, X, "a", "c")
    np.testing.assert_allclose(S, z[:, 0] @ z[:, 2].T, rtol=0, atol=1e-12)
    # several: the cosine with the anchor of the candidate's representations
    S_rest = emb.retrieval_scores({"a": X["a"]}, {"b": X["b"], "c": X["c"]}, "a")
    _, u = _reference_spectrum(torch.from_numpy(z[:, 1:]))
    u = u.numpy()
    # where the sign rule decides (see test_anchor_sign_convention); eigh of the Gram
    # matrix against an SVD, both float64: ~1e-15 / spectral gap
    clear = np.abs(np.einsum("nkd,nd->n", z[:, 1:], u)) > 1e-3
    assert clear.sum() >= 10
    np.testing.assert_allclose(S_rest[:, clear], z[:, 0] @ u[clear].T, rtol=0,
                               atol=1e-9)
    # missing query -> NaN row; candidate without the candidate modality -> -inf; a
    # candidate with one of two candidate modalities is scored on that one
    Xm = {m: X[m].copy() for m in X.modalities}
    Xm["a"][0] = np.nan
    Xm["c"][1] = np.nan
    S_m = emb.retrieval_scores(Xm, Xm, "a", "c")
    assert np.isnan(S_m[0]).all() and np.all(S_m[1:, 1] == -np.inf)
    S_bc = emb.retrieval_scores(Xm, Xm, "a", ["b", "c"])
    np.testing.assert_allclose(S_bc[2:, 1], z[2:, 0] @ z[1, 1], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="must not contain query_modality"):
        emb.retrieval_scores(X, X, "a", ["a", "b"])
    with pytest.raises(ValueError, match="query_modality must be one of"):
        emb.retrieval_scores(X, X, "zzz")
    # a pickled estimator scores the same
    restored = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(restored.retrieval_scores(X, X, "b"),
                                  emb.retrieval_scores(X, X, "b"))


# --- deprecated names ------------------------------------------------------------------
@pytest.mark.parametrize("old, new, value", [("tau1", "singular_value_temperature", 0.1),
                                             ("tau2", "temperature", 0.3)])
def test_deprecated_temperature_names_still_work(old, new, value):
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    X = _data(40)
    params = {**FAST, "max_epochs": 2, "batch_size": "auto"}
    message = rf"`{old}` was renamed `{new}`.*removed in 0\.4"
    with pytest.warns(FutureWarning, match=message):
        via_old = CalMRLEmbedder(**params, **{old: value}).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        via_new = CalMRLEmbedder(**params, **{new: value}).fit(X)
        default = CalMRLEmbedder(**params).fit(X)
    assert via_old.loss_curve_ == via_new.loss_curve_ != default.loss_curve_
    np.testing.assert_array_equal(via_old.transform(X), via_new.transform(X))
    # the old name is an ordinary parameter: get_params, clone and grid searches
    assert via_new.get_params()[old] == "deprecated"
    assert clone(via_old).get_params()[old] == value
    pipe = make_pipeline(CalMRLEmbedder(**params), LogisticRegression())
    y = np.arange(40) % 2
    with pytest.warns(FutureWarning, match=f"`{old}` was renamed"):
        search = GridSearchCV(pipe, {f"calmrlembedder__{old}": [value, 1.0]}, cv=2)
        search.fit(X, y)
    assert search.best_params_[f"calmrlembedder__{old}"] in (value, 1.0)
