"""OVA-IB: One-vs-All information-bottleneck alignment of any number of modalities."""

from numbers import Real

from ..utils._param_validation import Interval
from ._aligned import _AlignedEmbedder, _fill_aligned_params
from ._base import fill_training_doc

__all__ = ["OVAIBEmbedder", "projection_scores"]

# Floor of ||P z||^2 in the score's denominator (the score is 0 when P z = 0).
_TINY = 1e-30


def projection_scores(anchor, rest, ridge):
    """Cosine between each anchor and its ridge projection onto each candidate span.

    For anchor ``z_n`` and candidate ``p`` with span columns ``A_p = rest[p].T``
    (``d x K``; zero columns are absent modalities and drop out exactly)::

        P_p z = A_p (A_p^T A_p + ridge I)^-1 A_p^T z,    s[n, p] = cos(z_n, P_p z_n)

    computed without any ``(N, P, d)`` tensor: with the Cholesky factor
    ``L L^T = A_p^T A_p + ridge I`` (one small float64 factorisation per candidate),
    ``e = L^-1 A_p^T z_n`` and ``c = L^-T e = (A_p^T A_p + ridge I)^-1 A_p^T z_n``
    give ``z^T P z = ||e||^2``, ``||P z||^2 = ||e||^2 - ridge ||c||^2`` and
    ``s = ||e||^2 / (||z_n|| ||P z_n||)``. Memory ``O(N P K)``.

    The products with the anchors run in the anchors' dtype. In float32 they stay
    accurate: the rows of ``L^-1 A_p^T`` have norm <= 1 (``e`` is bounded by
    ``||z_n||``) and the rounding of ``c`` enters multiplied by ``ridge``.

    Parameters
    ----------
    anchor : Tensor of shape (N, d)
    rest : Tensor of shape (P, K, d)
        Same dtype as ``anchor``.
    ridge : float
        ``lambda > 0``.

    Returns
    -------
    Tensor of shape (N, P)
        Scores in ``[0, 1]``, in the dtype of ``anchor``; 0 where the span is empty or
        ``z_n`` is orthogonal to it (or ``z_n = 0``).
    """
    import torch

    P, K, d = rest.shape
    r = rest.double()
    eye = torch.eye(K, dtype=r.dtype, device=r.device)
    chol = torch.linalg.cholesky(r @ r.mT + ridge * eye)
    inv_chol = torch.linalg.solve_triangular(chol, eye, upper=False)  # L^-1
    white = (inv_chol @ r).to(anchor.dtype)  # rows of L^-1 A_p^T
    e = (white.reshape(P * K, d) @ anchor.T).reshape(P, K, -1)  # e[p, :, n]
    c = inv_chol.mT.to(anchor.dtype) @ e
    zpz = e.square().sum(dim=1)  # (P, N): z^T P z
    proj_sq = (zpz - ridge * c.square().sum(dim=1)).clamp_min(_TINY)  # ||P z||^2
    norm = anchor.norm(dim=1).clamp_min(_TINY ** 0.5)
    return (zpz / proj_sq.sqrt()).T / norm[:, None]


_TEMPERATURE_NOTE = """
        The projection score lies in ``[0, 1]``. On tabular data a soft 0.5 gave
        the most linearly separable embeddings (class probes, with or without
        missing modalities); a lower one (0.2) sharpens cross-modal retrieval at
        some cost in probe accuracy. See :ref:`ovaib`."""


