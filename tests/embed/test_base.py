"""Tests of the shared torch training base (skmm/embed/_base.py)."""

import pickle
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skmm import MultiModalData  # noqa: E402
from skmm.datasets import make_missing_modalities  # noqa: E402
from skmm.utils import all_estimators  # noqa: E402
from skmm.embed import TorchEmbedder, _base  # noqa: E402
from skmm.embed._base import TensorData, _batch_sizes  # noqa: E402
from skmm.utils._testing import as_dask  # noqa: E402


class TinyEmbedder(TorchEmbedder):
    """Minimal subclass: per-modality linear encoders, pairwise InfoNCE, mean fusion."""

    def __init__(self, dim=3, *, nan_at_epoch=None, max_epochs=3, batch_size=32, lr=1e-2,
                 weight_decay=1e-3, optimizer="adamw", optimizer_params=None,
                 device="cpu", random_state=None, verbose=0, early_stopping=False,
                 validation_fraction=0.2, n_iter_no_change=3, tol=1e-4, warm_start=False):
        super().__init__(max_epochs=max_epochs, batch_size=batch_size, lr=lr,
                         weight_decay=weight_decay, optimizer=optimizer,
                         optimizer_params=optimizer_params, device=device,
                         random_state=random_state, verbose=verbose,
                         early_stopping=early_stopping,
                         validation_fraction=validation_fraction,
                         n_iter_no_change=n_iter_no_change, tol=tol,
                         warm_start=warm_start)
        self.dim = dim
        self.nan_at_epoch = nan_at_epoch

    def build_module(self, n_features):
        from skmm.embed._modules import ModalityEncoders

        return ModalityEncoders(list(n_features.values()), 8, self.dim)

    def on_epoch_begin(self, epoch, data):
        self.epochs_seen_ = getattr(self, "epochs_seen_", []) + [epoch]

    def batch_loss(self, module, xs, observed, *, epoch, generator):
        from skmm.embed._losses import info_nce

        assert all(torch.isfinite(x).all() for x in xs), "NaN reached torch"
        noise = [x + 0.1 * torch.randn(x.shape, generator=generator) for x in xs]
        z = module(noise)
        both = observed[:, 0] & observed[:, 1]
        loss = info_nce(z[both, 0], z[both, 1], 0.5)
        if self.nan_at_epoch is not None and epoch >= self.nan_at_epoch:
            loss = loss * float("nan")
        return loss, {"clip": loss, "constant": 1.0}

    def encode(self, module, xs, observed):
        z = module(xs) * observed[..., None]
        return z.sum(1) / observed.sum(1, keepdim=True).clamp_min(1)

    def _feature_names(self):
        return [f"tiny{i}" for i in range(self.dim)]


def _data(n=100, seed=0, missing=0.3):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    X = MultiModalData(
        a=latent @ rng.normal(size=(2, 4)) + 0.1 * rng.normal(size=(n, 4)) + 5.0,
        b=3.0 * (latent @ rng.normal(size=(2, 3))) + 0.1 * rng.normal(size=(n, 3)),
    )
    return make_missing_modalities(X, missing, random_state=seed) if missing else X


# --- parameters ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "param, value",
    [
        ("max_epochs", 0), ("max_epochs", 2.5), ("batch_size", 0), ("lr", 0.0),
        ("lr", -1.0), ("lr", "big"), ("weight_decay", -0.1), ("device", "gpu"),
        ("device", "cuda:x"), ("verbose", -1), ("early_stopping", "yes"),
        ("validation_fraction", 0.0), ("validation_fraction", 1.0),
        ("n_iter_no_change", 0), ("tol", -1.0), ("warm_start", 1),
        ("optimizer", "rmsprop"), ("optimizer", 3), ("optimizer", None),
        ("optimizer_params", "fast"), ("optimizer_params", {"lr": 0.1}),
        ("optimizer_params", {1: 0.1}), ("optimizer_params", {"bogus": 1}),
        ("optimizer_params", {"momentum": -1.0}),
    ],
)
def test_bad_parameter_raises_naming_it(param, value):
    est = TinyEmbedder(**{param: value})  # __init__ validates nothing
    with pytest.raises(ValueError, match=param):
        est.fit(_data())


