"""Base classes shared by skmm estimators: modality bookkeeping and container output."""

import functools
from collections.abc import Mapping

import numpy as np
from sklearn import get_config
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from ._data import SEPARATOR, MultiModalData, _is_dataframe, is_dask_array
from .utils._blocks import lazy_rows
from .utils._validation import (
    check_multimodal,
    is_multimodal_input,
    prepare_2d_input,
    row_index,
)

__all__ = [
    "MultiModalMixin", "MultiModalTransformerMixin", "fit_atomically", "fit_context",
]


def fit_atomically(method):
    """Decorate a fitting method so that a failure leaves the estimator as it was.

    The estimator's attributes are saved before ``method`` runs and put back if it
    raises, so a failed ``fit`` never leaves a half-updated model (new ``modalities_``
    beside old parameters). Objects updated in place (a torch module trained further
    by ``partial_fit``) must be copied by the method itself before it changes them.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = self.__dict__.copy()
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def fit_context(*, prefer_skip_nested_validation=True):
    """Decorate a fitting method: parameters checked first, and atomic.

    The estimator's ``_parameter_constraints`` are checked before the method runs
    (scikit-learn's ``_fit_context``: an invalid value raises
    :class:`~sklearn.utils._param_validation.InvalidParameterError` naming the
    parameter, before any data is looked at; ``partial_fit`` of a fitted estimator
    skips it), and a failure leaves the estimator as it was (:func:`fit_atomically`).

    Parameters
    ----------
    prefer_skip_nested_validation : bool, default=True
        False for meta-estimators, whose sub-estimators (given by the user) must check
        their own parameters when fitted.
    """

    def decorator(method):
        return fit_atomically(
            _fit_context(prefer_skip_nested_validation=prefer_skip_nested_validation)(
                method
            )
        )

    return decorator


class MultiModalMixin:
    """Record the modalities seen at fit and check them afterwards.

    Fitted attributes set by ``_validate_multimodal`` with ``reset=True``:

    - ``modalities_`` : tuple of str, modality names in order;
    - ``n_features_per_modality_`` : dict, width of each modality;
    - ``n_features_in_`` : int, total width;
    - ``feature_names_in_`` : ndarray of ``"modality__feature"`` names (multimodal
      input), or the DataFrame's column names (2-D input, as in scikit-learn).

    A plain 2-D array is one modality named ``"x0"``; it goes through scikit-learn's
    ``validate_data`` first so that the usual checks and messages apply.
    """

    #: Whether the estimator takes Dask modalities (:ref:`out_of_core`): their values
    #: are scanned block by block at fit and left lazy at inference, whose blocks the
    #: estimator checks itself. Others get a TypeError before anything is computed.
    _accepts_dask = False

    def _validate_multimodal(self, X, *, reset, allow_empty_samples=None):
        """Validate ``X``; return ``(MultiModalData, input_was_2d_array)``.

        A sample with no modality is an error at fit (``reset=True``) and allowed
        afterwards unless ``allow_empty_samples`` says otherwise.
        """
        if allow_empty_samples is None:
            allow_empty_samples = not reset
        if X is None:
            raise TypeError("Expected multimodal data or a 2-D array; got None.")
        _check_dask_input(self, X)
        as_array = not is_multimodal_input(X)
        index = None
        if as_array:
            index = X.index if _is_dataframe(X) else None
            X = validate_data(
                self,
                prepare_2d_input(X),
                reset=reset,
                ensure_all_finite="allow-nan",
                dtype=[np.float64, np.float32],
            )
            X = MultiModalData({"x0": X}, index=index)
        if reset:
            X = check_multimodal(
                X, allow_empty_samples=allow_empty_samples, require_all_observed=True
            )
            self._record_fitted_input(X, as_array)
        else:
            check_is_fitted(self, "modalities_")
            X = check_multimodal(
                X,
                modalities=self.modalities_,
                n_features=self.n_features_per_modality_,
                feature_names=None if self._fit_on_array else {
                    m: self._modality_feature_names(m) for m in self.modalities_
                },
                allow_empty_samples=allow_empty_samples,
                scan_lazy=False,
            )
        return X, as_array

    # --- lazy (Dask) input: the in-memory methods, block by block --------------------
    def _lazy(self, func, X, width, dtype, *, allow_empty_samples=True):
        """Lazy ``func(block, start)`` over the row blocks of the lazy ``X``: a Dask
        array of ``(n_samples, width)`` (``width=None``: ``(n_samples,)``). Each block
        (``start``: its first row) is checked when computed, as an in-memory input is,
        its bad rows named by their row in ``X``."""
        def compute(block, start):
            block = check_multimodal(block, modalities=self.modalities_,
                                     allow_empty_samples=allow_empty_samples,
                                     row_offset=start)
            return func(block, start)

        return lazy_rows(compute, X, width, dtype)

    @staticmethod
    def _lazy_containers(stacked, like, n_copies=1):
        """``n_copies`` containers shaped like ``like`` from the columns of the lazy
        ``stacked`` (copy after copy, modality after modality)."""
        bounds = np.cumsum([0] + list(like.n_features.values()))
        return [
            MultiModalData({
                m: stacked[:, offset + lo:offset + hi].astype(a.dtype, copy=False)
                for m, a, lo, hi in zip(like.modalities, like.values(), bounds, bounds[1:])
            }, feature_names=like.feature_names, index=like.index)
            for offset in range(0, n_copies * like.shape[1], like.shape[1])
        ]

    def _record_fitted_input(self, X, as_array):
        """Set the fitted input attributes from the validated ``X`` (a fit's data)."""
        self._fit_on_array = as_array
        self.modalities_ = X.modalities
        self.n_features_per_modality_ = X.n_features
        self.n_features_in_ = X.shape[1]
        if not as_array:
            self.feature_names_in_ = X.get_feature_names()

    def _input_feature_names(self):
        """``"modality__feature"`` names of the fitted input (``x0, x1, ...`` for 2-D)."""
        check_is_fitted(self, "modalities_")
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return np.asarray(names, dtype=object)
        return np.asarray([f"x{j}" for j in range(self.n_features_in_)], dtype=object)

    def _modality_feature_names(self, modality):
        """Input feature names of one modality, without the modality prefix."""
        names = self._input_feature_names()
        if self._fit_on_array:
            return names
        prefix = f"{modality}{SEPARATOR}"
        return np.asarray(
            [n[len(prefix):] for n in names if n.startswith(prefix)], dtype=object
        )

    def _join_feature_names(self, names_per_modality):
        """Flat output names from ``{modality: names}``: prefixed unless fit on 2-D."""
        if self._fit_on_array:
            return np.concatenate(
                [np.asarray(v, dtype=object) for v in names_per_modality.values()]
            )
        return np.asarray(
            [f"{m}{SEPARATOR}{f}" for m, fs in names_per_modality.items() for f in fs],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def holds_dask(X):
    """Whether the input ``X`` (not yet validated) has Dask modalities."""
    arrays = (X.values() if isinstance(X, Mapping)
              else X if isinstance(X, (list, tuple)) else ())
    return any(is_dask_array(a) for a in arrays)


def _check_dask_input(estimator, X):
    """Raise if ``X`` holds Dask arrays that ``estimator`` cannot take (before any
    block is computed)."""
    if is_dask_array(X):
        raise TypeError(
            "X is one Dask array; give Dask data as modalities, {name: dask array} or "
            "MultiModalData (a single modality: {'x0': X})."
        )
    if not estimator._accepts_dask and holds_dask(X):
        raise TypeError(
            f"{type(estimator).__name__} needs its data in memory and got Dask "
            "modalities; compute them first ({m: a.compute() for m, a in X.items()}). "
            "Out of core: CalMRLImputer, PartialModalityKMeans and "
            "PartialModalityKMeansImputer (the user guide's 'Out of core' section)."
        )


def _wraps_output(method):
    """Decorate an output method: its result goes through ``self._wrap_output``."""

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        X = args[0] if args else kwargs.get("X")
        return self._wrap_output(method(self, *args, **kwargs), X)

    wrapped.__wraps_output__ = True
    return wrapped


class MultiModalTransformerMixin(TransformerMixin, auto_wrap_output_keys=None):
    """Output handling of skmm's transformers (scikit-learn's wrapping would lose rows'
    labels and cannot return containers).

    For container-returning transformers the output follows the input: a 2-D array in
    gives a 2-D array out, multimodal data in gives a :class:`~skmm.MultiModalData`
    out; array-returning ones (embedders, indicators) give a 2-D array.
    ``set_output(transform="pandas")`` (or the global ``transform_output`` config) gives
    one DataFrame with ``"modality__feature"`` columns, which skmm estimators split back
    into modalities.

    The wrapping is installed once, here, as scikit-learn's ``_SetOutputMixin`` does:
    every ``transform`` and ``fit_transform`` a subclass defines (and the methods it
    lists in ``_output_methods``) returns a MultiModalData or an ndarray (or a tuple or
    list of them), and the mixin puts that in the configured container.
    """

    #: Further methods of a subclass whose output is wrapped like ``transform``'s.
    _output_methods = ()

    def __init_subclass__(cls, auto_wrap_output_keys=None, **kwargs):
        # scikit-learn's own wrapping stays off for subclasses too
        super().__init_subclass__(auto_wrap_output_keys=auto_wrap_output_keys, **kwargs)
        for name in ("transform", "fit_transform", *cls._output_methods):
            method = cls.__dict__.get(name)
            if method is not None and not hasattr(method, "__wraps_output__"):
                setattr(cls, name, _wraps_output(method))

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` and ``fit_transform``.

        Parameters
        ----------
        transform : {"default", "pandas"} or None
            ``"default"``: MultiModalData (or ndarray for 2-D input); ``"pandas"``: a
            DataFrame with ``get_feature_names_out()`` columns; None leaves it unchanged.

        Returns
        -------
        self
        """
        if transform is None:
            return self
        if transform not in ("default", "pandas"):
            raise ValueError(
                f"transform must be 'default', 'pandas' or None; got {transform!r}."
            )
        self._sklearn_output_config = {"transform": transform}
        return self

    @fit_atomically
    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then transform ``X``; a failure in either leaves the estimator as it was.

        Parameters
        ----------
        X : MultiModalData, dict of arrays or 2-D array
        y : array-like of shape (n_samples,), optional
            Passed to ``fit`` (ignored by unsupervised estimators).
        **fit_params : dict
            Further parameters of ``fit``.

        Returns
        -------
        MultiModalData, ndarray or DataFrame
            As :meth:`transform` returns.
        """
        return self.fit(X, y, **fit_params).transform(X)

    def get_feature_names_out(self, input_features=None):
        """Output feature names, ``"modality__feature"`` (``x0, ...`` for 2-D input).

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored unless it differs from the fitted names, which raises.

        Returns
        -------
        ndarray of str objects
        """
        names = self._input_feature_names()
        if input_features is not None and list(input_features) != list(names):
            raise ValueError("input_features is not equal to feature_names_in_.")
        return names

    def _wrap_output(self, Xt, X):
        """Return ``Xt``, computed from the input ``X``, in the configured container.

        ``Xt`` is a MultiModalData (returned as such, or as a 2-D array when ``X`` was
        one) or a 2-D ndarray (returned as is); a tuple or list is wrapped item by item
        and a DataFrame is already wrapped. With pandas output both become a DataFrame
        with ``get_feature_names_out()`` columns and the rows' labels (``Xt``'s, else
        those of ``X``: a DataFrame's, or that of per-modality frames).
        """
        if isinstance(Xt, (tuple, list)):
            return type(Xt)(self._wrap_output(part, X) for part in Xt)
        if _is_dataframe(Xt):
            return Xt
        config = getattr(self, "_sklearn_output_config", {}).get(
            "transform", get_config()["transform_output"]
        )
        container = isinstance(Xt, MultiModalData)
        if config == "pandas":
            import pandas as pd

            index = Xt.index if container and Xt.index is not None else row_index(X)
            return pd.DataFrame(
                np.asarray(Xt), columns=self.get_feature_names_out(), index=index
            )
        if not container and is_dask_array(Xt):  # lazy output stays lazy
            return Xt
        if not container or not is_multimodal_input(X):
            return np.asarray(Xt)
        if Xt.index is None:
            Xt.index = row_index(X)
        return Xt