@fill_training_doc(max_epochs=40, batch_size='"auto"', lr=1e-3, weight_decay=1e-3)
@_fill_aligned_params(temperature=0.5, temperature_note=_TEMPERATURE_NOTE)
class OVAIBEmbedder(_AlignedEmbedder):
    """One-vs-All information-bottleneck alignment of two or more modalities (OVA-IB).

    Each modality ``m`` gets an MLP whose L2-normalised output is ``z^m``. Training
    makes every ``z^m`` predictable from the *span* of the other modalities'
    embeddings of the same sample (sufficiency) and pulls it towards their mean
    (minimality); see :ref:`ovaib`. Adapted from "OVA-IB: One vs All Information
    Bottleneck for Multi-Modal Alignment" to feature vectors and missing modalities.

    Sufficiency, for sample ``n`` and anchor modality ``m``: with
    ``A_n' = [z_n'^i]`` the observed other modalities of sample ``n'``, the score is
    ``s(z_n^m, n') = cos(z_n^m, P_n' z_n^m)`` with the ridge projection
    ``P = A (A^T A + ridge I)^-1 A^T``, and the loss is the InfoNCE (temperature
    ``tau``) that ranks the own rest-span ``n' = n`` above those of the other samples
    in the batch, averaged over the modalities. Minimality:
    ``||z_n^m - mean_{i != m} z_n^i||^2`` averaged the same way, weight ``beta``.

    Missing modalities: the span of a sample keeps only its observed modalities; an
    anchor ``(n, m)`` counts only when ``m`` and at least one other modality are
    observed; candidate spans with no modality are not negatives; the minimality term
    uses the mean of the observed others. ``transform`` fuses the observed ``z^m``
    (``fusion``); a sample with no observed modality gets a zero vector.

    Parameters
    ----------
    {aligned_parameters}
    beta : float, default=1.0
        Weight of the minimality term (paper: 1, 0.5 on one data set; 0 disables it).
    ridge : float, default=1e-6
        Ridge ``lambda`` of the projection (paper: 1e-8); the small Gram systems are
        solved in float64. Larger values shrink the projection of directions the
        span barely covers.
    include_positive_in_denominator : bool, default=True
        Standard InfoNCE (the positive is one of the candidates of the softmax). The
        paper's equation leaves it out (False): each anchor then needs at least one
        valid negative in its batch, anchors without one are skipped.
    {training_parameters}

    Attributes
    ----------
    n_features_out_ : int
        Width of the embedding.
    {training_attributes}

    See Also
    --------
    PairwiseCLIPEmbedder : the pairwise contrastive baseline.
    skmm.metrics.recall_at_k : score :meth:`retrieval_scores`.

    Notes
    -----
    :meth:`retrieval_scores` returns the projection score ``cos(z^q, P z^q)`` of each
    query embedding onto each candidate's span of ``candidate_modality`` embeddings.
    With a single candidate modality ``a`` it equals ``|cos(z^q, z^a)|`` up to the
    ridge shrinkage (the span of one vector has no sign).

    Per batch and anchor modality the score needs ``O(N^2 M)`` memory and
    ``O(N^2 M d)`` operations (``N`` the batch size): no ``N x N x d`` tensor.
    The encoder and projection head of the paper are one MLP per modality here (the
    paper trains 3-layer heads on frozen encoder features). Our defaults differ from
    the paper's training values (Adam, batch 64, tau 0.01, d 256, lr 1e-3 to 1e-5,
    lambda 1e-8) in batches of up to 256 rows, ``temperature=0.5``,
    ``embedding_dim=64``, ``ridge=1e-6`` and ``max_epochs=40``, chosen on mfeat
    (2000 rows): longer training or a sharper temperature fits the identities of the
    training rows and makes the embedding less linearly separable.

    Examples
    --------
    >>> from skmm.datasets import load_multiple_features
    >>> from skmm.embed import OVAIBEmbedder
    >>> X, y = load_multiple_features(return_X_y=True)
    >>> emb = OVAIBEmbedder(embedding_dim=16, max_epochs=2, random_state=0)
    >>> emb.fit_transform(X[:200]).shape
    (200, 16)
    """

    def __init__(
        self,
        embedding_dim=64,
        *,
        hidden_dim=256,
        n_layers=3,
        temperature=0.5,
        fusion="mean",
        normalize_output=False,
        beta=1.0,
        ridge=1e-6,
        include_positive_in_denominator=True,
        max_epochs=40,
        batch_size="auto",
        lr=1e-3,
        weight_decay=1e-3,
        optimizer="adamw",
        optimizer_params=None,
        device="cpu",
        random_state=None,
        verbose=0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
    ):
        super().__init__(
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            optimizer=optimizer,
            optimizer_params=optimizer_params,
            device=device,
            random_state=random_state,
            verbose=verbose,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
        )
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.temperature = temperature
        self.fusion = fusion
        self.normalize_output = normalize_output
        self.beta = beta
        self.ridge = ridge
        self.include_positive_in_denominator = include_positive_in_denominator

    _parameter_constraints = {
        **_AlignedEmbedder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
        "ridge": [Interval(Real, 0, None, closed="neither")],
        "include_positive_in_denominator": ["boolean"],
    }

    # --- loss --------------------------------------------------------------------
    def _sufficiency(self, scores, rows, valid_rest):
        """InfoNCE of anchors ``rows`` (their scores ``(A, N)`` against every span)."""
        import torch
        import torch.nn.functional as F

        logits = (scores / self.temperature).masked_fill(~valid_rest[None, :],
                                                         float("-inf"))
        if self.include_positive_in_denominator:
            return F.cross_entropy(logits, rows)
        arange = torch.arange(rows.numel(), device=rows.device)
        positive = logits[arange, rows]
        negatives = logits.clone()
        negatives[arange, rows] = float("-inf")
        has_negative = torch.isfinite(negatives).any(dim=1)
        if not has_negative.any():
            return None
        terms = torch.logsumexp(negatives[has_negative], dim=1) - positive[has_negative]
        return terms.mean()

    def batch_loss(self, module, xs, observed, *, epoch, generator):
        import torch

        z = self._unit_embeddings(module, xs, observed)  # (n, M, d)
        M = observed.shape[1]
        sufficiency, minimality = [], []
        for m in range(M):
            others = [i for i in range(M) if i != m]
            rest_observed = observed[:, others]
            valid_rest = rest_observed.any(dim=1)
            rows = torch.nonzero(observed[:, m] & valid_rest).flatten()
            if rows.numel() == 0:
                continue
            anchor, rest = z[rows, m], z[:, others]
            scores = projection_scores(anchor, rest, self.ridge)  # in z's dtype
            term = self._sufficiency(scores, rows, valid_rest)
            if term is not None:
                sufficiency.append(term)
            n_rest = rest_observed[rows].sum(dim=1, keepdim=True).to(z.dtype)
            centroid = rest[rows].sum(dim=1) / n_rest
            minimality.append((anchor - centroid).square().sum(dim=1).mean())
        if not minimality:
            zero = self._empty_loss(z)
            return zero, {"sufficiency": zero, "minimality": zero}
        loss_s = (torch.stack(sufficiency).mean().to(z.dtype) if sufficiency
                  else self._empty_loss(z))
        loss_m = torch.stack(minimality).mean()
        return loss_s + self.beta * loss_m, {"sufficiency": loss_s, "minimality": loss_m}

    def _retrieval_candidates(self, rest, rest_observed):
        return rest.double()

    def _retrieval_kernel(self, query, candidates):
        return projection_scores(query.double(), candidates, self.ridge)
