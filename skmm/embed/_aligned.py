"""What OVA-IB, pairwise CLIP and CalMRL share: one unit-norm embedding per modality.

:class:`_PerModalityEmbedder` is the private base of every embedder whose network is one
MLP per modality (:class:`~skmm.embed._modules.ModalityEncoders`) giving ``z^m``,
L2-normalised and set to zero where ``m`` is missing: it owns the per-modality
(``"concat"``) output, its feature names and :meth:`retrieval_scores`. Subclasses define
the cross-modal score (``_retrieval_candidates`` and ``_retrieval_kernel``).

:class:`_AlignedEmbedder` adds what :class:`~skmm.embed.OVAIBEmbedder` and
:class:`~skmm.embed.PairwiseCLIPEmbedder` share on top (their parameters, network and
``fusion``); they define only the training loss (``batch_loss``) and the score.
:class:`~skmm.embed.CalMRLEmbedder` derives from :class:`_PerModalityEmbedder` directly.
"""

import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..utils._param_validation import Interval, StrOptions
from ._base import _TRANSFORM_CHUNK, TorchEmbedder

__all__ = ["ALIGNED_PARAMETERS_DOC"]

_FUSIONS = ("mean", "concat")
# Queries per chunk in retrieval_scores (memory ~ chunk x n_candidates x K floats).
_RETRIEVAL_CHUNK = 256

ALIGNED_PARAMETERS_DOC = """\
embedding_dim : int, default=64
        Width ``d`` of each modality's embedding ``z^m`` (paper: 256). Must exceed
        ``n_modalities - 1`` (otherwise the span of the other modalities fills the
        whole space).
    hidden_dim : int, default=256
        Hidden width of the per-modality MLPs.
    n_layers : int, default=3
        ``Linear`` layers per modality MLP (``Linear -> LayerNorm -> GELU`` hidden
        layers, then a linear output); the paper uses 3-layer projection heads.
    temperature : float, default={temperature}
        Softmax temperature ``tau`` of the contrastive loss (paper: 0.01).{temperature_note}
    fusion : {"mean", "concat"}, default="mean"
        Embedding returned by ``transform``: ``"mean"`` averages the unit-norm ``z^m``
        of the modalities observed in a sample (``embedding_dim`` columns);
        ``"concat"`` returns every ``z^m`` (zeros where ``m`` is missing) followed by
        one presence bit per modality (``M * embedding_dim + M`` columns).
    normalize_output : bool, default=False
        With ``fusion="mean"``, rescale the fused vector to unit norm."""


class _PerModalityEmbedder(TorchEmbedder):
    """Private base: per-modality unit embeddings, their concatenation and retrieval.

    The fitted ``module_`` maps a list of ``(n, d_m)`` tensors to ``(n, M, d)``
    (:class:`~skmm.embed._modules.ModalityEncoders`); ``embedding_dim`` is ``d``.
    """

    @staticmethod
    def _unit_embeddings(module, xs, observed):
        """``(n, M, d)`` L2-normalised ``z^m``, zero where modality ``m`` is missing."""
        from ._losses import l2_normalize

        z = l2_normalize(module(xs))
        return z * observed[:, :, None].to(z.dtype)

    # --- the per-modality ("concat") output ----------------------------------------
    @staticmethod
    def _concat_output(z, observed):
        """Every ``z^m`` (zeros where missing), then one presence bit per modality."""
        import torch

        return torch.cat([z.reshape(z.shape[0], -1), observed.to(z.dtype)], dim=1)

    def _concat_width(self):
        M = len(self.modalities_)
        return M * self.embedding_dim + M

    def _concat_feature_names(self):
        d = self.embedding_dim
        names = [f"{m}__emb{i}" for m in self.modalities_ for i in range(d)]
        return names + [f"present__{m}" for m in self.modalities_]

    # --- retrieval ---------------------------------------------------------------
    def _complete(self, X):
        """A mapping holding only some fitted modalities, with the others all NaN."""
        if not isinstance(X, Mapping):
            return X
        names = list(X.keys())
        if not names or any(m not in self.modalities_ for m in names):
            return X  # check_multimodal reports unknown names
        if len(names) == len(self.modalities_):
            return X
        n = np.shape(X[names[0]])[0]
        return {
            m: X[m] if m in names
            else np.full((n, self.n_features_per_modality_[m]), np.nan)
            for m in self.modalities_
        }

    def _modality_embeddings(self, X):
        """Unit-norm ``z`` ``(n, M, d)`` float64 tensor and ``(n, M)`` observed mask.

        Computed like ``transform``: a float64 copy of the network, in chunks.
        """
        import torch

        X, _ = self._validate_multimodal(self._complete(X), reset=False)
        device = self._resolve_device()
        module = self._inference_module(device)
        zs, observed_parts = [], []
        with torch.inference_mode():
            for start in range(0, X.n_samples, _TRANSFORM_CHUNK):
                chunk = self._to_tensors(
                    X[start : start + _TRANSFORM_CHUNK], device, torch.float64, start
                )
                z = self._unit_embeddings(module, chunk.tensors, chunk.observed)
                self._check_finite_output(z, start)
                zs.append(z)
                observed_parts.append(chunk.observed)
        return torch.cat(zs), torch.cat(observed_parts)

    def _modality_index(self, name, what):
        if not isinstance(name, str) or name not in self.modalities_:
            raise ValueError(
                f"{what} must be one of the fitted modalities {list(self.modalities_)}; "
                f"got {name!r}."
            )
        return self.modalities_.index(name)

    def retrieval_scores(self, query_X, candidate_X, query_modality,
                         candidate_modality=None):
        """Cross-modal retrieval scores between query and candidate samples.

        The query side of sample ``i`` is its embedding ``z^q_i`` of
        ``query_modality``; the candidate side of sample ``j`` is made of the
        embeddings of ``candidate_modality`` (one or several modalities) that sample
        ``j`` has. See the class documentation for the score each embedder computes.

        Parameters
        ----------
        query_X : MultiModalData, dict of arrays or 2-D array
            Query samples. A dict may hold only some of the fitted modalities (the
            others are taken as missing).
        candidate_X : MultiModalData, dict of arrays or 2-D array
            Candidate samples, same forms.
        query_modality : str
            Modality of the queries.
        candidate_modality : str, list of str or None, default=None
            Modality (or modalities) of the candidates; None takes every fitted
            modality but ``query_modality``. Must not contain ``query_modality``.

        Returns
        -------
        scores : ndarray of shape (n_queries, n_candidates), float64
            Higher is a better match. Rows of queries that lack ``query_modality`` are
            NaN; columns of candidates that have none of the candidate modalities are
            ``-inf``. Feed it to :func:`skmm.metrics.recall_at_k`.
        """
        import torch

        check_is_fitted(self, "module_")
        qi = self._modality_index(query_modality, "query_modality")
        if candidate_modality is None:
            cands = [m for m in self.modalities_ if m != query_modality]
        elif isinstance(candidate_modality, str):
            cands = [candidate_modality]
        else:
            cands = list(candidate_modality)
        if not cands:
            raise ValueError("candidate_modality selects no modality.")
        ci = [self._modality_index(m, "candidate_modality") for m in cands]
        if qi in ci:
            raise ValueError(
                f"candidate_modality must not contain query_modality {query_modality!r}."
            )
        if len(set(ci)) != len(ci):
            raise ValueError(f"candidate_modality has repeated names: {cands}.")
        zq, pq = self._modality_embeddings(query_X)
        zc, pc = self._modality_embeddings(candidate_X)
        q, rest, rest_observed = zq[:, qi], zc[:, ci], pc[:, ci]
        with torch.inference_mode():
            candidates = self._retrieval_candidates(rest, rest_observed)
            parts = [
                self._retrieval_kernel(q[s : s + _RETRIEVAL_CHUNK], candidates)
                for s in range(0, q.shape[0], _RETRIEVAL_CHUNK)
            ]
        scores = torch.cat(parts).double().cpu().numpy()
        scores[:, ~rest_observed.any(dim=1).cpu().numpy()] = -np.inf
        scores[~pq[:, qi].cpu().numpy()] = np.nan
        return scores

    def _retrieval_candidates(self, rest, rest_observed):
        """What :meth:`_retrieval_kernel` scores the queries against, computed once
        for all query chunks from the candidate sets ``(n_c, K, d)`` (zero rows where
        absent) and their presence ``(n_c, K)``, e.g. one unit vector per candidate
        for the default kernel."""
        raise NotImplementedError

    def _retrieval_kernel(self, query, candidates):
        """Scores ``(n_q, n_c)`` of unit queries ``(n_q, d)`` against the output of
        :meth:`_retrieval_candidates`; by default their inner products."""
        return query @ candidates.T


