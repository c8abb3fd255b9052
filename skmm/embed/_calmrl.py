"""CalMRL embedder: alignment of observed and calibrated (imputed) representations."""

import time
import warnings
from numbers import Integral, Real

import numpy as np

from sklearn.utils._param_validation import validate_parameter_constraints

from ..impute import _calmrl_em as em
from ..utils._param_validation import Hidden, Interval, StrOptions
from ._aligned import _PerModalityEmbedder
from ._base import TorchEmbedder, fill_training_doc

__all__ = ["CalMRLEmbedder"]

_OUTPUTS = ("anchor", "latent", "concat")
_INTER_LOSSES = ("anchor_modality", "anchor_anchor")
# Deprecated parameter -> its new name (renamed in 0.2, removed in 0.4).
_RENAMED = {"tau1": "singular_value_temperature", "tau2": "temperature"}
# EM iterations of the first calibration (from a PCA start); later ones are warm-started.
_FIRST_EM_ITER = 100
_EM_TOL = 1e-3
# Floor of each noise variance, relative to the modality's mean per-feature variance of
# the representations: keeps the posterior well conditioned when a modality's
# representations become nearly deterministic given the latent.
_NOISE_FLOOR = 1e-3
# Up to this many modalities, the posterior covariance of every missing pattern is
# tabulated at each refit (2**M of them); above, it is computed per batch.
_MAX_TABULATED = 8


