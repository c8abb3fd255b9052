import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skmm import MultiModalData
from skmm.datasets import make_redundant_unique_synergistic


def _score(model, A, y):
    return cross_val_score(model, A, y, cv=4, scoring="balanced_accuracy").mean()


def test_shapes_names_and_balanced_binary_targets():
    X, targets = make_redundant_unique_synergistic(500, n_modalities=3, random_state=0)
    assert isinstance(X, MultiModalData)
    assert X.modalities == ("m0", "m1", "m2")
    assert X.n_features == {"m0": 16, "m1": 16, "m2": 16}
    assert X.observed.all()
    assert set(targets) == {"redundant", "unique", "synergistic"}
    assert targets.synergistic is targets["synergistic"]
    for y in targets.values():
        assert y.shape == (500,) and set(np.unique(y)) == {0, 1}
        assert 0.4 < y.mean() < 0.6


def test_dict_widths_name_the_modalities_and_random_state_reproduces():
    X1, t1 = make_redundant_unique_synergistic(50, n_features={"img": 8, "txt": 5},
                                               random_state=1)
    X2, t2 = make_redundant_unique_synergistic(50, n_features={"img": 8, "txt": 5},
                                               random_state=1)
    assert X1.n_features == {"img": 8, "txt": 5}
    assert X1 == X2
    np.testing.assert_array_equal(t1["synergistic"], t2["synergistic"])
    X3, _ = make_redundant_unique_synergistic(50, n_features={"img": 8, "txt": 5},
                                              random_state=2)
    assert X1 != X3


def test_each_target_carries_the_information_it_claims():
    X, t = make_redundant_unique_synergistic(800, random_state=0)
    a, b = X["m0"], X["m1"]
    both = np.hstack([a, b])
    linear = LogisticRegression(max_iter=1000)
    # redundant: either modality alone
    assert _score(linear, a, t.redundant) > 0.95
    assert _score(linear, b, t.redundant) > 0.95
    # unique: the first modality only
    assert _score(linear, a, t.unique) > 0.95
    assert _score(linear, b, t.unique) < 0.6
    # synergistic: no single modality, no linear model on both, but a non-linear one
    assert _score(linear, a, t.synergistic) < 0.6
    assert _score(linear, b, t.synergistic) < 0.6
    assert _score(linear, both, t.synergistic) < 0.6
    assert _score(KNeighborsClassifier(15), both, t.synergistic) > 0.8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_modalities": 1}, "n_modalities"),
        ({"n_features": 3}, "'m0'"),
        ({"n_features": {"a": 8}}, "n_modalities"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_redundant_unique_synergistic(**kwargs)
