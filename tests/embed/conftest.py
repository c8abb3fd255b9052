"""Fixtures shared by the embedder tests (torch threads: see ``tests/conftest.py``)."""

import numpy as np
import pytest

from skmm import MultiModalData


@pytest.fixture
def fast_params():
    """Tiny, quick settings of the aligned embedders (OVA-IB, pairwise CLIP)."""
    return dict(embedding_dim=8, hidden_dim=16, max_epochs=3, batch_size=32,
                random_state=0)


def _latent_modalities(n=80, seed=0):
    """Modalities ``a`` (5 features), ``b`` (4), ``c`` (3) driven by a 2-d factor."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(n, 2))
    return MultiModalData(
        a=h @ rng.normal(size=(2, 5)) + 0.1 * rng.normal(size=(n, 5)),
        b=np.tanh(h @ rng.normal(size=(2, 4))) + 0.1 * rng.normal(size=(n, 4)),
        c=h @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(n, 3)),
    )


@pytest.fixture
def linked_data():
    """Factory ``(n=80, seed=0) -> MultiModalData`` of three linked modalities."""
    return _latent_modalities