@fill_training_doc(max_epochs=100, batch_size='"auto"', lr=1e-3, weight_decay=1e-3)
class CalMRLEmbedder(_PerModalityEmbedder):
    """Aligned multimodal embedding trained on incomplete data with calibration (CalMRL).

    Each modality has an MLP encoder to a ``d``-dimensional, L2-normalised
    representation ``z^m``. The representations of a sample are aligned around an
    *anchor*: the leading left singular vector ``u`` of the ``d x M`` stack of its
    representations. When modalities are missing, aligning only the observed ones
    pulls them toward a shifted anchor. CalMRL instead *calibrates*: a shared-latent
    Gaussian model (the model of :class:`~skmm.impute.CalMRLImputer`, refitted by
    warm-started EM on the current representations every ``calibrate_every`` epochs)
    imputes each missing representation by its posterior predictive mean
    ``W^m E[beta | observed] + mu^m``, and the alignment uses observed + imputed
    representations. See :ref:`calmrl_embedder` for the method.

    Training loss of a batch (PMRL-style): with ``s_i`` the singular values of
    sample ``i``'s stack and ``u_i`` its anchor (signed so that
    ``sum_m <u_i, z_i^m> > 0``),

    - ``intra``: ``mean_i CE(s_i / tau1, target=0)`` with
      ``tau1 = singular_value_temperature``, which makes the first singular value
      dominate (all representations of a sample point the same way);
    - ``inter``: an InfoNCE across the batch (``tau2 = temperature``) that keeps
      samples apart. By default (``inter_loss="anchor_modality"``) each anchor ``u_i``
      must pick its own sample's representation ``z_i^m`` among the batch's, for each
      observed modality ``m`` (mean over the modalities); PMRL, the loss CalMRL builds
      on, contrasts anchors with anchors instead (``inter_loss="anchor_anchor"``). See
      Notes.

    The imputed representations are linear in the observed ones, and gradients flow
    through the imputation. ``calibrate=False`` trains the same network with the same
    loss on the observed modalities only (missing columns dropped from the stack), so
    that the effect of calibration can be measured with everything else equal.

    Parameters
    ----------
    embedding_dim : int, default=64
        Width ``d`` of each modality's representation and of the anchor.
    n_components : int, default=32
        Size ``q`` of the shared latent of the calibration model (at most
        ``n_modalities * embedding_dim``).
    hidden_dim : int, default=128
        Hidden width of the per-modality MLP encoders.
    n_layers : int, default=2
        ``Linear`` layers per encoder (``Linear -> LayerNorm -> GELU`` hidden layers,
        then a linear output).
    singular_value_temperature : float, default=0.05
        The paper's ``tau1``: temperature of the softmax over singular values
        (``intra``), the value reported for the underlying alignment method. Named
        ``tau1`` before version 0.2.
    temperature : float, default=0.5
        The paper's ``tau2``: temperature of the InfoNCE (``inter``), as
        ``temperature`` in skmm's other embedders; reported: 0.1. On tabular data of a
        few thousand rows a low temperature overfits the instance discrimination (see
        Notes). Named ``tau2`` before version 0.2.
    inter_loss : {"anchor_modality", "anchor_anchor"}, default="anchor_modality"
        What the ``inter`` InfoNCE contrasts. ``"anchor_modality"``: the anchor
        ``u_i`` of each sample against the representations ``z_j^m`` of the batch,
        positive ``z_i^m``, for every observed modality ``m``. ``"anchor_anchor"``
        (PMRL's form): ``u_i`` against the anchors ``u_j`` of the batch, positive
        ``u_i`` itself, which only pushes anchors apart. See Notes.
    calibrate : bool, default=True
        Impute missing representations with the shared-latent model during training
        and in ``transform``. When False, the stack of a sample holds its observed
        modalities only (the calibration model is still fitted once at the end of
        training, for ``output="latent"``).
    calibrate_every : int, default=5
        Refit the calibration model every ``calibrate_every`` epochs once the warm-up
        is over.
    warmup_epochs : int, default=5
        Epochs trained on the observed modalities only before the first calibration
        (representations of untrained encoders carry little to model). The first
        calibration runs EM from a PCA start; later ones are warm-started.
    em_max_iter : int, default=5
        EM iterations of each warm-started refit.
    output : {"anchor", "latent", "concat"}, default="anchor"
        What ``transform`` returns: the anchor ``u`` of each sample's (calibrated)
        stack (``embedding_dim`` columns, unit norm); the posterior mean of the
        shared latent given the observed representations (``n_components`` columns);
        or the per-modality embeddings, every observed representation ``z^m`` (zeros
        where ``m`` is missing, never an imputation) followed by one presence bit per
        modality (``M * embedding_dim + M`` columns, as ``fusion="concat"`` of
        :class:`OVAIBEmbedder`). May be changed after fitting.
    {training_parameters}
    tau1 : float, default="deprecated"
        Old name of ``singular_value_temperature``; when set, it is used instead.

        .. deprecated:: 0.2
           ``tau1`` was renamed ``singular_value_temperature`` and will be removed
           in 0.4.
    tau2 : float, default="deprecated"
        Old name of ``temperature``; when set, it is used instead.

        .. deprecated:: 0.2
           ``tau2`` was renamed ``temperature`` and will be removed in 0.4.

    Attributes
    ----------
    latent_model_ : SharedLatentParams
        The calibration model of the last refit, on the representations of the final
        network (loadings ``W^m``, offsets ``mu^m``, noise variances; numpy arrays).
    calibration_history_ : list of dict
        One dict per refit: ``epoch`` (training epochs completed when it ran),
        ``n_iter`` (EM iterations), ``log_likelihood`` (mean per training sample),
        ``imputation_shift`` (mean Euclidean change of the imputed representations of
        the missing training slots caused by the refit; NaN for the first) and
        ``dur`` (seconds). The last entry is the refit at the end of training.
    n_features_out_ : int
        Width of the embedding.
    {training_attributes}

    See Also
    --------
    skmm.impute.CalMRLImputer : the same shared-latent model on input features.
    skmm.embed.COrALEmbedder : a fused embedding with unique and synergistic parts.
    skmm.metrics.recall_at_k : score :meth:`retrieval_scores`.

    Notes
    -----
    **Per-modality embeddings and retrieval.** The per-modality embedding of CalMRL
    is the representation ``z^m`` of an observed modality: the L2-normalised output
    of its encoder, a column of the stack before calibration, the vector that the
    paper's cross-modal retrieval compares. ``output="concat"`` returns them, and
    :meth:`retrieval_scores` scores query ``i`` against candidate ``j`` by
    ``<z^q_i, u_j>``, with ``u_j`` the anchor of the candidate's observed
    ``candidate_modality`` representations (no imputation; with one candidate
    modality ``a`` this is the cosine ``cos(z^q_i, z^a_j)``).

    **Inter loss, ours and PMRL's.** PMRL's instance term is a cross entropy over
    ``u_i . u_j / tau2`` with target ``i``: every anchor's positive is itself, so the
    term only spreads the anchors apart, and nothing across samples ties the
    representations to them. Ours (the default) makes each anchor find its sample's
    own representations among the batch's, which on tabular data gave much more
    linearly separable anchors and far better retrieval (:ref:`calmrl_embedder_pmrl`
    has the figures and their protocol); ``inter_loss="anchor_anchor"`` trains
    PMRL's form. PMRL also trains a matching
    (ITM) head: a text encoder reads the caption tokens with cross-attention to the
    other modalities' tokens and tells matched from hard-negative pairs. It is left
    out on purpose: it needs a text modality given as tokens and a cross-attention
    fusion encoder, which per-modality MLPs on feature vectors do not have, and it
    scores pairs (PMRL uses it to rerank the top retrieval candidates) rather than
    shaping the embedding that ``transform`` returns.

    The spectrum of each stack comes from the eigendecomposition of its small
    ``M x M`` Gram matrix, with exact gradients for the singular values and the
    anchor that stay finite when lower singular values tie (dropped columns).

    A sample with no observed modality at ``transform`` gets, with calibration, the
    anchor of the normalised model means ``mu^m`` (the same for all such samples),
    without calibration a zero vector; its latent is 0.

    The calibration EM runs on float64 numpy copies of the detached representations
    of the training rows (noise variances floored at 1e-3 times each modality's mean
    feature variance); the imputation runs in torch (float32 in the loss, float64 in
    ``transform``), with the posterior covariance of every missing pattern tabulated
    at each refit (up to 8 modalities; computed per batch above).

    The sign rule cannot decide between ``u`` and ``-u`` when
    ``sum_m <u, z^m> = 0``, e.g. for two anti-correlated representations (the
    leading vector then lies along their difference); training removes such stacks.

    Defaults: the reported temperatures are ``tau1=0.05``, ``tau2=0.1``. We keep
    ``tau1`` (``singular_value_temperature``) but use ``tau2=0.5``
    (``temperature``), with ``embedding_dim=64``, ``hidden_dim=128`` and AdamW at
    lr 1e-3, ``batch_size="auto"`` (256 rows, or every row of a smaller set), 100
    epochs, which suit tabular inputs of a few thousand rows: a low ``tau2`` lets the
    encoders memorise the instances. The linear probes behind these choices are in
    the user guide (:ref:`calmrl_embedder`, "Choosing parameters").

    References
    ----------
    "Calibrated Multimodal Representation Learning with Missing Modalities", ICML 2026.

    Examples
    --------
    >>> from skmm.datasets import make_missing_modalities, make_shared_latent
    >>> from skmm.embed import CalMRLEmbedder
    >>> X = make_missing_modalities(make_shared_latent(200, random_state=0), 0.3,
    ...                             random_state=0)
    >>> emb = CalMRLEmbedder(embedding_dim=8, n_components=4, max_epochs=3,
    ...                      warmup_epochs=1, random_state=0)
    >>> emb.fit_transform(X).shape
    (200, 8)
    """

    def __init__(
        self,
        embedding_dim=64,
        *,
        n_components=32,
        hidden_dim=128,
        n_layers=2,
        singular_value_temperature=0.05,
        temperature=0.5,
        inter_loss="anchor_modality",
        calibrate=True,
        calibrate_every=5,
        warmup_epochs=5,
        em_max_iter=5,
        output="anchor",
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
        tau1="deprecated",
        tau2="deprecated",
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
        self.n_components = n_components
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.singular_value_temperature = singular_value_temperature
        self.temperature = temperature
        self.inter_loss = inter_loss
        self.calibrate = calibrate
        self.calibrate_every = calibrate_every
        self.warmup_epochs = warmup_epochs
        self.em_max_iter = em_max_iter
        self.output = output
        self.tau1 = tau1
        self.tau2 = tau2

    # --- parameters --------------------------------------------------------------
    _parameter_constraints = {
        **TorchEmbedder._parameter_constraints,
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "singular_value_temperature": [Interval(Real, 0, None, closed="neither")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "inter_loss": [StrOptions(set(_INTER_LOSSES))],
        "calibrate": ["boolean"],
        "calibrate_every": [Interval(Integral, 1, None, closed="left")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "em_max_iter": [Interval(Integral, 1, None, closed="left")],
        "output": [StrOptions(set(_OUTPUTS))],
        # the deprecated names of the two temperatures ("deprecated": not set)
        "tau1": [Interval(Real, 0, None, closed="neither"),
                 Hidden(StrOptions({"deprecated"}))],
        "tau2": [Interval(Real, 0, None, closed="neither"),
                 Hidden(StrOptions({"deprecated"}))],
    }

    def _check_output(self):
        """``output`` may be changed after fit: checked again where it is read."""
        validate_parameter_constraints(
            {"output": self._parameter_constraints["output"]}, {"output": self.output},
            type(self).__name__,
        )

    @staticmethod
    def _is_unset(value):
        return isinstance(value, str) and value == "deprecated"

    def _temperature_value(self, name):
        """The value in use for ``name``: its deprecated old name's, when set."""
        old = next(k for k, v in _RENAMED.items() if v == name)
        value = getattr(self, old)
        return getattr(self, name) if self._is_unset(value) else value

    def _check_params(self):
        for old, new in _RENAMED.items():
            value = getattr(self, old)
            if self._is_unset(value):
                continue
            warnings.warn(
                f"{type(self).__name__}: `{old}` was renamed `{new}` in version 0.2 "
                f"and will be removed in 0.4; use {new}={value!r} instead (the value "
                f"of `{old}` is used for now).",
                FutureWarning,
                stacklevel=5,  # the caller of fit (through _fit and fit_atomically)
            )

    # --- network -----------------------------------------------------------------
    def build_module(self, n_features):
        from ._modules import ModalityEncoders

        limit = len(n_features) * self.embedding_dim
        if self.n_components > limit:
            raise ValueError(
                f"n_components={self.n_components} exceeds n_modalities * embedding_dim "
                f"= {len(n_features)} * {self.embedding_dim} = {limit}."
            )
        return ModalityEncoders(
            list(n_features.values()), self.hidden_dim, self.embedding_dim,
            n_layers=self.n_layers,
        )

    @staticmethod
    def _representations(module, xs):
        """Unit-norm representations ``(n, M, d)`` (rows of missing modalities unused)."""
        from ._losses import l2_normalize

        return l2_normalize(module(xs))

    # --- calibration model in torch ----------------------------------------------
    def _model_tensors(self, device, dtype):
        """Torch copies of the calibration model on ``device``, cached per refit.

        ``A = [W^m / sigma_m^2]`` and ``W = [W^m]`` stacked to ``(M d, q)``,
        ``B[m] = mu^mT W^m / sigma_m^2``, ``mu`` stacked to ``(M d,)``, and with at most
        ``_MAX_TABULATED`` modalities the posterior covariance ``V`` of every missing
        pattern, indexed by the pattern's bit code. ``dtype`` follows the
        representations (float32 in training, float64 in ``transform``). Only training
        stores the cache (``transform`` leaves the estimator's state untouched).
        """
        import torch

        params = self.latent_model_
        key = (str(device), dtype)
        cache = getattr(self, "_model_cache", None)
        if cache is not None and cache[0] is params and cache[1] == key:
            return cache[2]
        M, q = len(params.components), params.n_components
        W = np.stack(params.components)  # (M, d, q)
        A = W / params.noise_variance[:, None, None]
        B = np.einsum("md,mdq->mq", np.stack(params.means), A)

        def tensor(a):
            return torch.as_tensor(a, dtype=dtype, device=device)

        tensors = {
            "A": tensor(A.reshape(-1, q)), "B": tensor(B),
            "W": tensor(W.reshape(-1, q)), "mu": tensor(np.concatenate(params.means)),
        }
        if M <= _MAX_TABULATED:
            codes = np.arange(2**M)
            patterns = (codes[:, None] >> np.arange(M)) & 1
            tensors["cov"] = tensor(em.pattern_covariances(params, patterns)[0])
            tensors["bits"] = torch.as_tensor(1 << np.arange(M), device=device)
        if torch.is_inference_mode_enabled():  # transform: leave the estimator unchanged
            return tensors
        self._model_cache = (params, key, tensors)
        return tensors

    def _posterior_mean(self, z, observed):
        """``E[beta | observed z]``, ``(n, q)``; linear in ``z`` (gradients flow).

        ``m = V_p sum_{m observed} W^mT (z^m - mu^m) / sigma_m^2`` with ``V_p`` the
        posterior covariance of the sample's missing pattern (from
        :func:`skmm.impute._calmrl_em.pattern_covariances`).
        """
        import torch

        t = self._model_tensors(z.device, z.dtype)
        weight = observed.to(z.dtype)
        c = (z * weight[..., None]).flatten(1) @ t["A"] - weight @ t["B"]
        if "cov" in t:
            # (no integer matmul on CUDA)
            cov = t["cov"][(observed.long() * t["bits"]).sum(1)]
        else:
            patterns, inverse = torch.unique(observed, dim=0, return_inverse=True)
            cov, _ = em.pattern_covariances(self.latent_model_, patterns.cpu().numpy())
            cov = torch.as_tensor(cov, dtype=z.dtype, device=z.device)[inverse]
        return (c[:, None, :] @ cov)[:, 0]

    def _calibrated_stack(self, z, observed):
        """``z`` with missing representations replaced by normalised imputations."""
        import torch

        from ._losses import l2_normalize

        t = self._model_tensors(z.device, z.dtype)
        imputed = self._posterior_mean(z, observed) @ t["W"].T + t["mu"]
        imputed = l2_normalize(imputed.reshape(z.shape))
        return torch.where(observed[..., None], z, imputed)

    def _stack(self, z, observed, impute):
        """The stack whose spectrum is aligned, and which of its columns take part."""
        if impute and getattr(self, "latent_model_", None) is not None:
            return self._calibrated_stack(z, observed), None
        return z, observed

    # --- loss --------------------------------------------------------------------
    def batch_loss(self, module, xs, observed, *, epoch, generator):
        import torch
        import torch.nn.functional as F

        from ._losses import info_nce, stack_spectrum

        z = self._representations(module, xs)
        stack, columns = self._stack(z, observed, self._imputes_at(epoch))
        s, u = stack_spectrum(stack, columns)
        logits = s / self._temperature_value("singular_value_temperature")
        if columns is not None:  # dropped columns leave the softmax
            k = columns.sum(1, keepdim=True)
            ranks = torch.arange(s.shape[1], device=s.device)
            logits = logits.masked_fill(ranks >= k, float("-inf"))
        target = torch.zeros(s.shape[0], dtype=torch.long, device=s.device)
        intra = F.cross_entropy(logits, target)
        tau2 = self._temperature_value("temperature")
        if self.inter_loss == "anchor_anchor":
            # PMRL: CE(u_i . u_j / tau2, target i); the logits are symmetric, so the
            # symmetric InfoNCE of (u, u) is that one cross entropy
            inter = info_nce(u, u, tau2)
        else:
            inter = z.new_zeros(())
            for m in range(observed.shape[1]):
                rows = observed[:, m]
                inter = inter + info_nce(u[rows], z[rows, m], tau2)
            inter = inter / observed.shape[1]
        return intra + inter, {"intra": intra, "inter": inter}

    # --- calibration step --------------------------------------------------------
    def _imputes_at(self, epoch):
        """Whether the loss of ``epoch`` aligns calibrated stacks (after the warm-up)."""
        return self.calibrate and epoch > self.warmup_epochs

    def on_train_begin(self, data, valid):
        """Start without a calibration model on a fresh fit; refuse a modality that no
        training sample has."""
        if self.n_iter_ == 0:  # a fresh fit
            self.latent_model_ = None
            self.calibration_history_ = []
        empty = ~data.observed.any(0).cpu().numpy()
        if empty.any():
            names = [m for m, e in zip(self.modalities_, empty) if e]
            raise ValueError(
                f"{type(self).__name__}: modality {names[0]!r} is missing in every "
                "training sample; there is nothing to encode it from."
            )

    def on_epoch_begin(self, epoch, data):
        """Refit the calibration model every ``calibrate_every`` epochs after the
        warm-up, on the representations of the training rows."""
        due = (epoch - self.warmup_epochs - 1) % self.calibrate_every == 0
        if self._imputes_at(epoch) and (due or self.latent_model_ is None):
            self._calibrate(self.module_, data, epoch - 1)

    def on_train_end(self, data, valid):
        """Refit the calibration model on the final encoders (``transform`` imputes
        with it)."""
        self._calibrate(self.module_, data, self.n_iter_)

    def _calibrate(self, module, data, epochs_done):
        """Refit the shared-latent model on the detached representations of ``data``."""
        start = time.perf_counter()
        z = self._embed_data(module, data, lambda m, xs, _: self._representations(m, xs))
        z = z.double().cpu().numpy()
        observed = data.observed.cpu().numpy()
        em_data = em.prepare([z[:, j] for j in range(z.shape[1])], observed)
        floors = em.noise_floors(em_data, _NOISE_FLOOR)
        old = self.latent_model_
        if old is None:
            init = em.init_params_pca(
                em_data, self.n_components, floors=floors, random_state=self._rng
            )
            max_iter = _FIRST_EM_ITER
        else:
            init, max_iter = old, self.em_max_iter
        params, posterior, history, _ = em.fit_em(
            em_data, init, floors=floors, max_iter=max_iter, tol=_EM_TOL
        )
        shift = np.nan
        if old is not None:
            before = em.e_step(em_data, old).mean
            total, count = 0.0, 0
            for j in range(observed.shape[1]):
                missing = ~observed[:, j]
                diff = em.predictive_mean(params, posterior.mean[missing], j)
                diff -= em.predictive_mean(old, before[missing], j)
                total += float(np.linalg.norm(diff, axis=1).sum())
                count += int(missing.sum())
            shift = total / max(count, 1)
        self.latent_model_ = params
        self._model_cache = None
        record = {
            "epoch": epochs_done,
            "n_iter": len(history) - 1,
            "log_likelihood": history[-1],
            "imputation_shift": shift,
            "dur": time.perf_counter() - start,
        }
        self.calibration_history_.append(record)
        if self.verbose:
            print(
                f"calibration after epoch {epochs_done}: {record['n_iter']} EM "
                f"iterations, log-likelihood {history[-1]:.4f}, imputation shift "
                f"{shift:.4f}",
                flush=True,
            )

    _continued_attributes = TorchEmbedder._continued_attributes + (
        "calibration_history_",
    )

    # --- embedding ---------------------------------------------------------------
    def encode(self, module, xs, observed):
        self._check_output()
        from ._losses import stack_spectrum

        z = self._representations(module, xs)
        if self.output == "latent":
            return self._posterior_mean(z, observed)
        if self.output == "concat":
            return self._concat_output(z * observed[..., None].to(z.dtype), observed)
        stack, columns = self._stack(z, observed, self.calibrate)
        return stack_spectrum(stack, columns)[1]

    @property
    def n_features_out_(self):
        if self.output == "concat":
            return self._concat_width()
        return self.n_components if self.output == "latent" else self.embedding_dim

    def _feature_names(self):
        self._check_output()
        if self.output == "concat":
            return self._concat_feature_names()
        return [f"{self.output}{i}" for i in range(self.n_features_out_)]

    def _retrieval_candidates(self, rest, rest_observed):
        """The anchor ``u`` of each candidate's observed vectors (scored ``<z^q, u>``)."""
        from ._losses import stack_spectrum

        return stack_spectrum(rest, rest_observed)[1]

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_model_cache", None)  # torch copies of latent_model_, rebuilt on use
        return state