def test_cuda_requested_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        TinyEmbedder(device="cuda").fit(_data())
    est = TinyEmbedder(device="auto", max_epochs=1).fit(_data())
    assert est.device_ == "cpu"


def test_batch_sizes_are_near_equal():
    assert _batch_sizes(10, 4) == [4, 3, 3]
    assert _batch_sizes(3, 10) == [3]
    assert sum(_batch_sizes(1001, 64)) == 1001
    assert max(_batch_sizes(1001, 64)) <= 64


def test_needs_two_samples():
    with pytest.raises(ValueError, match="1 sample"):
        TinyEmbedder().fit(_data(missing=0)[:1])


# --- data handling ---------------------------------------------------------------------
def test_standardisation_over_observed_rows_and_zero_fill():
    X = _data()
    est = TinyEmbedder(max_epochs=1, random_state=0).fit(X)
    for m in X.modalities:
        np.testing.assert_allclose(est.mean_[m], np.nanmean(X[m], axis=0))
        np.testing.assert_allclose(est.scale_[m], np.nanstd(X[m], axis=0))
    data = est._to_tensors(X, "cpu")
    assert isinstance(data, TensorData)
    for j, (m, t) in enumerate(zip(X.modalities, data.tensors)):
        assert torch.isfinite(t).all()
        missing = ~X.observed[:, j]
        assert (t[torch.from_numpy(missing)] == 0).all()
        # float32 values of magnitude ~3 (rounding ~2e-7): a 50-fold margin
        np.testing.assert_allclose(t[~missing].mean(0).numpy(), 0, atol=1e-5)
    np.testing.assert_array_equal(data.observed.numpy(), X.observed)


def test_constant_feature_gets_unit_scale():
    X = _data(missing=0)
    a = X["a"].copy()
    a[:, 0] = 7.0
    est = TinyEmbedder(max_epochs=1).fit({"a": a, "b": X["b"]})
    assert est.scale_["a"][0] == 1.0


def test_missing_rows_handled_in_fit_and_transform():
    X = _data(missing=0.5)
    assert not X.observed.all()
    est = TinyEmbedder(random_state=0).fit(X)  # batch_loss asserts finite inputs
    Z = est.transform(X)
    assert Z.shape == (100, 3) and Z.dtype == np.float64 and np.isfinite(Z).all()


def test_sample_with_no_modality_at_transform_gets_a_finite_row():
    X = _data(missing=0)
    est = TinyEmbedder(max_epochs=1, random_state=0).fit(X)
    empty = {m: np.full((2, d), np.nan) for m, d in X.n_features.items()}
    Z = est.transform(empty)
    assert np.isfinite(Z).all()


def test_inputs_not_modified():
    X = _data()
    copy = X.copy()
    TinyEmbedder(max_epochs=1).fit(X).transform(X)
    assert X == copy


def test_transform_in_chunks_matches_one_pass(monkeypatch):
    X = _data()
    est = TinyEmbedder(random_state=0).fit(X)
    full = est.transform(X)
    monkeypatch.setattr(_base, "_TRANSFORM_CHUNK", 7)
    # float64 inference: chunk-size dependent rounding is ~1e-16 (float32: ~1e-7)
    np.testing.assert_allclose(est.transform(X), full, rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.transform(X[10:20]), full[10:20], rtol=0, atol=1e-12)


