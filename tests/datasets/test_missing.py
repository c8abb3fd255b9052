import numpy as np
import pytest

from skmm import MultiModalData
from skmm.datasets import make_missing_modalities


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return MultiModalData({m: rng.normal(size=(2000, 2)) for m in "abcd"})


def test_mcar_rate_and_every_sample_keeps_a_modality(X):
    Xm, hidden = make_missing_modalities(X, 0.5, random_state=0, return_mask=True)
    assert Xm.observed.any(axis=1).all()
    assert abs(hidden.mean() - 0.5) < 0.03
    np.testing.assert_array_equal(~Xm.observed, hidden)
    assert not np.isnan(X["a"]).any()  # input untouched


def test_per_modality_rates_and_reproducibility(X):
    rates = {"a": 0.0, "b": 0.2, "c": 0.5, "d": 0.8}
    kwargs = dict(pattern="standard", random_state=3, return_mask=True)
    m1 = make_missing_modalities(X, rates, **kwargs)[1]
    m2 = make_missing_modalities(X, rates, **kwargs)[1]
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_allclose(m1.mean(axis=0), [0.0, 0.2, 0.5, 0.8], atol=0.04)


def test_standard_needs_an_always_kept_modality(X):
    with pytest.raises(ValueError, match="rate 0"):
        make_missing_modalities(X, 0.5, pattern="standard")


def test_complex_protocol_exact_group_sizes(X):
    groups = {"all": 0.5, "a": 0.3, ("b", "c"): 0.2}
    Xm = make_missing_modalities(X, pattern="complex", groups=groups, random_state=0)
    patterns, counts = np.unique(Xm.observed, axis=0, return_counts=True)
    found = {tuple(p): c for p, c in zip(patterns.tolist(), counts)}
    assert found == {
        (True, True, True, True): 1000,
        (True, False, False, False): 600,
        (False, True, True, False): 400,
    }


def test_bad_arguments(X):
    with pytest.raises(ValueError, match="'b'"):
        make_missing_modalities(X, {"a": 0.1, "b": 1.5, "c": 0, "d": 0})
    with pytest.raises(ValueError, match="sum to 1"):
        make_missing_modalities(X, pattern="block", groups={"all": 0.5})
    with pytest.raises(ValueError, match="pattern"):
        make_missing_modalities(X, pattern="mnar")


def test_row_labels_and_feature_names_are_kept():
    pd = pytest.importorskip("pandas")
    frames = {m: pd.DataFrame(np.ones((6, 2)), columns=[f"{m}1", f"{m}2"],
                              index=list("uvwxyz")) for m in "ab"}
    Xm = make_missing_modalities(MultiModalData(frames), 0.3, random_state=0)
    assert list(Xm.index) == list("uvwxyz")
    assert list(Xm.get_feature_names()) == ["a__a1", "a__a2", "b__b1", "b__b2"]
