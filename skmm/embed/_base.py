"""The one torch training base of skmm's embedders, and the seam for writing new ones.

:class:`TorchEmbedder` owns everything an embedder shares: input validation,
per-modality standardisation, zero-filling of missing rows with a observed mask, device
placement, mini-batching, the optimiser, the epoch loop with history, early stopping,
``warm_start`` and ``partial_fit``, determinism, chunked ``transform`` and pickling. A
subclass defines its network (``build_module``), the loss of a mini-batch
(``batch_loss``) and the embedding (``encode``); the class docstring is the reference,
and :ref:`torch_embedders_custom` has a complete example.

The training loop (the public steps may be overridden; the hooks are no-ops here)::

    fit / partial_fit -> _fit            validation split, seeds, module, device
      _fit_loop                          on_train_begin, optimiser, epochs, best weights,
                                         optimiser state, on_train_end
        _fit_epoch(epoch)                on_epoch_begin, training pass, weights check,
                                         validation pass, early stopping, history,
                                         on_epoch_end
          run_epoch(data, epoch)         batches; train_step (with an optimiser) or
                                         validation_step (inside ``evaluating``)
            train_step(batch, epoch)     batch_loss, finite-loss check, backward, step

``import skmm.embed`` never imports torch: torch is imported inside methods, and the
``torch.nn`` classes live in :mod:`skmm.embed._modules` (losses in
:mod:`skmm.embed._losses`), which only methods import.

A new embedder of skmm itself is also registered in ``skmm.utils._testing``:
``TEST_PARAMS`` (tiny parameters, e.g. ``max_epochs=2``, so that the common checks run
fast) and ``BAD_PARAMS`` (invalid values of its own parameters).
"""

import abc
import contextlib
import copy
import sys
import time
import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from sklearn.utils import check_random_state

from ..base import (
    MultiModalMixin,
    MultiModalTransformerMixin,
    fit_atomically,
    holds_dask,
)
from ..utils._blocks import iter_blocks
from ..utils._validation import check_multimodal
from ..utils._param_validation import (
    Device,
    Interval,
    InvalidParameterError,
    StrOptions,
)

__all__ = ["BaseTorchEmbedder", "TensorData", "TorchEmbedder", "evaluating"]
# optimizer="<name>" -> the torch.optim class
_OPTIMIZERS = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD"}
# optimizer_params keys that belong to the estimator (or to the base) instead
_RESERVED_OPTIMIZER_PARAMS = ("params", "lr", "weight_decay")
# Rows per chunk in transform. Inference runs in float64, where the batch-size dependent
# rounding of the matmul kernels (~1e-7 in float32) is ~1e-15: a row's embedding does
# not depend on the chunking or on the other rows to far below any test tolerance.
_TRANSFORM_CHUNK = 2048
# batch_size="auto": this many rows, or all of them when there are fewer.
_AUTO_BATCH_SIZE = 256
# Rows per chunk when standardising the input into tensors.
_STANDARDIZE_CHUNK = 16384
# Largest standardised magnitude (training standard deviations from the training mean)
# the networks take, by precision. Training (float32): far beyond any real value (a
# fresh fit bounds it by sqrt(n)) and low enough that the forward pass cannot overflow
# (LayerNorm squares its inputs). Inference (float64): values up to 1e100 (a netCDF
# fill value of 9.96921e36 included) still give finite embeddings, since squares and
# attention logits stay far below the float64 range; beyond, they raise.
_MAX_STANDARDIZED = {"float32": 1e12, "float64": 1e100}

TRAINING_PARAMETERS_DOC = """\
max_epochs : int, default={max_epochs}
        Epochs (passes over the training rows) per call to ``fit``; ``partial_fit``
        trains one epoch.
    batch_size : int or "auto", default={batch_size}
        Mini-batch size; ``"auto"`` is ``min(256, n)`` for ``n`` training rows. An
        epoch's rows are split into ``ceil(n / batch_size)`` batches of near-equal size
        (none much smaller than the others). An integer ``batch_size`` larger than the
        training rows is clipped to them (one batch per epoch) with a warning, as in
        :class:`~sklearn.neural_network.MLPClassifier`.
    lr : float, default={lr}
        Learning rate of the optimiser.
    weight_decay : float, default={weight_decay}
        Weight decay of the optimiser (decoupled for AdamW, an L2 penalty in the
        gradient for Adam and SGD); not applied to biases, norm weights and
        embeddings.
    optimizer : {{"adamw", "adam", "sgd"}} or torch.optim.Optimizer subclass, \
default="adamw"
        The optimiser: :class:`torch.optim.AdamW`, :class:`torch.optim.Adam`,
        :class:`torch.optim.SGD`, or any optimiser class whose ``step`` needs no
        closure, built as ``optimizer(param_groups, lr=lr, **optimizer_params)``
        with one ``weight_decay`` per group, in its fastest form that the optimiser
        and the device support (``fused``, else ``foreach``, unless
        ``optimizer_params`` sets one).
    optimizer_params : dict or None, default=None
        Further keyword arguments of the optimiser (e.g. ``{{"momentum": 0.9}}`` for
        SGD, ``{{"betas": (0.9, 0.99)}}`` for Adam(W)); ``lr`` and ``weight_decay``
        are parameters of their own. A continued fit applies the current
        ``optimizer_params``, ``lr`` and ``weight_decay``, and starts a fresh
        optimiser state if ``optimizer`` has changed.
    device : {{"cpu", "cuda", "auto"}}, default="cpu"
        Where to train and transform (``"cuda:1"`` also works); ``"auto"`` takes CUDA
        when available. Fitted modules are stored on the CPU when pickled.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batching, augmentation and the validation split; fixed
        for reproducible results on the CPU. The global torch and numpy RNGs are left
        untouched.
    verbose : int, default=0
        0 silent, 1 one line per epoch, 2 also a progress bar within each epoch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when the validation loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the weights of
        the best epoch. When False, exactly ``max_epochs`` epochs are trained.
    validation_fraction : float, default=0.1
        Fraction of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping.
    tol : float, default=1e-4
        Improvement of the validation loss that counts (early stopping only).
    warm_start : bool, default=False
        When True, ``fit`` continues training the fitted network (the standardisation
        of the first fit is kept) instead of starting afresh."""

