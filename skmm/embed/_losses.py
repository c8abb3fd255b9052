"""Contrastive and regularisation losses shared by skmm's torch embedders.

This module imports torch at import time: import it only inside methods (never from
``skmm/embed/__init__.py`` or at the top of an estimator module), so that
``import skmm.embed`` stays torch-free.

Every function takes batches as ``(n, d)`` tensors and returns a scalar tensor.
"""

import torch
import torch.nn.functional as F

__all__ = ["info_nce", "l2_normalize", "nt_xent", "squared_cosine", "stack_spectrum"]


def l2_normalize(z, eps=1e-8):
    """Rows of ``z`` scaled to unit Euclidean norm (zero rows stay zero)."""
    return F.normalize(z, p=2.0, dim=-1, eps=eps)


def nt_xent(a, b, temperature=0.1):
    """SimCLR's normalised-temperature cross entropy between two views of a batch.

    For anchor ``a_i`` the positive is ``b_i``; the negatives are every other ``b_j``
    and every other ``a_k`` (2N - 2 negatives, 2N - 1 candidates). Symmetrised: each
    ``b_i`` is an anchor too. Inputs are L2-normalised here.

    Parameters
    ----------
    a, b : Tensor of shape (n, d)
        Two views; row ``i`` of ``a`` and row ``i`` of ``b`` come from the same sample.
    temperature : float
        Softmax temperature ``tau``.

    Returns
    -------
    Tensor
        Mean loss over the ``2n`` anchors (0 when ``n < 2``: no negatives).
    """
    n = a.shape[0]
    if n < 2:
        return a.sum() * 0.0
    z = l2_normalize(torch.cat([a, b], dim=0))
    logits = z @ z.T / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    idx = torch.arange(n, device=z.device)
    target = torch.cat([idx + n, idx])
    return F.cross_entropy(logits, target)


def info_nce(a, b, temperature=0.1):
    """CLIP's symmetric InfoNCE between two paired batches.

    For anchor ``a_i`` the candidates are all ``b_j`` (positive ``b_i``), and the other
    way round; the two cross entropies are averaged. Inputs are L2-normalised here.

    Parameters
    ----------
    a, b : Tensor of shape (n, d)
    temperature : float

    Returns
    -------
    Tensor
        Scalar loss (0 when ``n < 2``).
    """
    n = a.shape[0]
    if n < 2:
        return a.sum() * 0.0
    logits = l2_normalize(a) @ l2_normalize(b).T / temperature
    target = torch.arange(n, device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def squared_cosine(vectors, observed=None, hinge=False):
    """Mean squared cosine similarity between the vectors of each sample.

    Parameters
    ----------
    vectors : Tensor of shape (n, k, d)
        ``k`` vectors per sample (e.g. a shared vector and one per modality).
    observed : bool Tensor of shape (n, k), optional
        Which of the ``k`` vectors exist for each sample; a pair counts only when both
        exist.
    hinge : bool, default=False
        Use ``max(0, cos)`` instead of ``cos ** 2``.

    Returns
    -------
    Tensor
        Mean over all valid pairs ``i < j`` of all samples (0 when there is none).
    """
    z = l2_normalize(vectors)
    cos = z @ z.transpose(1, 2)  # (n, k, k)
    k = vectors.shape[1]
    pairs = torch.triu(torch.ones(k, k, dtype=torch.bool, device=z.device), diagonal=1)
    valid = pairs.expand(vectors.shape[0], k, k)
    if observed is not None:
        valid = valid & observed[:, :, None] & observed[:, None, :]
    values = cos.clamp_min(0.0) if hinge else cos.square()
    n_valid = valid.sum()
    return torch.where(valid, values, 0.0).sum() / n_valid.clamp_min(1)


def stack_spectrum(vectors, observed=None, min_gap=1e-4):
    """Singular values and sign-fixed leading left singular vector of per-sample stacks.

    Sample ``i``'s vectors are the columns of ``Z_i`` (``d x k``). The spectrum comes
    from the small ``k x k`` Gram matrix ``Z_i^T Z_i`` (eigendecomposition in float64,
    without gradient); gradients are then rebuilt exactly for the singular values
    (``s_j = ||Z_i v_j||``) and for the leading vector (first-order perturbation of
    ``v_1`` through ``sum_{j>1} v_j v_j^T / (lambda_1 - lambda_j)``), so that, unlike
    ``torch.linalg.svd``'s backward, tied lower singular values (e.g. dropped columns)
    give no NaN.

    Parameters
    ----------
    vectors : Tensor of shape (n, k, d)
    observed : bool Tensor of shape (n, k), optional
        Columns that take part; the others are dropped (their singular values are 0 and
        sorted last, after the ``observed.sum(1)`` real ones).
    min_gap : float, default=1e-4
        Floor of ``lambda_1 - lambda_j`` in the leading vector's gradient.

    Returns
    -------
    s : Tensor of shape (n, k)
        Singular values, descending.
    u : Tensor of shape (n, d)
        Leading left singular vector (unit norm; 0 for an all-zero stack), signed so
        that ``sum_j <u_i, z_ij> >= 0``.
    """
    z = vectors.double()
    if observed is not None:
        z = z * observed[..., None].to(z.dtype)
    gram = z @ z.transpose(1, 2)
    with torch.no_grad():
        evals, evecs = torch.linalg.eigh(gram)
        evals, evecs = evals.flip(-1), evecs.flip(-1)
        # Z^T u_1 = s_1 v_1, so sum_j <u_1, z_j> has the sign of sum(v_1)
        sign = torch.where(evecs[:, :, 0].sum(1) < 0, -1.0, 1.0).to(z.dtype)
        evecs = torch.cat([evecs[:, :, :1] * sign[:, None, None], evecs[:, :, 1:]], 2)
        gap = (evals[:, :1] - evals[:, 1:]).clamp_min(min_gap)
        resolvent = (evecs[:, :, 1:] / gap[:, None, :]) @ evecs[:, :, 1:].transpose(1, 2)
    s = torch.linalg.vector_norm(evecs.transpose(1, 2) @ z, dim=-1)
    v1 = evecs[:, :, 0]
    # value v1, derivative resolvent @ dG @ v1 (the exact first-order change of v1)
    v1 = v1 + (resolvent @ ((gram - gram.detach()) @ v1[..., None]))[..., 0]
    u = (v1[:, None, :] @ z)[:, 0] / s[:, :1].clamp_min(1e-12)
    return s.to(vectors.dtype), u.to(vectors.dtype)
