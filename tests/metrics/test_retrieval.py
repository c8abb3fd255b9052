import numpy as np
import pytest

from skmm.metrics import recall_at_k


def test_recall_at_k_basic():
    scores = np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.1], [0.3, 0.5, 0.2]])
    assert recall_at_k(scores, 1) == pytest.approx(1 / 3)
    assert recall_at_k(scores, 2) == pytest.approx(2 / 3)
    assert recall_at_k(scores, 3) == 1.0
    assert recall_at_k(scores, 10) == 1.0


def test_recall_matches_argsort_reference():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 80))
    targets = rng.integers(0, 80, size=50)
    order = np.argsort(-scores, axis=1)
    for k in (1, 5, 20):
        expected = np.mean([t in order[i, :k] for i, t in enumerate(targets)])
        assert recall_at_k(scores, k, targets=targets) == expected


def test_ties_count_against_and_minus_inf_never_retrieved():
    assert recall_at_k(np.ones((3, 3)), 1) == 0.0
    assert recall_at_k(np.ones((3, 3)), 3) == 1.0
    scores = np.array([[1.0, -np.inf], [-np.inf, 0.0]])
    assert recall_at_k(scores, 1) == 1.0


def test_errors():
    with pytest.raises(ValueError, match="NaN"):
        recall_at_k(np.array([[np.nan, 1.0]]), 1)
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(np.eye(2), 0)
    with pytest.raises(ValueError, match="2-D"):
        recall_at_k(np.ones(3), 1)
    with pytest.raises(ValueError, match="n_candidates"):
        recall_at_k(np.ones((3, 2)), 1)
    with pytest.raises(ValueError, match="targets"):
        recall_at_k(np.ones((2, 2)), 1, targets=[0, 5])