TRAINING_ATTRIBUTES_DOC = """\
module_ : torch.nn.Module
        The trained network (on ``device_``; on the CPU after unpickling).
    history_ : list of dict
        One dict per epoch: ``epoch``, ``train_loss``, ``train_<component>``, with
        early stopping ``valid_loss`` and ``valid_<component>``, and ``dur`` (seconds).
    loss_curve_ : list of float
        Training loss of each epoch.
    validation_loss_curve_ : list of float or None
        Validation loss of each epoch (None without early stopping).
    best_epoch_ : int
        Epoch whose weights are kept (the last one without early stopping).
    n_iter_ : int
        Epochs trained in total (over warm starts and ``partial_fit`` calls).
    device_ : str
        Device used by the last fit.
    mean_, scale_ : dict of ndarray
        Per-modality feature means and standard deviations over observed rows, from
        the first fit (a zero standard deviation is replaced by 1).
    modalities_ : tuple of str
        Input modality names.
    n_features_per_modality_ : dict
        Input width of each modality.
    n_features_in_ : int
        Total input width.
    feature_names_in_ : ndarray of str
        ``"modality__feature"`` input names (multimodal input only)."""


def fill_training_doc(**defaults):
    """Class decorator: replace ``{training_parameters}`` / ``{training_attributes}``.

    The placeholders must sit at the indentation of a parameter name in the class
    docstring; ``defaults`` gives the class's own defaults for ``max_epochs``,
    ``batch_size``, ``lr`` and ``weight_decay``.
    """

    def decorate(cls):
        if cls.__doc__:
            cls.__doc__ = cls.__doc__.replace(
                "{training_parameters}", TRAINING_PARAMETERS_DOC.format(**defaults)
            ).replace("{training_attributes}", TRAINING_ATTRIBUTES_DOC)
        return cls

    return decorate


def _import_torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a dependency
        raise ImportError(
            "skmm's embedders need PyTorch; install it with `pip install torch`."
        ) from exc
    return torch


