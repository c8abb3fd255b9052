"""torch.nn building blocks of skmm's embedders.

This module imports torch at import time: import it only inside methods (the training
base does so in ``build_module``), never from ``skmm/embed/__init__.py`` or at the top
of an estimator module, so that ``import skmm.embed`` stays torch-free. Classes live at
module level so that fitted estimators (which hold these modules) pickle.

Shared blocks
-------------
:class:`MLP`
    ``Linear -> LayerNorm -> GELU`` hidden layers and a linear output layer.
:class:`ModalityEncoders`
    One :class:`MLP` per modality; maps a list of ``(n, d_m)`` tensors to ``(n, M, out)``.
:class:`TransformerBlock`
    Pre-norm self-attention + MLP block with a key padding mask.
:class:`AttentionPool`
    Softmax pooling of a set of tokens with a learned query.

A module may define ``no_weight_decay()`` returning parameter names (as in
``named_parameters``) that AdamW must not decay; the training base already excludes
every parameter with fewer than 2 dimensions (biases, norm weights).

Method networks
---------------
:class:`COrALNetwork`
    The dual-path network of :class:`skmm.embed.COrALEmbedder`.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

__all__ = [
    "AttentionPool",
    "COrALNetwork",
    "MLP",
    "ModalityEncoders",
    "TransformerBlock",
]


class MLP(nn.Sequential):
    """Multi-layer perceptron: ``n_layers - 1`` hidden layers, then a linear output.

    Each hidden layer is ``Linear -> LayerNorm -> GELU`` (``LayerNorm`` acts per sample,
    so outputs never depend on the other rows of a batch).

    Parameters
    ----------
    in_dim, hidden_dim, out_dim : int
    n_layers : int, default=2
        Number of ``Linear`` layers (1 gives a single linear map).
    norm : bool, default=True
        Whether hidden layers have a ``LayerNorm``.
    """

    def __init__(self, in_dim, hidden_dim, out_dim, n_layers=2, norm=True):
        layers = []
        width = in_dim
        for _ in range(n_layers - 1):
            layers.append(nn.Linear(width, hidden_dim))
            if norm:
                layers.append(nn.LayerNorm(hidden_dim))
            layers.append(nn.GELU())
            width = hidden_dim
        layers.append(nn.Linear(width, out_dim))
        super().__init__(*layers)


class ModalityEncoders(nn.Module):
    """One :class:`MLP` per modality, all with the same output width.

    Parameters
    ----------
    n_features : sequence of int
        Input width ``d_m`` of each modality, in modality order.
    hidden_dim, out_dim : int
    n_layers : int, default=2

    Forward: a list of ``(n, d_m)`` tensors gives a ``(n, M, out_dim)`` tensor.
    """

    def __init__(self, n_features, hidden_dim, out_dim, n_layers=2):
        super().__init__()
        self.encoders = nn.ModuleList(
            MLP(d, hidden_dim, out_dim, n_layers=n_layers) for d in n_features
        )

    def forward(self, xs):
        return torch.stack([enc(x) for enc, x in zip(self.encoders, xs)], dim=1)


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: ``x + MHA(LN(x))``, then ``x + MLP(LN(x))``.

    Parameters
    ----------
    dim : int
        Token width (divisible by ``n_heads``).
    n_heads : int
    mlp_ratio : int, default=2
        Hidden width of the MLP as a multiple of ``dim``.

    Forward ``(x, attend, first_only=False)``: ``x`` of shape ``(n, T, dim)``;
    ``attend`` a bool ``(n, T)`` tensor, True where a token may be attended to (at least
    one per row must be True); ``first_only`` computes the output of the first token
    only (enough for a CLS read-out after the last block).
    """

    def __init__(self, dim, n_heads, mlp_ratio=2):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim={dim} is not divisible by n_heads={n_heads}.")
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim)
        )

    def forward(self, x, attend, first_only=False):
        n, t, dim = x.shape
        h = self.n_heads
        h_in = self.norm1(x)
        if first_only:  # only the first token's query is needed
            w_q, w_kv = self.qkv.weight.split([dim, 2 * dim])
            b_q, b_kv = self.qkv.bias.split([dim, 2 * dim])
            q = F.linear(h_in[:, :1], w_q, b_q)
            k, v = F.linear(h_in, w_kv, b_kv).chunk(2, dim=-1)
            x = x[:, :1]
        else:
            q, k, v = self.qkv(h_in).chunk(3, dim=-1)

        def heads(z):
            return z.reshape(n, z.shape[1], h, dim // h).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            heads(q), heads(k), heads(v), attn_mask=attend[:, None, None, :]
        )
        x = x + self.proj(out.transpose(1, 2).reshape(n, x.shape[1], dim))
        return x + self.mlp(self.norm2(x))


