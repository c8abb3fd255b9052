import numpy as np
import pytest

from skmm import MultiModalData
from skmm.datasets import make_shared_latent


def test_default_shapes_and_complete_data():
    X = make_shared_latent(random_state=0)
    assert isinstance(X, MultiModalData)
    assert X.n_features == {"m0": 10, "m1": 15, "m2": 20}
    assert X.n_samples == 500
    assert X.observed.all()


def test_params_generate_the_data():
    widths = {"a": 3, "b": 5}
    X, params = make_shared_latent(
        2000, widths, n_components=2, noise={"a": 0.1, "b": 0.5}, random_state=0,
        return_params=True,
    )
    assert params["latent"].shape == (2000, 2)
    assert params["noise_variance"] == {"a": pytest.approx(0.01), "b": pytest.approx(0.25)}
    for m, d in widths.items():
        W, mu = params["components"][m], params["mean"][m]
        assert W.shape == (d, 2) and mu.shape == (d,)
        resid = X[m] - params["latent"] @ W.T - mu
        np.testing.assert_allclose(resid.var(axis=0), params["noise_variance"][m], rtol=0.1)
        # marginal covariance W W^T + sigma^2 I
        np.testing.assert_allclose(
            np.cov(X[m].T), W @ W.T + params["noise_variance"][m] * np.eye(d),
            atol=0.15 * np.abs(W @ W.T).max(),
        )


def test_reproducible_and_seed_dependent():
    a = make_shared_latent(50, random_state=1)
    assert a == make_shared_latent(50, random_state=1)
    assert not a == make_shared_latent(50, random_state=2)


def test_zero_noise_gives_rank_q_data():
    X = make_shared_latent(100, {"a": 6, "b": 7}, n_components=3, noise=0.0, random_state=0)
    centred = np.asarray(X) - np.asarray(X).mean(axis=0)
    assert np.linalg.matrix_rank(centred, tol=1e-8) == 3


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_features": [3, 4]}, TypeError, "n_features"),
        ({"n_features": {"a": 0}}, ValueError, "'a'"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_components": 0}, ValueError, "n_components"),
        ({"noise": -1.0}, ValueError, "noise"),
        ({"noise": {"m0": 0.1}}, ValueError, "noise"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_shared_latent(**kwargs)
