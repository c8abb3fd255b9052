"""COrAL: one embedding with redundant, unique and synergistic information."""

from numbers import Integral, Real

from ..utils._param_validation import Interval, StrOptions
from ._base import TorchEmbedder, fill_training_doc

__all__ = ["COrALEmbedder"]

# The earlier published schedule of the masking ratio: its value in each quarter of the
# epochs (scaled so that the last quarter uses ``mask_ratio``).
_RAMP = (0.05, 0.35, 0.55, 0.75)


@fill_training_doc(max_epochs=100, batch_size='"auto"', lr=1e-3, weight_decay=1e-3)
class COrALEmbedder(TorchEmbedder):
    """Orthogonalised multimodal contrastive embedding with asymmetric masking (COrAL).

    Learns one vector per sample that keeps what the modalities share (redundancy),
    what each modality alone says (uniqueness) and what only their combination says
    (synergy), from unlabelled feature vectors of two or more modalities, some of which
    may be missing. Adapted from "Orthogonalized Multimodal Contrastive Learning with
    Asymmetric Masking for Structured Representations" (COrAL) to feature vectors, any
    number of modalities and missing rows; see :ref:`coral` for the method.

    Two paths share nothing but the input:

    - shared path: each modality is encoded into ``n_tokens`` latent tokens; a small
      transformer fuses the tokens of the observed modalities through a CLS token into
      the shared vector ``s`` (width ``embedding_dim``);
    - unique path: a separate encoder per modality gives ``u_m`` (width
      ``embedding_dim // 2``) by attention pooling over its own tokens.

    Training makes two augmented views of each batch; in the shared path, view 1 masks
    tokens of one observed modality ``a`` and view 2 those of another ``b`` (complementary
    masking), and the two fused vectors must agree (NT-Xent), so ``s`` must infer what
    was masked from the other modalities. Each ``u_m`` must agree across views
    (NT-Xent), and an orthogonality term pushes the projections of ``s`` and of the
    ``u_m`` apart.

    ``transform`` returns ``[s, u_1, ..., u_M]`` (``u_m = 0`` where modality ``m`` is
    missing), optionally followed by ``M`` presence bits; no masking or augmentation
    is applied then.

    Parameters
    ----------
    embedding_dim : int, default=64
        Width ``D`` of the shared vector and of the tokens (even, divisible by
        ``n_heads``); each unique vector has width ``D // 2``. The embedding has
        ``D + M * D // 2`` columns.
    n_tokens : int, default=4
        Latent tokens ``K`` per modality (``K > 1``; with ``K = 1`` masking becomes
        whole-modality dropout).
    hidden_dim : int, default=128
        Hidden width of the per-modality encoders and the projection heads.
    n_heads : int, default=4
        Attention heads of the fusion transformer.
    n_layers : int, default=1
        Transformer blocks in the fusion (the specification uses one).
    projection_dim : int, default=128
        Output width of the projection heads used by the losses (paper: 256).
    mask_ratio : float, default=0.75
        Probability that a token of the masked modality is hidden (paper's current
        code: 0.75).
    mask_schedule : {"constant", "ramp"}, default="constant"
        ``"ramp"`` uses 0.05, 0.35, 0.55 and then ``mask_ratio`` in the four quarters
        of ``max_epochs`` (the earlier published schedule, scaled to ``mask_ratio``).
    noise_std : float, default=0.1
        Standard deviation of the Gaussian noise augmentation (standardised units).
    max_feature_dropout : float, default=0.8
        Feature dropout zeroes a ``U(0, max_feature_dropout)`` fraction of a
        modality's features.
    augment_prob : float, default=0.5
        Probability of applying each augmentation to each (sample, modality, view).
    temperature : float, default=0.5
        NT-Xent temperature ``tau`` (paper: 0.1). On our tabular benchmarks 0.5 gave
        better linear probes on mfeat and on the synthetic synergy target.
    shared_weight, unique_weight : float, default=1.0
        Weights ``w_s`` and ``w_u`` of the shared and unique NT-Xent losses.
    orth_weight : float, default=1.0
        Weight ``lambda_orth`` of the orthogonality loss, the *mean* squared cosine
        over the two views and the ``M (M + 1) / 2`` pairs of vectors. The authors'
        code *sums* those ``M (M + 1)`` terms (paper: 1; 10 on MultiBench), so their
        ``lambda`` is ``orth_weight = M (M + 1) lambda`` here: 6 (60) at two
        modalities. See :ref:`the orthogonality weight <coral_orth_weight>`.
    orth_loss : {"squared", "hinge"}, default="squared"
        ``cos ** 2`` (current) or ``max(0, cos)`` (earlier variant).
    presence_bits : bool, default=False
        Append one presence bit per modality to the embedding (not the same idea as
        ``fusion="concat"`` of the aligned embedders: see :ref:`torch_embedders`).
    {training_parameters}

    Attributes
    ----------
    n_features_out_ : int
        Width of the embedding.
    {training_attributes}

    See Also
    --------
    skmm.compose.MissingModalityIndicator : presence bits as a separate transformer.

    Notes
    -----
    Adaptations to the published method (which used two complete modalities of token
    sequences or images): feature vectors are tokenised by an MLP into ``K`` tokens;
    tokens of missing modalities are excluded from attention (key padding) and masked
    tokens too; with ``M > 2`` the pair ``(a, b)`` is drawn per sample among its observed
    modalities (a sample with one observed modality masks it in both views,
    independently); the unique loss of modality ``m`` and the orthogonality pairs use
    only the rows where ``m`` is observed. A sample with no observed modality at
    ``transform`` gets the shared vector of an empty input (the same for all such
    samples) and zero unique blocks.

    Our defaults differ from the paper's values (AdamW, lr 1e-4, batch 64, 100 epochs,
    weight decay 1e-3, temperature 0.1, 256-wide heads) in ``lr=1e-3``,
    ``batch_size="auto"`` (256 rows, or every row of a smaller set),
    ``temperature=0.5`` and ``hidden_dim=projection_dim=128``, which suit tabular data
    of a few thousand rows; the user guide (:ref:`coral`, "Results") gives their
    probes and training times (``benchmarks/bench_coral.py``).

    The network also differs from the authors' code, which skmm does not follow in
    these places: their projection heads use BatchNorm and ReLU with 512 hidden units
    (ours LayerNorm and GELU, ``hidden_dim`` wide), their fusion block has an MLP 4
    times the token width and 8 heads (ours 2 times, ``n_heads``), their masked
    tokens are zeroed but still attended to (ours are excluded from attention), and
    their unique encoders start as copies of the shared ones (ours are initialised
    independently). :ref:`coral` lists these and the other differences.

    Examples
    --------
    >>> from skmm.datasets import make_redundant_unique_synergistic
    >>> from skmm.embed import COrALEmbedder
    >>> X, targets = make_redundant_unique_synergistic(200, random_state=0)
    >>> emb = COrALEmbedder(embedding_dim=16, max_epochs=2, random_state=0)
    >>> emb.fit_transform(X).shape
    (200, 32)
    """

    def __init__(
        self,
        embedding_dim=64,
        *,
        n_tokens=4,
        hidden_dim=128,
        n_heads=4,
        n_layers=1,
        projection_dim=128,
        mask_ratio=0.75,
        mask_schedule="constant",
        noise_std=0.1,
        max_feature_dropout=0.8,
        augment_prob=0.5,
        temperature=0.5,
        shared_weight=1.0,
        unique_weight=1.0,
        orth_weight=1.0,
        orth_loss="squared",
        presence_bits=False,
        max_epochs=100,
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
        self.n_tokens = n_tokens
        self.hidden_dim = hidden_dim
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.projection_dim = projection_dim
        self.mask_ratio = mask_ratio
        self.mask_schedule = mask_schedule
        self.noise_std = noise_std
        self.max_feature_dropout = max_feature_dropout
        self.augment_prob = augment_prob
        self.temperature = temperature
        self.shared_weight = shared_weight
        self.unique_weight = unique_weight
        self.orth_weight = orth_weight
        self.orth_loss = orth_loss
        self.presence_bits = presence_bits

    # --- parameters --------------------------------------------------------------
    _parameter_constraints = {
        **TorchEmbedder._parameter_constraints,
        "embedding_dim": [Interval(Integral, 2, None, closed="left")],
        "n_tokens": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "mask_ratio": [Interval(Real, 0, 1, closed="left")],
        "mask_schedule": [StrOptions({"constant", "ramp"})],
        "noise_std": [Interval(Real, 0, None, closed="left")],
        "max_feature_dropout": [Interval(Real, 0, 1, closed="left")],
        "augment_prob": [Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "shared_weight": [Interval(Real, 0, None, closed="left")],
        "unique_weight": [Interval(Real, 0, None, closed="left")],
        "orth_weight": [Interval(Real, 0, None, closed="left")],
        "orth_loss": [StrOptions({"squared", "hinge"})],
        "presence_bits": ["boolean"],
    }

    def _check_params(self):
        if self.embedding_dim % 2 or self.embedding_dim % self.n_heads:
            raise ValueError(
                f"embedding_dim must be even and divisible by n_heads={self.n_heads}; "
                f"got {self.embedding_dim}."
            )

    # --- network -----------------------------------------------------------------
    def build_module(self, n_features):
        from ._modules import COrALNetwork

        return COrALNetwork(
            list(n_features.values()),
            embedding_dim=self.embedding_dim,
            n_tokens=self.n_tokens,
            hidden_dim=self.hidden_dim,
            n_heads=self.n_heads,
            n_layers=self.n_layers,
            head_dim=self.projection_dim,
        )

    def _current_mask_ratio(self, epoch):
        if self.mask_schedule == "constant":
            return float(self.mask_ratio)
        quarter = min(3, int(4 * (epoch - 1) / self.max_epochs))
        return float(self.mask_ratio) * _RAMP[quarter] / _RAMP[-1]

    # --- loss --------------------------------------------------------------------
    def _augment(self, xs, observed, generator):
        """One augmented view: Gaussian noise and feature dropout, each w.p. p."""
        import torch

        out = []
        dev = observed.device
        n = observed.shape[0]
        p = self.augment_prob
        for m, x in enumerate(xs):
            rand = torch.rand(n, 3, generator=generator, device=dev)
            noise = torch.randn(x.shape, generator=generator, device=dev)
            noise_on = (rand[:, :1] < p).to(x.dtype)
            x = x + noise_on * self.noise_std * noise
            frac = (rand[:, 1:2] < p).to(x.dtype) * rand[:, 2:3] * self.max_feature_dropout
            drop = torch.rand(x.shape, generator=generator, device=dev) < frac
            x = x.masked_fill(drop, 0.0)
            out.append(x * observed[:, m : m + 1].to(x.dtype))
        return out

    def _complementary_keep(self, observed, generator, ratio):
        """Token keep masks ``(n, M, K)`` of the two views (asymmetric masking): each
        token of the masked modality is hidden with probability ``ratio``."""
        import torch

        n, M = observed.shape
        K = self.n_tokens
        dev = observed.device
        # a, b: two distinct observed modalities drawn per sample (a == b when only one)
        scores = torch.rand(n, M, generator=generator, device=dev)
        scores = scores.masked_fill(~observed, -1.0)
        top = scores.topk(min(2, M), dim=1).indices
        a = top[:, 0]
        b = top[:, 1] if M > 1 else a
        b = torch.where(observed.sum(dim=1) > 1, b, a)
        rows = torch.arange(n, device=dev)
        keeps = []
        for masked in (a, b):
            keep = observed[:, :, None].expand(n, M, K).clone()
            hidden = torch.rand(n, K, generator=generator, device=dev) < ratio
            keep[rows, masked] &= ~hidden
            keeps.append(keep)
        return keeps

    def batch_loss(self, module, xs, observed, *, epoch, generator):
        import torch

        from ._losses import nt_xent, squared_cosine

        n = observed.shape[0]
        view1 = self._augment(xs, observed, generator)
        view2 = self._augment(xs, observed, generator)
        keep1, keep2 = self._complementary_keep(
            observed, generator, self._current_mask_ratio(epoch)
        )
        both = [torch.cat([a, b]) for a, b in zip(view1, view2)]
        s, u = module(both, torch.cat([keep1, keep2]))
        h = module.heads(s, u)  # (2n, 1 + M, projection_dim)
        tau = self.temperature
        shared = nt_xent(h[:n, 0], h[n:, 0], tau)
        unique = h.new_zeros(())
        for m in range(observed.shape[1]):
            rows = observed[:, m]
            unique = unique + nt_xent(h[:n, 1 + m][rows], h[n:, 1 + m][rows], tau)
        tokens_observed = torch.cat([torch.ones_like(observed[:, :1]), observed], dim=1)
        hinge = self.orth_loss == "hinge"
        orth = squared_cosine(h, torch.cat([tokens_observed, tokens_observed]), hinge=hinge)
        loss = (
            self.shared_weight * shared + self.unique_weight * unique
            + self.orth_weight * orth
        )
        return loss, {"shared": shared, "unique": unique, "orth": orth}

    # --- embedding ---------------------------------------------------------------
    def encode(self, module, xs, observed):
        import torch

        keep = observed[:, :, None].expand(-1, -1, self.n_tokens)
        s, u = module(xs, keep)
        u = u * observed[:, :, None].to(u.dtype)
        parts = [s, u.reshape(u.shape[0], -1)]
        if self.presence_bits:
            parts.append(observed.to(s.dtype))
        return torch.cat(parts, dim=1)

    @property
    def n_features_out_(self):
        M = len(self.modalities_)
        return self.embedding_dim + M * (self.embedding_dim // 2) + (
            M if self.presence_bits else 0
        )

    def _feature_names(self):
        names = [f"shared{i}" for i in range(self.embedding_dim)]
        half = self.embedding_dim // 2
        for m in self.modalities_:
            names += [f"{m}__unique{i}" for i in range(half)]
        if self.presence_bits:
            names += [f"present__{m}" for m in self.modalities_]
        return names