def test_inference_runs_a_float64_copy_and_leaves_the_estimator_alone():
    X = _data()
    est = TinyEmbedder(random_state=0).fit(X)
    module, state = est.module_, dict(est.__dict__)
    weights = {k: v.clone() for k, v in module.state_dict().items()}
    seen = []
    encode = est.encode
    est.encode = lambda m, xs, observed: seen.append((m, xs)) or encode(m, xs, observed)
    est.transform(X)
    del est.encode
    (inference, xs), = seen
    assert inference is not module
    assert all(p.dtype == torch.float64 for p in inference.parameters())
    assert all(x.dtype == torch.float64 for x in xs) and not inference.training
    # module_ is untouched: same object, float32, same weights, training mode
    assert est.module_ is module and est.__dict__ == state and module.training
    assert all(p.dtype == torch.float32 for p in module.parameters())
    for k, v in module.state_dict().items():
        assert torch.equal(v, weights[k])
    # training tensors stay float32
    assert est._to_tensors(X, "cpu").tensors[0].dtype == torch.float32


def test_too_large_values_at_transform_raise_naming_modality_and_rows(monkeypatch):
    X = _data(missing=0)
    est = TinyEmbedder(random_state=0).fit(X)
    for value in (1e120, 1e200, 1.7e308):  # beyond the 1e100 of float64 inference
        b = X["b"].copy()
        b[[12, 30], 1] = value
        with pytest.raises(ValueError, match=r"Modality 'b' .* rows \[12, 30\]"):
            est.transform({"a": X["a"], "b": b})
    # in chunks, the first offending chunk's rows, numbered in the whole input
    monkeypatch.setattr(_base, "_TRANSFORM_CHUNK", 7)
    with pytest.raises(ValueError, match=r"Modality 'b' .* rows \[12\]:"):
        est.transform({"a": X["a"], "b": b})
    # finite output for values far out, but within the bound (fill values included)
    for value in (1e6 * est.scale_["b"][1], 1e20, 9.96921e36, 1e90):
        b = X["b"].copy()
        b[12, 1] = value
        assert np.isfinite(est.transform({"a": X["a"], "b": b})).all()


def test_non_finite_output_is_an_error_not_a_silent_nan():
    X = _data()
    est = TinyEmbedder(random_state=0).fit(X)
    with torch.no_grad():
        est.module_.encoders[0][-1].bias[0] = float("nan")
    with pytest.raises(FloatingPointError, match="non-finite embedding"):
        est.transform(X)


def test_huge_finite_training_values_are_standardised_exactly():
    X = _data()
    est = TinyEmbedder(random_state=0).fit(X)
    # scaling a modality by a power of two scales its mean and scale exactly: the
    # standardised data, the training and the embedding are bit-identical
    for factor in (2.0**664, 2.0**1000):  # ~1e200, ~1e301 (squares overflow)
        big = {"a": X["a"] * factor, "b": X["b"]}
        other = TinyEmbedder(random_state=0).fit(big)
        np.testing.assert_array_equal(other.mean_["a"], est.mean_["a"] * factor)
        np.testing.assert_array_equal(other.scale_["a"], est.scale_["a"] * factor)
        np.testing.assert_array_equal(other.transform(big), est.transform(X))
    # one huge entry: finite statistics, finite weights, finite embedding
    a = X["a"].copy()
    a[3, 0] = 1e300
    a[4, 0] = -1.7e308
    est = TinyEmbedder(random_state=0).fit({"a": a, "b": X["b"]})
    assert np.isfinite(est.scale_["a"]).all() and est.scale_["a"][0] > 1e306
    assert all(torch.isfinite(p).all() for p in est.module_.parameters())
    assert np.isfinite(est.transform({"a": a, "b": X["b"]})).all()


def test_too_large_values_in_a_later_partial_fit_chunk_raise_and_change_nothing():
    X = _data(missing=0)
    est = TinyEmbedder(random_state=0).partial_fit(X[:50])
    before = est.transform(X)
    a = X["a"][50:].copy()
    a[7, 2] = 1e20
    with pytest.raises(ValueError, match=r"Modality 'a' .* rows \[7\]"):
        est.partial_fit({"a": a, "b": X["b"][50:]})
    assert est.n_iter_ == 1
    np.testing.assert_array_equal(est.transform(X), before)