class AttentionPool(nn.Module):
    """Weighted mean of ``K`` tokens, weights ``softmax(t_k . q / sqrt(d))``.

    Forward: ``(n, K, dim)`` gives ``(n, dim)``.
    """

    def __init__(self, dim):
        super().__init__()
        self.query = nn.Parameter(torch.randn(dim) * 0.02)

    def forward(self, tokens):
        scores = tokens @ self.query / math.sqrt(tokens.shape[-1])
        weights = torch.softmax(scores, dim=-1)
        return (weights.unsqueeze(-1) * tokens).sum(dim=1)


class COrALNetwork(nn.Module):
    """Dual-path network of COrAL adapted to feature vectors (see ``COrALEmbedder``).

    Shared path: per-modality MLP ``d_m -> hidden -> K*D`` reshaped into ``K`` tokens,
    plus a learned (modality, token) embedding; a CLS token; ``n_layers`` pre-norm
    transformer blocks over the CLS and the tokens that are attended to; final
    LayerNorm; the fused vector ``s`` is the CLS output.
    Unique path, per modality: MLP ``d_m -> hidden -> K*D`` into ``K`` tokens, a
    per-token MLP ``D -> D -> D/2`` and attention pooling into ``u_m``.
    Projection heads (used in the loss only): 3-layer MLPs to ``head_dim``.
    """

    def __init__(
        self, n_features, *, embedding_dim, n_tokens, hidden_dim, n_heads, n_layers,
        head_dim,
    ):
        super().__init__()
        n_modalities = len(n_features)
        D, K = embedding_dim, n_tokens
        self.n_modalities, self.embedding_dim, self.n_tokens = n_modalities, D, K
        self.shared_encoders = ModalityEncoders(n_features, hidden_dim, K * D)
        self.unique_encoders = ModalityEncoders(n_features, hidden_dim, K * D)
        self.token_embedding = nn.Parameter(torch.randn(n_modalities, K, D) * 0.02)
        self.cls_token = nn.Parameter(torch.randn(D) * 0.02)
        self.blocks = nn.ModuleList(TransformerBlock(D, n_heads) for _ in range(n_layers))
        self.final_norm = nn.LayerNorm(D)
        self.unique_token_mlps = nn.ModuleList(
            MLP(D, D, D // 2, norm=False) for _ in range(n_modalities)
        )
        self.unique_pools = nn.ModuleList(
            AttentionPool(D // 2) for _ in range(n_modalities)
        )
        self.shared_head = MLP(D, hidden_dim, head_dim, n_layers=3)
        self.unique_heads = nn.ModuleList(
            MLP(D // 2, hidden_dim, head_dim, n_layers=3) for _ in range(n_modalities)
        )

    def no_weight_decay(self):
        names = {"token_embedding", "cls_token"}
        return names | {f"unique_pools.{m}.query" for m in range(self.n_modalities)}

    def shared(self, xs, keep):
        """Fused vectors ``(n, D)``; ``keep`` (n, M, K) bool says which tokens take part."""
        n = xs[0].shape[0]
        M, K, D = self.n_modalities, self.n_tokens, self.embedding_dim
        tokens = self.shared_encoders(xs).reshape(n, M, K, D) + self.token_embedding
        cls = self.cls_token.expand(n, 1, D)
        x = torch.cat([cls, tokens.reshape(n, M * K, D)], dim=1)
        attend = torch.cat(
            [torch.ones(n, 1, dtype=torch.bool, device=x.device), keep.reshape(n, M * K)],
            dim=1,
        )
        for i, block in enumerate(self.blocks):
            x = block(x, attend, first_only=i == len(self.blocks) - 1)
        return self.final_norm(x[:, 0])

    def unique(self, xs):
        """Unique vectors ``(n, M, D/2)`` of every modality (rows are not masked)."""
        n = xs[0].shape[0]
        M, K, D = self.n_modalities, self.n_tokens, self.embedding_dim
        tokens = self.unique_encoders(xs).reshape(n, M, K, D)
        pairs = zip(self.unique_token_mlps, self.unique_pools)
        return torch.stack(
            [pool(mlp(tokens[:, m])) for m, (mlp, pool) in enumerate(pairs)], dim=1
        )

    def heads(self, s, u):
        """Head outputs ``(n, 1 + M, head_dim)``: ``g_s(s)``, then each ``g_m(u_m)``."""
        out = [self.shared_head(s)]
        out += [head(u[:, m]) for m, head in enumerate(self.unique_heads)]
        return torch.stack(out, dim=1)

    def forward(self, xs, keep):
        return self.shared(xs, keep), self.unique(xs)