def _to_cpu(obj):
    """Copy of a nested dict/list structure with every tensor moved to the CPU."""
    torch = _import_torch()
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _is_finite_module(module):
    """Whether every parameter of ``module`` is finite."""
    torch = _import_torch()
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def _batch_sizes(n, batch_size):
    """``ceil(n / batch_size)`` near-equal batch sizes adding up to ``n``."""
    n_batches = max(1, -(-n // batch_size))
    base, extra = divmod(n, n_batches)
    return [base + 1] * extra + [base] * (n_batches - extra)


class TensorData:
    """Standardised, zero-filled modality tensors and observed mask of a set of rows.

    Attributes
    ----------
    tensors : list of Tensor
        One ``(n, d_m)`` tensor per modality (float32 for training, float64 for
        inference), zeros where it is missing.
    observed : bool Tensor of shape (n, M)
    """

    def __init__(self, tensors, observed):
        self.tensors = tensors
        self.observed = observed

    @property
    def n_samples(self):
        return self.observed.shape[0]

    def take(self, rows):
        """Rows ``rows`` (index tensor or slice) as a new :class:`TensorData`."""
        return TensorData([t[rows] for t in self.tensors], self.observed[rows])

    def chunks(self, size):
        """Consecutive slices of at most ``size`` rows."""
        for start in range(0, self.n_samples, size):
            yield self.take(slice(start, start + size))


class _Progress:
    """Minimal text progress bar on stderr (``verbose=2``)."""

    def __init__(self, total, epoch, width=30):
        self.total, self.epoch, self.width = total, epoch, width

    def update(self, done, loss):
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        sys.stderr.write(
            f"\repoch {self.epoch:4d} [{bar}] {done}/{self.total} loss {loss:.4f}"
        )
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\r" + " " * (self.width + 50) + "\r")
        sys.stderr.flush()


@contextlib.contextmanager
def evaluating(module, *, inference=False):
    """Run the block with ``module`` in eval mode and without gradients.

    The one evaluation context of the embedders: validation passes, encoding the
    training rows between epochs and ``transform``. Gradients are off through
    :func:`torch.no_grad`, or :func:`torch.inference_mode` with ``inference=True``
    (faster; its tensors cannot enter autograd later). The module's training mode is
    restored on exit.
    """
    torch = _import_torch()
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode() if inference else torch.no_grad():
            yield module
    finally:
        module.train(was_training)


class _NonFiniteLoss(FloatingPointError):
    """A step's loss is NaN or infinite; the epoch loop reports where it happened."""


class _EarlyStopping:
    """Early-stopping state of one fit call: best validation loss, its weights, and the
    epochs since the last improvement of more than ``tol``.

    Each fit call draws a new validation split: losses of earlier calls are not
    comparable, so every call starts afresh.
    """

    def __init__(self, tol, patience):
        self.tol, self.patience = tol, patience
        self.best_loss, self.best_state, self.no_improve = np.inf, None, 0

    def update(self, loss, module):
        """Record an epoch's validation ``loss``; return whether it is the best yet
        (then ``module``'s weights are copied)."""
        if not loss < self.best_loss - self.tol:
            self.no_improve += 1
        else:
            self.no_improve = 0
        if not loss < self.best_loss:
            return False
        self.best_loss = loss
        self.best_state = copy.deepcopy(module.state_dict())
        return True

    @property
    def should_stop(self):
        return self.no_improve >= self.patience

    def restore_best(self, module):
        """Load the weights of the best epoch into ``module``."""
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


def _build_optimizer(cls, groups, lr, options):
    """``cls(groups, lr=lr, **options)`` in its fastest form the parameters' device
    supports.

    Unless ``options`` picks the implementation (``fused`` or ``foreach``),
    ``fused=True`` (one kernel for all parameters: an AdamW step is about 3.5x cheaper
    than the default for-loop on CPU; torch >= 2.4 on CPU) is tried first, then
    ``foreach=True``, then the for-loop: a form that the optimiser, the torch version
    or the device refuses at construction is skipped. The forms differ only by float
    rounding. Each attempt gets fresh copies of ``groups`` (a refused construction may
    have filled in defaults).
    """
    fast = [{"fused": True}, {"foreach": True}]
    if {"fused", "foreach"} & set(options):
        fast = []
    for extra in fast:
        try:
            return cls([dict(g) for g in groups], lr=lr, **options, **extra)
        except (RuntimeError, ValueError, TypeError):
            continue
    return cls([dict(g) for g in groups], lr=lr, **options)


def _qualified_name(cls):
    """``module.qualname`` of a class: what identifies a saved optimiser state."""
    return f"{getattr(cls, '__module__', '')}.{getattr(cls, '__qualname__', repr(cls))}"


class TorchEmbedder(
    MultiModalMixin, MultiModalTransformerMixin, BaseEstimator, metaclass=abc.ABCMeta
):
    """Base class of the torch embedders: subclass it to write a new one.

    A subclass defines three things, the network, the loss of a mini-batch and the
    embedding, and gets ``fit``, ``partial_fit``, ``transform``,
    ``get_feature_names_out``, early stopping, ``warm_start``, the history, devices,
    determinism and pickling from this base, as :class:`COrALEmbedder`,
    :class:`OVAIBEmbedder`, :class:`PairwiseCLIPEmbedder` and
    :class:`CalMRLEmbedder` do. :ref:`torch_embedders_custom` has a complete example.

    What a subclass implements:

    - :meth:`build_module` (the :class:`torch.nn.Module`), :meth:`batch_loss` (the
      training loss of a mini-batch, with named components recorded in
      ``history_``) and :meth:`encode` (the embedding ``transform`` returns);
    - ``n_features_out_``: the width of the embedding (a property); the columns are
      named ``"<classname><i>"`` unless ``_feature_names()`` returns other names;
    - its parameters' constraints: ``_parameter_constraints =
      {**TorchEmbedder._parameter_constraints, "new_param": [...]}``, with
      scikit-learn's constraint objects (``Interval``, ``StrOptions``, ...: see
      ``skmm.utils._param_validation``), checked at each fit before the data; and
      optionally ``_check_params()``, called next, for checks that tie several
      parameters together (errors name them);
    - optionally the hooks :meth:`on_train_begin`, :meth:`on_epoch_begin`,
      :meth:`on_epoch_end` and :meth:`on_train_end` (work between epochs, such as
      refitting a model on the current representations; state they keep goes in
      fitted attributes ending in ``_``, so that it pickles with the estimator), and
      the loop's steps :meth:`run_epoch`, :meth:`train_step` and
      :meth:`validation_step` (e.g. clipping gradients in ``train_step``).

    The scikit-learn rules for ``__init__`` hold: list every parameter, the training
    parameters below included, explicitly in the signature, pass the training ones to
    ``super().__init__`` and store the others unchanged; validate nothing there.

    The tensors a subclass sees: ``xs`` is a list of ``(n, d_m)`` tensors in
    ``modalities_`` order, standardised, with the rows of missing modalities filled
    with zeros; ``observed`` is the ``(n, M)`` bool observed mask; NaN never reaches
    torch. Training runs in float32; inference (:meth:`encode` in ``transform``)
    runs a float64 copy of the module on float64 tensors, so every tensor a method
    creates must follow the dtype of ``xs`` (never a hard-coded float32). Hooks that
    receive ``data`` get a ``TensorData``: ``data.tensors`` (the ``xs`` of all the
    rows), ``data.observed``, ``data.n_samples``, ``data.take(rows)`` and
    ``data.chunks(size)``.

    Parameters
    ----------
    {training_parameters}

    Attributes
    ----------
    {training_attributes}

    See Also
    --------
    COrALEmbedder, OVAIBEmbedder, PairwiseCLIPEmbedder, CalMRLEmbedder :
        the embedders built on this base.

    Notes
    -----
    One call to ``fit`` (``partial_fit``: one epoch, no validation split) runs::

        on_train_begin(data, valid)
        for epoch in n_iter_ + 1, n_iter_ + 2, ...:
            on_epoch_begin(epoch, data)
            run_epoch(data, epoch=epoch, ...)   # shuffled batches, train_step each
            run_epoch(valid, epoch=epoch, ...)  # early stopping: validation_step each
            on_epoch_end(epoch, record)         # record: this epoch's history_ entry
        on_train_end(data, valid)

    ``epoch`` counts from 1 over all fits of the estimator (``warm_start`` and
    ``partial_fit`` continue it). The loop runs with the global torch RNG seeded
    from ``random_state`` inside :func:`torch.random.fork_rng`, so the caller's RNG
    is left untouched. An error in an epoch hook or a step while the weights are
    non-finite, a linear-algebra failure and a non-finite loss become a
    ``FloatingPointError`` naming the epoch (and batch), and a failed call leaves the
    estimator as it was.
    """

    _accepts_dask = True  # partial_fit streams the row blocks; transform stays lazy

    _parameter_constraints = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "optimizer_params": [Mapping, None],
        "device": [Device()],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
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
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start

    # --- what a subclass defines -------------------------------------------------
    @abc.abstractmethod
    def build_module(self, n_features):
        """Build the network.

        Called once per fresh fit, with the global torch RNG seeded from
        ``random_state``; the base moves the module to the device. Parameters with
        fewer than 2 dimensions, and those named by an optional
        ``module.no_weight_decay()`` (a set of parameter names), get no weight decay.

        Parameters
        ----------
        n_features : dict
            ``{modality: width}`` of the input, in ``modalities_`` order.

        Returns
        -------
        torch.nn.Module
        """

    @abc.abstractmethod
    def batch_loss(self, module, xs, observed, *, epoch, generator):
        """The training loss of one mini-batch.

        Also called, under :func:`torch.no_grad` with the module in eval mode, on
        the validation rows (early stopping), with a generator reseeded identically
        at each epoch so that validation losses are comparable across epochs.

        Parameters
        ----------
        module : torch.nn.Module
            The network being trained (float32).
        xs : list of Tensor
            One ``(n, d_m)`` tensor per modality, zeros where it is missing.
        observed : bool Tensor of shape (n, M)
            Which modalities each sample has.
        epoch : int
            The epoch this batch belongs to (from 1, over all fits); a validation
            pass gets the epoch it follows. Use it for schedules.
        generator : torch.Generator
            Draw every random number from it (on the training device), e.g.
            ``torch.rand(..., generator=generator, device=generator.device)``.

        Returns
        -------
        loss : scalar Tensor
            What is minimised.
        components : dict
            ``{name: scalar tensor or float}``, parts of the loss recorded as
            ``train_<name>`` and ``valid_<name>`` in ``history_``.
        """

    @abc.abstractmethod
    def encode(self, module, xs, observed):
        """The embedding of a chunk of samples.

        ``transform`` calls it on chunks under :func:`torch.inference_mode`, with a
        float64 copy of the module in eval mode and float64 ``xs``; it must draw no
        random numbers.

        Parameters
        ----------
        module : torch.nn.Module
        xs : list of Tensor
            One ``(n, d_m)`` tensor per modality, zeros where it is missing.
        observed : bool Tensor of shape (n, M)

        Returns
        -------
        Tensor of shape (n, ``n_features_out_``)
        """

    def _check_params(self):
        """Validate the subclass's own parameters (called at each fit)."""

    def _feature_names(self):
        """Names of the embedding's columns; ``"<classname><i>"`` by default."""
        prefix = type(self).__name__.lower()
        return [f"{prefix}{i}" for i in range(self.n_features_out_)]

    # --- hooks -------------------------------------------------------------------
    def on_train_begin(self, data, valid):
        """Called by each ``fit`` and ``partial_fit`` before its first epoch.

        The module is built and on the device (``module_``); ``n_iter_`` is 0 on a
        fresh fit. Does nothing by default.

        Parameters
        ----------
        data : TensorData
            The training rows (float32, on the device).
        valid : TensorData or None
            The validation rows (early stopping), else None.
        """

    def on_epoch_begin(self, epoch, data):
        """Called before each training epoch; does nothing by default.

        Parameters
        ----------
        epoch : int
            The epoch about to be trained (from 1, over all fits).
        data : TensorData
            The training rows; ``self._embed_data(self.module_, data)`` encodes them
            in chunks with the training module, in eval mode.
        """

    def on_epoch_end(self, epoch, record):
        """Called after each epoch, its validation and ``history_`` entry included;
        does nothing by default.

        Parameters
        ----------
        epoch : int
            The epoch just trained (``n_iter_``).
        record : dict
            The epoch's ``history_`` entry; entries added here are kept (and printed
            with ``verbose``).
        """

    def on_train_end(self, data, valid):
        """Called at the end of each ``fit`` and ``partial_fit`` that did not fail;
        does nothing by default.

        The weights kept (those of the best epoch with early stopping) are in
        ``module_`` and the optimiser state is saved.

        Parameters
        ----------
        data : TensorData
            The training rows.
        valid : TensorData or None
            The validation rows (early stopping), else None.
        """

    # --- parameters, device, data ------------------------------------------------
    def _batch_size(self, n_samples):
        """The mini-batch size for ``n_samples`` training rows."""
        if self.batch_size == "auto":
            return min(_AUTO_BATCH_SIZE, n_samples)
        return self.batch_size

    def _resolve_device(self):
        """The torch device string for ``self.device``; a clear error if CUDA is absent."""
        torch = _import_torch()
        if self.device == "cpu":
            return "cpu"
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but CUDA is not available in this torch "
                f"installation ({torch.__version__}); use device='cpu' or 'auto' "
                "(set_params(device='cpu') for a model fitted elsewhere)."
            )
        index = torch.device(self.device).index
        if index is not None and index >= torch.cuda.device_count():
            raise ValueError(
                f"device={self.device!r} but this machine has "
                f"{torch.cuda.device_count()} CUDA device(s) (indices from 0)."
            )
        return self.device

    def _set_standardization(self, X):
        observed = X.observed
        self.mean_, self.scale_ = {}, {}
        for j, m in enumerate(self.modalities_):
            rows = X[m][observed[:, j]].astype(np.float64)
            # Divide each feature by a power of two near its largest magnitude (exact,
            # so the statistics are unchanged): their sums and squares cannot overflow.
            exponent = np.frexp(np.abs(rows).max(axis=0, initial=0.0))[1]
            factor = np.ldexp(1.0, exponent - 1)  # |rows / factor| < 2
            rows /= factor
            mean = rows.mean(axis=0) * factor
            scale = rows.std(axis=0) * factor
            scale[~(scale > 1e-12 * np.maximum(1.0, np.abs(mean)))] = 1.0
            self.mean_[m], self.scale_[m] = mean, scale

    def _to_tensors(self, X, device, dtype=None, row_offset=0):
        """Standardise, zero-fill missing rows (in numpy) and build a TensorData.

        Standardisation runs in float64 over row chunks written into one array of
        ``dtype`` (a torch dtype; float32 by default, the training precision) per
        modality, so no full-size float64 temporary is made for float32.

        Raises
        ------
        ValueError
            If a standardised value exceeds ``_MAX_STANDARDIZED`` for ``dtype`` in
            magnitude (or overflows); the error names the modality and the first
            offending rows, numbered from ``row_offset``.
        """
        torch = _import_torch()
        dtype = torch.float32 if dtype is None else dtype
        np_dtype = torch.empty(0, dtype=dtype).numpy().dtype
        observed = X.observed
        tensors = []
        for j, m in enumerate(self.modalities_):
            a = X[m]
            z = np.empty(a.shape, dtype=np_dtype)
            for start in range(0, a.shape[0], _STANDARDIZE_CHUNK):
                rows = slice(start, start + _STANDARDIZE_CHUNK)
                with np.errstate(over="ignore"):  # overflow is reported below
                    block = (np.asarray(a[rows], dtype=np.float64) - self.mean_[m])
                    block /= self.scale_[m]
                block[~observed[rows, j]] = 0.0
                self._check_magnitude(block, m, row_offset + start, np_dtype)
                z[rows] = block
            tensors.append(torch.from_numpy(z).to(device))
        observed = torch.from_numpy(np.ascontiguousarray(observed)).to(device)
        return TensorData(tensors, observed)

    @staticmethod
    def _check_magnitude(block, modality, first_row, dtype):
        """Raise a ValueError naming the rows of ``block`` beyond ``_MAX_STANDARDIZED``
        for the network's precision ``dtype``."""
        limit = _MAX_STANDARDIZED[np.dtype(dtype).name]
        too_large = ~(np.abs(block) <= limit)
        if not too_large.any():
            return
        rows = np.flatnonzero(too_large.any(axis=1))
        row, feature = rows[0], int(np.flatnonzero(too_large[rows[0]])[0])
        listed = (rows[:10] + first_row).tolist()
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        raise ValueError(
            f"Modality {modality!r} has values too large to embed in rows {listed}"
            f"{more}: feature {feature} of row {row + first_row} lies "
            f"{abs(block[row, feature]):.3g} training standard deviations from the "
            f"training mean, beyond the {limit:.0e} the network takes. Mark "
            "fill values (e.g. 9.96921e36) as missing (the modality's whole row NaN) "
            "or rescale the modality."
        )

    def _inference_module(self, device):
        """A float64 copy of ``module_`` on ``device``, in eval mode.

        Inference in float64 makes a row's embedding independent of the batch it is
        computed in (the float32 kernels' rounding depends on the batch size) and keeps
        large standardised values from overflowing. ``module_`` is left untouched;
        nothing is cached, so the estimator's state and pickles are unchanged.
        """
        torch = _import_torch()
        module = copy.deepcopy(self.module_)  # training leaves no gradients to copy
        return module.to(device=device, dtype=torch.float64).eval()

    def _check_finite_output(self, out, row_offset=0):
        """Raise if a row of the inference output ``out`` is not finite (never a NaN).

        The input is bounded by :meth:`_to_tensors`, so this guards against a broken
        network (e.g. non-finite weights set by hand).
        """
        torch = _import_torch()
        bad = ~torch.isfinite(out.reshape(out.shape[0], -1)).all(dim=1)
        if bool(bad.any()):
            rows = (bad.nonzero()[:, 0][:10].cpu().numpy() + row_offset).tolist()
            raise FloatingPointError(
                f"{type(self).__name__}: the network gave a non-finite embedding for "
                f"rows {rows} although their input is finite; its weights may be "
                "non-finite (refit it)."
            )

    def _embed_data(self, module, data, encode=None, chunk_size=_TRANSFORM_CHUNK):
        """``encode`` (default :meth:`encode`) over a :class:`TensorData` in chunks,
        inside :func:`evaluating` (inference mode); one tensor.

        For work during training: ``module`` and ``data`` are used as given (float32).
        """
        torch = _import_torch()
        encode = self.encode if encode is None else encode
        with evaluating(module, inference=True):
            return torch.cat(
                [encode(module, c.tensors, c.observed) for c in data.chunks(chunk_size)]
            )

    def _optimizer_class(self):
        """The optimiser class of ``optimizer``, after checking ``optimizer_params``."""
        torch = _import_torch()
        optimizer = self.optimizer
        if isinstance(optimizer, str):  # one of _OPTIMIZERS (the constraints say)
            optimizer = getattr(torch.optim, _OPTIMIZERS[optimizer])
        elif not (
            isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)
        ):
            hint = (
                " (an instance: pass its class, and its arguments in optimizer_params)"
                if isinstance(optimizer, torch.optim.Optimizer) else ""
            )
            raise InvalidParameterError(
                f"optimizer must be one of {', '.join(map(repr, _OPTIMIZERS))} or a "
                f"torch.optim.Optimizer subclass; got {optimizer!r}{hint}."
            )
        options = self.optimizer_params
        if options is not None and not (
            isinstance(options, Mapping) and all(isinstance(k, str) for k in options)
        ):
            raise InvalidParameterError(
                "optimizer_params must be None or a dict of keyword arguments of the "
                f"optimizer; got {options!r}."
            )
        reserved = [k for k in _RESERVED_OPTIMIZER_PARAMS if k in (options or {})]
        if reserved:
            raise ValueError(
                f"optimizer_params must not set {reserved}: the parameters are given "
                "by the estimator (set lr and weight_decay as the estimator's own "
                "parameters)."
            )
        return optimizer

    @fit_atomically
    def fit(self, X, y=None):
        """Train the network for ``max_epochs`` epochs (fewer with early stopping).

        A fit that raises (e.g. divergence) leaves the estimator as it was.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            Training data; whole NaN rows mark missing modalities. Every sample needs
            at least one observed modality.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if holds_dask(X):
            raise TypeError(
                f"{type(self).__name__}.fit takes in-memory data; stream Dask "
                "modalities with partial_fit, one epoch per call: for _ in "
                "range(n_epochs): embedder.partial_fit(X)."
            )
        fresh = not (self.warm_start and hasattr(self, "module_"))
        self._fit(X, n_epochs=None, fresh=fresh, allow_validation=True)
        return self

    @fit_atomically
    def partial_fit(self, X, y=None):
        """Train one more epoch on ``X`` (starting a fresh model if not fitted).

        Use it to stream chunks: the first call fixes the modalities and the
        standardisation; no validation split is made (``early_stopping`` is ignored).
        Dask modalities (:ref:`out_of_core`) are streamed for you: one epoch on each
        row block in turn, each read when its turn comes (the first block then fixes
        the standardisation, and every block counts in ``n_iter_`` and
        ``history_``). A call that raises leaves the estimator as it was.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if holds_dask(X):
            X = check_multimodal(X, scan_lazy=False)
            for start, block in iter_blocks(X):
                block = check_multimodal(block, allow_empty_samples=False,
                                         row_offset=start)
                self._fit(block, n_epochs=1, fresh=not hasattr(self, "module_"),
                          allow_validation=False)
            return self
        fresh = not hasattr(self, "module_")
        self._fit(X, n_epochs=1, fresh=fresh, allow_validation=False)
        return self

    # Fitted objects that training updates in place: a continued fit trains copies of
    # them, so that ``fit_atomically`` can restore the originals if it fails.
    _continued_attributes = (
        "module_", "_optimizer_state", "_rng", "history_", "loss_curve_",
        "validation_loss_curve_",
    )

    def _fit(self, X, *, n_epochs, fresh, allow_validation):
        # every call checks the parameters (before the data), partial_fit included
        self._validate_params()
        self._optimizer_class()  # a class given as optimizer, and optimizer_params
        self._check_params()
        torch = _import_torch()
        X, _ = self._validate_multimodal(X, reset=fresh, allow_empty_samples=False)
        if X.n_samples < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to train; got "
                f"n_samples = {X.n_samples} (1 sample)."
            )
        if n_epochs is None:
            n_epochs = self.max_epochs
        if fresh:
            rng = check_random_state(self.random_state)
            seed = rng.randint(np.iinfo(np.int32).max)
            self._rng = np.random.RandomState(seed)
            self._set_standardization(X)
            self._optimizer_state = None
            self.history_, self.loss_curve_ = [], []
            self.validation_loss_curve_ = None
            self.n_iter_ = 0
            self.best_epoch_ = 0
        else:
            for name in self._continued_attributes:
                if hasattr(self, name):
                    setattr(self, name, copy.deepcopy(getattr(self, name)))
        device = self._resolve_device()
        self.device_ = device

        # validation split (numpy RNG of the estimator, reproducible)
        early = allow_validation and self.early_stopping
        data = self._to_tensors(X, device)
        valid = None
        if early:
            n_valid = max(1, int(round(self.validation_fraction * X.n_samples)))
            if X.n_samples - n_valid < 2:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} leaves fewer than 2 "
                    f"training samples out of {X.n_samples}; lower it or turn off "
                    "early_stopping."
                )
            perm = torch.from_numpy(self._rng.permutation(X.n_samples)).to(device)
            valid, data = data.take(perm[:n_valid]), data.take(perm[n_valid:])
            if self.validation_loss_curve_ is None:
                self.validation_loss_curve_ = []
        if self.batch_size != "auto" and self.batch_size > data.n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {data.n_samples} "
                f"training samples: it is clipped to {data.n_samples} (one batch per "
                "epoch).",
                UserWarning,
                stacklevel=4,  # the caller of fit (through fit_atomically)
            )
        seed = int(self._rng.randint(np.iinfo(np.int32).max))
        self._valid_seed = int(self._rng.randint(np.iinfo(np.int32).max))

        cuda_devices = []
        if device.startswith("cuda"):
            index = torch.device(device).index
            cuda_devices = [torch.cuda.current_device() if index is None else index]
        with torch.random.fork_rng(devices=cuda_devices):
            # Only the generators that fork_rng restores are seeded: the caller's global
            # RNG state is unchanged after fit.
            torch.default_generator.manual_seed(seed)
            for index in cuda_devices:
                torch.cuda.default_generators[index].manual_seed(seed)
            if fresh:
                self.module_ = self.build_module(dict(self.n_features_per_modality_))
            self.module_ = self.module_.to(device)
            generator = torch.Generator(device=device)
            generator.manual_seed(seed)
            self._fit_loop(data, valid, n_epochs, generator)
        return self

    def _fit_loop(self, data, valid, n_epochs, generator):
        """Train ``n_epochs`` epochs (fewer if early stopping stops them)."""
        self.on_train_begin(data, valid)
        module = self.module_
        optimizer = self._make_optimizer(module)
        module.train()
        stopper = None
        if valid is not None:
            stopper = _EarlyStopping(self.tol, self.n_iter_no_change)
        for _ in range(n_epochs):
            self._fit_epoch(self.n_iter_ + 1, data, valid, optimizer, generator, stopper)
            if stopper is not None and stopper.should_stop:
                if self.verbose:
                    print(
                        f"Validation loss did not improve by more than tol={self.tol} "
                        f"for {self.n_iter_no_change} epochs; stopping and keeping "
                        f"epoch {self.best_epoch_}.",
                        flush=True,
                    )
                break
        if stopper is not None:
            stopper.restore_best(module)
            if not stopper.should_stop:
                warnings.warn(
                    f"{type(self).__name__}: max_epochs={self.max_epochs} reached and "
                    "the validation loss was still improving; consider increasing "
                    "max_epochs.",
                    ConvergenceWarning,
                )
        optimizer.zero_grad(set_to_none=True)  # no stale gradients in module_
        self._optimizer_state = optimizer.state_dict()
        self._optimizer_type = _qualified_name(self._optimizer_class())
        self.on_train_end(data, valid)

    def _fit_epoch(self, epoch, data, valid, optimizer, generator, stopper):
        """Train epoch ``epoch``, validate it, record it in ``history_``."""
        start_time = time.perf_counter()
        with self._divergence_guard(epoch):
            self.on_epoch_begin(epoch, data)
        train_loss, parts = self.run_epoch(
            data, epoch=epoch, generator=generator, optimizer=optimizer
        )
        self._check_finite_weights(epoch)
        record = {"epoch": epoch, "train_loss": train_loss}
        record.update({f"train_{k}": v for k, v in parts.items()})
        self.n_iter_ = epoch
        self.loss_curve_.append(train_loss)
        if valid is not None:
            valid_loss, parts = self._validation_loss(valid, epoch)
            record["valid_loss"] = valid_loss
            record.update({f"valid_{k}": v for k, v in parts.items()})
            self.validation_loss_curve_.append(valid_loss)
            if stopper.update(valid_loss, self.module_):
                self.best_epoch_ = epoch
        else:
            self.best_epoch_ = epoch
        record["dur"] = time.perf_counter() - start_time
        self.history_.append(record)
        with self._divergence_guard(epoch):
            self.on_epoch_end(epoch, record)
        if self.verbose:
            print(self._format_record(record), flush=True)

    def run_epoch(self, data, *, epoch, generator, optimizer=None):
        """One pass over ``data`` in mini-batches; the mean loss and components.

        With an ``optimizer``, a training pass: the module in training mode, the rows
        shuffled by ``generator``, :meth:`train_step` on each batch and a progress bar
        with ``verbose=2``. Without, an evaluation pass inside :func:`evaluating`: the
        rows in order, :meth:`validation_step` on each batch. Either way the rows are
        split into ``ceil(n / batch_size)`` batches of near-equal size, and a failure
        in a step is reported as divergence at ``epoch`` and the batch.

        Parameters
        ----------
        data : TensorData
            The rows to pass over.
        epoch : int
            The epoch (passed on to :meth:`batch_loss`).
        generator : torch.Generator
            Shuffles the rows (training) and feeds :meth:`batch_loss`.
        optimizer : torch.optim.Optimizer or None, default=None
            Training pass when given.

        Returns
        -------
        loss : float
            Mean loss over the rows (each batch weighted by its size).
        components : dict
            Mean of each component of :meth:`batch_loss`.
        """
        torch = _import_torch()
        module = self.module_
        training = optimizer is not None
        n = data.n_samples
        sizes = _batch_sizes(n, self._batch_size(n))
        if training:
            module.train()
            order = torch.randperm(n, generator=generator, device=generator.device)
            batches = order.split(sizes)
            context = contextlib.nullcontext()
        else:
            ends = np.cumsum(sizes).tolist()
            batches = [slice(end - size, end) for end, size in zip(ends, sizes)]
            context = evaluating(module)
        progress = _Progress(len(sizes), epoch) if training and self.verbose >= 2 else None
        totals, names = None, []
        with context:
            for b, rows in enumerate(batches, start=1):
                batch = data.take(rows)
                with self._divergence_guard(epoch, b, progress):
                    if training:
                        names, values = self.train_step(
                            batch, epoch=epoch, generator=generator, optimizer=optimizer
                        )
                    else:
                        names, values = self.validation_step(
                            batch, epoch=epoch, generator=generator
                        )
                if progress is not None:
                    progress.update(b, values[0].item())
                values = values * batch.n_samples
                totals = values if totals is None else totals + values
        if progress is not None:
            progress.close()
        means = (totals / n).tolist()
        return means[0], dict(zip(names, means[1:]))

    def train_step(self, batch, *, epoch, generator, optimizer):
        """One optimisation step on ``batch``: loss, backward pass, optimiser step.

        Parameters
        ----------
        batch : TensorData
            The mini-batch.
        epoch : int
        generator : torch.Generator
        optimizer : torch.optim.Optimizer

        Returns
        -------
        names : list of str
            The component names of :meth:`batch_loss`.
        values : Tensor of shape (1 + len(names),)
            The loss and its components (detached, float32).

        Raises
        ------
        FloatingPointError
            If the loss is NaN or infinite (before any update).
        """
        loss, names, values = self._batch_values(batch, epoch, generator, "training")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return names, values

    def validation_step(self, batch, *, epoch, generator):
        """The loss of ``batch`` without an update (inside :func:`evaluating`).

        Parameters
        ----------
        batch : TensorData
        epoch : int
        generator : torch.Generator

        Returns
        -------
        names, values
            As :meth:`train_step`.
        """
        _, names, values = self._batch_values(batch, epoch, generator, "validation")
        return names, values

    def _batch_values(self, batch, epoch, generator, phase):
        """:meth:`batch_loss` of ``batch``; the loss, component names and the detached
        values ``[loss, *components]`` in one float tensor. A non-finite loss raises."""
        torch = _import_torch()
        loss, components = self.batch_loss(
            self.module_, batch.tensors, batch.observed, epoch=epoch, generator=generator
        )
        values = [loss.detach()] + [
            c.detach() if isinstance(c, torch.Tensor) else torch.tensor(float(c))
            for c in components.values()
        ]
        values = torch.stack([v.float().to(loss.device) for v in values])
        value = values[0].item()
        if not np.isfinite(value):
            raise _NonFiniteLoss(f"the {phase} loss became {value}")
        return loss, list(components), values

    def _validation_loss(self, data, epoch):
        """Mean loss and components over ``data`` after ``epoch``; the generator is
        reseeded identically each time, so losses are comparable across epochs."""
        torch = _import_torch()
        generator = torch.Generator(device=self.device_)
        generator.manual_seed(self._valid_seed)
        return self.run_epoch(data, epoch=epoch, generator=generator)

    def _make_optimizer(self, module):
        """The optimiser of ``module``'s parameters in two weight-decay groups, with
        the state of the last fit when it used the same optimiser class."""
        named = getattr(module, "no_weight_decay", lambda: set())()
        decay, no_decay = [], []
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            (no_decay if param.ndim < 2 or name in named else decay).append(param)
        groups = [
            {"params": decay, "weight_decay": self.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        cls = self._optimizer_class()
        options = dict(self.optimizer_params or {})
        try:
            optimizer = _build_optimizer(cls, groups, self.lr, options)
        except (TypeError, ValueError) as exc:
            if not options:
                raise
            raise InvalidParameterError(
                f"optimizer_params={options!r} were refused by "
                f"{getattr(cls, '__name__', cls)}: {exc}"
            ) from exc
        state = getattr(self, "_optimizer_state", None)
        same = getattr(self, "_optimizer_type", None) in (None, _qualified_name(cls))
        if state is not None and same:
            # the saved state, with the current settings (lr, weight decay, options)
            settings = [
                {k: v for k, v in g.items() if k != "params"}
                for g in optimizer.param_groups
            ]
            optimizer.load_state_dict(state)
            for group, values in zip(optimizer.param_groups, settings):
                group.update(values)
        return optimizer

    def _divergence_error(self, epoch, batch, what):
        where = f"epoch {epoch}" + ("" if batch is None else f" (batch {batch})")
        return FloatingPointError(
            f"{type(self).__name__}: training diverged at {where}: {what}. Lower lr "
            f"(now {self.lr}) or check the scale of the input. The estimator is left "
            "as it was before this call (weights, history and optimizer state)."
        )

    def _check_finite_weights(self, epoch):
        if not _is_finite_module(self.module_):
            raise self._divergence_error(
                epoch, None, "the network's weights became non-finite"
            )

    @contextlib.contextmanager
    def _divergence_guard(self, epoch, batch=None, progress=None):
        """Report a failure inside an epoch as divergence at ``epoch``.

        A non-finite loss, an error raised while the weights are non-finite, or a
        linear-algebra failure (ill-conditioned representations after a too large
        step), becomes the ``FloatingPointError`` of :meth:`_divergence_error`;
        ``progress`` is closed on any error.
        """
        torch = _import_torch()
        try:
            yield
        except BaseException as exc:
            if progress is not None:
                progress.close()
            if isinstance(exc, _NonFiniteLoss):
                raise self._divergence_error(epoch, batch, str(exc)) from None
            if isinstance(exc, Exception) and not isinstance(exc, FloatingPointError):
                if not _is_finite_module(self.module_):
                    raise self._divergence_error(
                        epoch, batch, "the network's weights became non-finite"
                    ) from exc
                if isinstance(exc, (torch.linalg.LinAlgError, np.linalg.LinAlgError)):
                    first_line = str(exc).splitlines()[0] if str(exc) else ""
                    raise self._divergence_error(
                        epoch, batch, f"a linear-algebra step failed ({first_line})"
                    ) from exc
            raise

    @staticmethod
    def _format_record(record):
        parts = [f"epoch {record['epoch']:4d}"]
        for key, value in record.items():
            if key in ("epoch", "dur"):
                continue
            parts.append(f"{key} {value:.4f}" if isinstance(value, float) else
                         f"{key} {value}")
        parts.append(f"{record['dur']:.2f}s")
        return " | ".join(parts)

    # --- transform ---------------------------------------------------------------
    def transform(self, X):
        """Embed ``X``.

        Inference runs a float64 copy of the network: a row's embedding does not
        depend on the other rows or on how they are chunked (to ~1e-15).

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
            The fitted modalities; whole NaN rows mark missing modalities.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out), float64
            A DataFrame with ``get_feature_names_out()`` columns and the input's row
            labels under ``set_output(transform="pandas")``.

        Raises
        ------
        ValueError
            If a value lies more than 1e100 training standard deviations from the
            training mean; the error names the modality and the rows. (Values up to
            that, a fill value such as 9.96921e36 included, give finite embeddings.)
        """
        check_is_fitted(self, "module_")
        X, _ = self._validate_multimodal(X, reset=False)
        if X.lazy:
            return self._lazy(lambda block, _: self.transform(block), X,
                              len(self.get_feature_names_out()), np.float64)
        torch = _import_torch()
        device = self._resolve_device()
        module = self._inference_module(device)
        out = []
        with evaluating(module, inference=True):
            for start in range(0, X.n_samples, _TRANSFORM_CHUNK):
                chunk = self._to_tensors(
                    X[start : start + _TRANSFORM_CHUNK], device, torch.float64, start
                )
                z = self.encode(module, chunk.tensors, chunk.observed)
                self._check_finite_output(z, start)
                out.append(z.to(torch.float64).cpu().numpy())
        return np.concatenate(out, axis=0)

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding's columns.

        Parameters
        ----------
        input_features : array-like of str or None
            Checked against the fitted input (length and, when known, names); unused.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "module_")
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    "input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(input_features)}"
                )
            names = getattr(self, "feature_names_in_", None)
            if names is not None and not np.array_equal(input_features, names):
                raise ValueError("input_features is not equal to feature_names_in_")
        return np.asarray(self._feature_names(), dtype=object)

    # --- pickling ----------------------------------------------------------------
    def __getstate__(self):
        state = dict(super().__getstate__())
        module = state.get("module_")
        if module is not None:
            on_cpu = all(p.device.type == "cpu" for p in module.parameters()) and all(
                b.device.type == "cpu" for b in module.buffers()
            )
            if not on_cpu:
                state["module_"] = copy.deepcopy(module).cpu()
        if state.get("_optimizer_state") is not None:
            state["_optimizer_state"] = _to_cpu(state["_optimizer_state"])
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.device != "cpu"
        return tags


TorchEmbedder = fill_training_doc(
    max_epochs=100, batch_size='"auto"', lr=1e-3, weight_decay=1e-3
)(TorchEmbedder)

# The private name of the base before it was public (kept for existing subclasses).
BaseTorchEmbedder = TorchEmbedder