def test_get_feature_names_out_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X = _data()
    est = TinyEmbedder(max_epochs=1).fit(X)
    assert list(est.get_feature_names_out()) == ["tiny0", "tiny1", "tiny2"]
    with pytest.raises(ValueError, match="input_features"):
        est.get_feature_names_out(["x"])
    out = est.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["tiny0", "tiny1", "tiny2"]


# --- training --------------------------------------------------------------------------
def test_history_loss_curve_and_loss_decreases():
    X = _data(n=100, missing=0)
    est = TinyEmbedder(max_epochs=15, random_state=0).fit(X)
    assert est.n_iter_ == 15 == len(est.history_) == len(est.loss_curve_)
    assert [h["epoch"] for h in est.history_] == list(range(1, 16))
    assert est.loss_curve_ == [h["train_loss"] for h in est.history_]
    assert {"train_loss", "train_clip", "train_constant", "dur"} <= set(est.history_[0])
    assert est.history_[0]["train_constant"] == pytest.approx(1.0)
    assert est.validation_loss_curve_ is None and est.best_epoch_ == 15
    assert est.loss_curve_[-1] < 0.8 * est.loss_curve_[0]
    assert est.epochs_seen_ == list(range(1, 16))


def test_deterministic_for_fixed_random_state_and_global_rng_untouched():
    X = _data()
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = TinyEmbedder(random_state=3, early_stopping=True, max_epochs=4)
    b = TinyEmbedder(random_state=3, early_stopping=True, max_epochs=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Za, Zb = a.fit_transform(X), b.fit_transform(X)
    np.testing.assert_array_equal(Za, Zb)
    assert a.loss_curve_ == b.loss_curve_
    assert a.validation_loss_curve_ == b.validation_loss_curve_
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    c = TinyEmbedder(random_state=4, max_epochs=4).fit(X)
    assert not np.allclose(c.transform(X), Za)


def test_refit_without_warm_start_starts_afresh():
    X = _data()
    est = TinyEmbedder(random_state=0)
    Z1 = est.fit_transform(X)
    Z2 = est.fit_transform(X)
    assert est.n_iter_ == 3
    np.testing.assert_array_equal(Z1, Z2)


def test_warm_start_continues_training_and_keeps_standardisation():
    X = _data()
    est = TinyEmbedder(random_state=0, warm_start=True).fit(X)
    mean = est.mean_["a"].copy()
    est.fit(X[:50])
    assert est.n_iter_ == 6 and len(est.history_) == 6
    assert [h["epoch"] for h in est.history_] == list(range(1, 7))
    np.testing.assert_array_equal(est.mean_["a"], mean)
    with pytest.raises(ValueError, match="Modalities"):
        est.fit({"a": X["a"]})


def test_partial_fit_is_one_epoch_per_call_and_streams_chunks():
    X = _data(n=120)
    est = TinyEmbedder(random_state=0, early_stopping=True)
    for chunk in (X[:40], X[40:80], X[80:]):
        est.partial_fit(chunk)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3
    assert "valid_loss" not in est.history_[-1]  # no validation split in partial_fit
    np.testing.assert_allclose(est.mean_["a"], np.nanmean(X[:40]["a"], axis=0))
    # one fit epoch == one partial_fit call from scratch
    one = TinyEmbedder(random_state=0, max_epochs=1).fit(X)
    other = TinyEmbedder(random_state=0).partial_fit(X)
    np.testing.assert_array_equal(one.transform(X), other.transform(X))


def test_early_stopping_stops_and_keeps_the_best_epoch(capsys):
    X = _data(n=100)
    # tol so large that no epoch after the first counts as an improvement
    est = TinyEmbedder(random_state=0, early_stopping=True, n_iter_no_change=2,
                       tol=1e9, max_epochs=50, verbose=1).fit(X)
    assert est.n_iter_ == 3
    assert len(est.validation_loss_curve_) == 3
    assert {"valid_loss", "valid_clip"} <= set(est.history_[-1])
    best = int(np.argmin(est.validation_loss_curve_)) + 1
    assert est.best_epoch_ == best
    # the kept weights are those of the best epoch: its validation loss is reproduced
    n_valid = round(0.2 * 100)
    assert est._validation_loss(_split_valid(est, X, n_valid), best)[0] == (
        pytest.approx(est.validation_loss_curve_[best - 1], rel=1e-5)
    )
    assert "stopping" in capsys.readouterr().out


def _split_valid(est, X, n_valid):
    # Rebuild the validation rows of the last fit from the seed drawn at fit.
    from sklearn.utils import check_random_state

    seed = check_random_state(est.random_state).randint(np.iinfo(np.int32).max)
    perm = np.random.RandomState(seed).permutation(X.n_samples)
    data = est._to_tensors(X, "cpu")
    return data.take(torch.from_numpy(perm[:n_valid]))


def test_early_stopping_warns_when_max_epochs_reached():
    with pytest.warns(ConvergenceWarning, match="max_epochs"):
        TinyEmbedder(random_state=0, early_stopping=True, n_iter_no_change=50,
                     max_epochs=2).fit(_data())


def test_nan_loss_raises_naming_the_epoch_and_a_failed_fit_changes_nothing():
    est = TinyEmbedder(random_state=0, nan_at_epoch=2, max_epochs=5)
    with pytest.raises(FloatingPointError, match="epoch 2.*left as it was"):
        est.fit(_data())
    assert not hasattr(est, "n_iter_") and not hasattr(est, "module_")


def _snapshot(est, X):
    """What a failed call must leave unchanged, as arrays to compare bit for bit."""
    tensors = list(est.module_.state_dict().values()) + [
        v for s in est._optimizer_state["state"].values() for v in s.values()
    ]
    return [est.transform(X), est._rng.get_state()[1].copy(),
            np.array(est.loss_curve_), np.array([est.n_iter_, len(est.history_)])
            ] + [t.numpy().copy() for t in tensors]


def _assert_same_snapshot(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
def test_failed_continued_fit_leaves_the_estimator_unchanged(method):
    X = _data()
    est = TinyEmbedder(random_state=0, warm_start=True)
    est.fit(X) if method == "warm_start" else est.partial_fit(X)
    twin = pickle.loads(pickle.dumps(est))  # never fails
    before = _snapshot(est, X)
    est.set_params(nan_at_epoch=est.n_iter_ + 2)  # fails after an epoch of updates
    with pytest.raises(FloatingPointError, match="diverged"):
        est.fit(X) if method == "warm_start" else (est.partial_fit(X), est.partial_fit(X))
    if method == "partial_fit":  # the first call succeeded, the second failed
        twin.partial_fit(X)
        before = _snapshot(twin, X)
    _assert_same_snapshot(_snapshot(est, X), before)
    # and it continues exactly as an estimator that never failed
    est.set_params(nan_at_epoch=None)
    est.partial_fit(X)
    twin.partial_fit(X)
    np.testing.assert_array_equal(est.transform(X), twin.transform(X))


def test_verbose_levels(capsys):
    X = _data()
    TinyEmbedder(max_epochs=2, verbose=0).fit(X)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    TinyEmbedder(max_epochs=2, verbose=1).fit(X)
    out = capsys.readouterr()
    assert len(out.out.strip().splitlines()) == 2 and "train_loss" in out.out
    assert out.err == ""
    TinyEmbedder(max_epochs=2, verbose=2).fit(X)
    assert "[" in capsys.readouterr().err


def test_no_weight_decay_on_biases_and_norms():
    est = TinyEmbedder(max_epochs=1).fit(_data())
    optimizer = est._make_optimizer(est.module_)
    decayed = {id(p) for p in optimizer.param_groups[0]["params"]}
    assert optimizer.param_groups[0]["weight_decay"] == est.weight_decay
    assert optimizer.param_groups[1]["weight_decay"] == 0.0
    for name, p in est.module_.named_parameters():
        assert (id(p) in decayed) == (p.ndim >= 2), name


class HookedEmbedder(TinyEmbedder):
    """Logs the hooks, and the epoch and mode of each batch_loss call, in ``calls_``."""

    def _log(self, *event):
        self.calls_ = getattr(self, "calls_", []) + [event]

    def on_train_begin(self, data, valid):
        self._log("train_begin", self.n_iter_, valid is not None)

    def on_epoch_begin(self, epoch, data):
        self._log("epoch_begin", epoch)

    def batch_loss(self, module, xs, observed, *, epoch, generator):
        self._log("train" if module.training else "valid", epoch)
        return super().batch_loss(module, xs, observed, epoch=epoch, generator=generator)

    def on_epoch_end(self, epoch, record):
        assert record is self.history_[-1] and record["epoch"] == epoch == self.n_iter_
        record["extra"] = 10 * epoch
        self._log("epoch_end", epoch)

    def on_train_end(self, data, valid):
        self._log("train_end", self.n_iter_)


def _epoch_calls(epoch, *batches):
    return [("epoch_begin", epoch)] + [(b, epoch) for b in batches] + [("epoch_end", epoch)]


def test_hooks_are_called_in_order_with_the_epoch():
    X = _data(n=60)
    est = HookedEmbedder(max_epochs=2, batch_size=30, random_state=0).fit(X)
    assert est.calls_ == (  # two batches an epoch
        [("train_begin", 0, False)] + _epoch_calls(1, "train", "train")
        + _epoch_calls(2, "train", "train") + [("train_end", 2)]
    )
    assert [h["extra"] for h in est.history_] == [10, 20]  # on_epoch_end's entries
    # partial_fit and warm starts continue the epochs
    est.calls_ = []
    est.partial_fit(X)
    est.set_params(warm_start=True, max_epochs=1).fit(X)
    assert est.calls_ == (
        [("train_begin", 2, False)] + _epoch_calls(3, "train", "train")
        + [("train_end", 3)]
        + [("train_begin", 3, False)] + _epoch_calls(4, "train", "train")
        + [("train_end", 4)]
    )
    # early stopping: the validation pass (eval mode) gets the epoch it follows
    est = HookedEmbedder(max_epochs=2, batch_size=30, random_state=0,
                         early_stopping=True, validation_fraction=0.5)
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    assert est.calls_ == (  # 30 training rows, 30 validation rows: a batch each
        [("train_begin", 0, True)] + _epoch_calls(1, "train", "valid")
        + _epoch_calls(2, "train", "valid") + [("train_end", 2)]
    )
    assert est.module_.training  # the evaluation context restores the training mode


def test_nan_validation_loss_raises_naming_the_epoch():
    class NanInEval(TinyEmbedder):
        def batch_loss(self, module, xs, observed, *, epoch, generator):
            loss, parts = super().batch_loss(module, xs, observed, epoch=epoch,
                                             generator=generator)
            return (loss if module.training else loss * float("nan")), parts

    est = NanInEval(random_state=0, early_stopping=True)
    with pytest.raises(FloatingPointError, match="epoch 1 .*validation loss became nan"):
        est.fit(_data())
    assert not hasattr(est, "module_")


# --- the optimiser ---------------------------------------------------------------------
def test_optimizer_choice_changes_the_training():
    X = _data()
    fits = {
        name: TinyEmbedder(random_state=0, optimizer=optimizer).fit(X)
        for name, optimizer in [("default", "adamw"), ("adam", "adam"), ("sgd", "sgd"),
                                ("sgd_class", torch.optim.SGD)]
    }
    fits["momentum"] = TinyEmbedder(random_state=0, optimizer="sgd",
                                    optimizer_params={"momentum": 0.9}).fit(X)
    Z = {name: est.transform(X) for name, est in fits.items()}
    kinds = {name: type(est._make_optimizer(est.module_)).__name__
             for name, est in fits.items()}
    assert kinds == {"default": "AdamW", "adam": "Adam", "sgd": "SGD", "sgd_class": "SGD",
                     "momentum": "SGD"}
    assert TinyEmbedder().optimizer == "adamw"
    np.testing.assert_array_equal(Z["sgd_class"], Z["sgd"])  # a name or its class
    assert not np.allclose(Z["sgd"], Z["adam"], atol=1e-3)
    assert not np.array_equal(Z["adam"], Z["default"])  # L2 penalty vs decoupled decay
    assert not np.allclose(Z["momentum"], Z["sgd"], atol=1e-3)
    groups = fits["momentum"]._make_optimizer(fits["momentum"].module_).param_groups
    assert [g["momentum"] for g in groups] == [0.9, 0.9]
    assert [g["weight_decay"] for g in groups] == [1e-3, 0.0]


def test_continued_fit_applies_the_current_optimizer_settings():
    X = _data()
    est = TinyEmbedder(random_state=0, warm_start=True).fit(X)  # AdamW
    # another optimiser starts a fresh state (AdamW's would not fit SGD, and back)
    est.set_params(optimizer="sgd", optimizer_params={"momentum": 0.9}).fit(X)
    assert set(est._optimizer_state["state"][0]) == {"momentum_buffer"}
    est.set_params(optimizer_params={"momentum": 0.5})
    optimizer = est._make_optimizer(est.module_)  # same class: the state is kept ...
    assert "momentum_buffer" in optimizer.state[optimizer.param_groups[0]["params"][0]]
    assert optimizer.param_groups[0]["momentum"] == 0.5  # ... with the new settings
    est.set_params(optimizer="adamw", optimizer_params=None).fit(X)
    assert "exp_avg" in est._optimizer_state["state"][0] and est.n_iter_ == 9


def test_optimizer_params_that_the_optimizer_refuses_name_the_parameter():
    est = TinyEmbedder(optimizer="sgd", optimizer_params={"momentum": -1.0})
    with pytest.raises(ValueError, match="optimizer_params=.*refused by SGD"):
        est.fit(_data())
    with pytest.raises(ValueError, match="'optimizer' parameter of .* Got SGD"):
        params = [torch.nn.Parameter(torch.zeros(1))]
        TinyEmbedder(optimizer=torch.optim.SGD(params, lr=0.1)).fit(_data())


# --- the public extension seam ---------------------------------------------------------
def test_torch_embedder_is_the_public_abstract_base():
    assert _base.BaseTorchEmbedder is TorchEmbedder  # the old private name
    with pytest.raises(TypeError, match="abstract"):
        TorchEmbedder()
    assert "TorchEmbedder" not in dict(all_estimators())
    assert "optimizer : " in TorchEmbedder.__doc__  # the training parameters' docs


def _user_guide_code():
    """The code blocks of the user guide's "Writing your own embedder" section."""
    path = Path(__file__).parents[2] / "doc" / "user_guide" / "torch_embedders.rst"
    section = path.read_text().split(".. _torch_embedders_custom:")[1]
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", section)
    return [textwrap.dedent(block) for block in blocks]


def test_user_guide_custom_embedder_example():
    blocks = _user_guide_code()
    assert len(blocks) == 2
    namespace = {"__name__": "user_guide_example"}
    for block in blocks:
        exec(compile(block, "torch_embedders.rst", "exec"), namespace)
    emb, X, Z = namespace["emb"], namespace["X"], namespace["Z"]
    assert isinstance(emb, TorchEmbedder)
    assert Z.shape == (200, 8) and np.isfinite(Z).all()
    assert list(emb.get_feature_names_out()[:2]) == [
        "linearclipembedder0", "linearclipembedder1"
    ]
    assert emb.n_iter_ == len(emb.history_) == 5
    assert emb.loss_curve_[-1] < emb.loss_curve_[0]
    assert emb.loss_curve_ == [h["train_clip"] for h in emb.history_]
    # the base's parameters and behaviours come with it
    assert clone(emb).get_params() == emb.get_params()
    assert {"optimizer", "early_stopping", "device"} <= set(emb.get_params())
    with pytest.warns(ConvergenceWarning):
        early = clone(emb).set_params(max_epochs=2, early_stopping=True).fit(X)
    assert len(early.validation_loss_curve_) == 2
    again = clone(emb).partial_fit(X[:100]).partial_fit(X[100:])
    assert again.n_iter_ == 2


def _refuse(options, monkeypatch):
    """Make ``torch.optim.AdamW`` refuse the given keyword options, as old torch does."""
    real = torch.optim.AdamW

    def adamw(*args, **kwargs):
        if any(kwargs.get(k) for k in options):
            raise RuntimeError(f"{options} not supported (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "AdamW", adamw)


def test_optimizer_is_fused_where_supported_and_falls_back(monkeypatch):
    X = _data()
    fast = TinyEmbedder(max_epochs=4, random_state=0).fit(X)
    group = fast._make_optimizer(fast.module_).param_groups[0]
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    assert group["fused"] is True or (major, minor) < (2, 4)
    # torch without fused AdamW on this device (< 2.4 on CPU): foreach, then the loop
    _refuse(["fused"], monkeypatch)
    foreach = TinyEmbedder(max_epochs=4, random_state=0).fit(X)
    assert foreach._make_optimizer(foreach.module_).param_groups[0]["foreach"] is True
    _refuse(["fused", "foreach"], monkeypatch)
    loop = TinyEmbedder(max_epochs=4, random_state=0).fit(X)
    # the three forms differ by float32 rounding only (4 epochs x 3 batches, lr 1e-2)
    for other in (foreach, loop):
        np.testing.assert_allclose(other.loss_curve_, fast.loss_curve_, rtol=1e-5)
        np.testing.assert_allclose(other.transform(X), fast.transform(X), rtol=0,
                                   atol=1e-5)


# --- persistence -----------------------------------------------------------------------
def test_pickle_round_trip_transforms_identically_and_can_continue():
    X = _data()
    est = TinyEmbedder(random_state=0, warm_start=True).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    assert all(p.device.type == "cpu" for p in restored.module_.parameters())
    est.partial_fit(X)
    restored.partial_fit(X)
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))


def test_getstate_leaves_the_live_estimator_alone():
    est = TinyEmbedder(max_epochs=1).fit(_data())
    module = est.module_
    state = est.__getstate__()
    assert state is not est.__dict__ and est.module_ is module


def test_importing_skmm_does_not_import_torch():
    code = (
        "import sys, skmm, skmm.embed, skmm.datasets, skmm.utils;"
        "from skmm.utils import all_estimators; all_estimators();"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_partial_fit_streams_the_row_blocks_of_dask_modalities(linked_data):
    """One partial_fit on Dask modalities is one partial_fit per row block, in order;
    transform stays lazy; fit refuses them (it needs every row at once)."""
    da = pytest.importorskip("dask.array")
    X = make_missing_modalities(linked_data(120), 0.3, random_state=0)
    lazy = as_dask(X, 40)
    streamed, chunked = TinyEmbedder(random_state=0), TinyEmbedder(random_state=0)
    streamed.partial_fit(lazy)
    for start in range(0, 120, 40):
        chunked.partial_fit(X[start:start + 40])
    assert streamed.n_iter_ == chunked.n_iter_ == 3
    Z = streamed.transform(lazy)
    assert isinstance(Z, da.Array)
    np.testing.assert_allclose(Z.compute(), chunked.transform(X), rtol=1e-12, atol=1e-12)
    with pytest.raises(TypeError, match="stream Dask modalities with partial_fit"):
        TinyEmbedder().fit(lazy)
    row = np.flatnonzero(X.observed[:, 0])[-1]
    X["a"][row, 0] = np.inf
    bad = as_dask(X, 40)
    before = streamed.n_iter_
    with pytest.raises(ValueError, match=rf"'a' contains infinite values .*\[{row}\]"):
        streamed.partial_fit(bad)
    assert streamed.n_iter_ == before  # the blocks before the bad one are undone