class _AlignedEmbedder(_PerModalityEmbedder):
    """Private base of OVA-IB and pairwise CLIP: their parameters, network and fusion."""

    _parameter_constraints = {
        **TorchEmbedder._parameter_constraints,
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "fusion": [StrOptions(set(_FUSIONS))],
        "normalize_output": ["boolean"],
    }

    # --- network -----------------------------------------------------------------
    def build_module(self, n_features):
        from ._modules import ModalityEncoders

        n_modalities = len(n_features)
        if self.embedding_dim <= n_modalities - 1:
            raise ValueError(
                f"embedding_dim={self.embedding_dim} must exceed n_modalities - 1 = "
                f"{n_modalities - 1}: the span of the other modalities' embeddings "
                "would fill the whole embedding space."
            )
        if n_modalities < 2:
            warnings.warn(
                f"{type(self).__name__} was fitted on a single modality "
                f"({list(n_features)[0]!r}): there is nothing to align, the loss is "
                "zero and the embedding is the untrained network's output. Pass two "
                "or more modalities.",
                UserWarning,
            )
        return ModalityEncoders(
            list(n_features.values()), self.hidden_dim, self.embedding_dim,
            n_layers=self.n_layers,
        )

    @staticmethod
    def _empty_loss(z):
        """A zero loss that still depends on the parameters (so backward works)."""
        return z.sum() * 0.0

    # --- embedding ---------------------------------------------------------------
    def encode(self, module, xs, observed):
        from ._losses import l2_normalize

        z = self._unit_embeddings(module, xs, observed)
        if self.fusion == "concat":
            return self._concat_output(z, observed)
        fused = z.sum(dim=1) / observed.sum(dim=1, keepdim=True).clamp_min(1).to(z.dtype)
        return l2_normalize(fused) if self.normalize_output else fused

    @property
    def n_features_out_(self):
        if self.fusion == "concat":
            return self._concat_width()
        return self.embedding_dim

    def _feature_names(self):
        if self.fusion == "concat":
            return self._concat_feature_names()
        return [f"emb{i}" for i in range(self.embedding_dim)]


def _fill_aligned_params(temperature, temperature_note=""):
    """Class decorator: replace ``{aligned_parameters}`` in the class docstring.

    ``temperature`` is the class's default temperature; ``temperature_note`` (one or
    more lines indented by eight spaces, each starting with a newline) is appended to
    its description.
    """

    def decorate(cls):
        if cls.__doc__:
            doc = ALIGNED_PARAMETERS_DOC.replace("{temperature}", str(temperature))
            doc = doc.replace("{temperature_note}", temperature_note)
            cls.__doc__ = cls.__doc__.replace("{aligned_parameters}", doc)
        return cls

    return decorate
