"""Declarative hyperparameter constraints: scikit-learn's, plus skmm's own kinds.

Every estimator declares ``_parameter_constraints`` (``{name: [constraint, ...]}``, a
value is valid when it meets one of them) and decorates its fitting methods with
:func:`skmm.base.fit_context`, which checks them before anything else, as scikit-learn's
estimators do. Checks that depend on the data (``n_clusters`` at most the samples, say)
live in each estimator's ``_check_params_vs_input``.
"""

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils._param_validation import Interval as _Interval

__all__ = [
    "Device",
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
]


class Interval(_Interval):
    """scikit-learn's ``Interval``, refusing booleans.

    ``True`` is an ``int`` to Python and to scikit-learn, but ``n_clusters=True`` or
    ``tol=False`` is a slip, not a size: skmm says so.
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


class Device(StrOptions):
    """A torch device name: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    A :class:`StrOptions` (the kind scikit-learn's validation knows) that also admits
    ``"cuda:N"`` for any index N. Whether CUDA exists here is checked at fit (an
    unavailable device is a property of the machine, not of the value).
    """

    def __init__(self):
        super().__init__({"auto", "cpu", "cuda"})

    def is_satisfied_by(self, val):
        if super().is_satisfied_by(val):
            return True
        kind, _, index = val.partition(":") if isinstance(val, str) else ("", "", "")
        return kind == "cuda" and index.isdigit()

    def __str__(self):
        return "a torch device name ('auto', 'cpu', 'cuda' or 'cuda:N')"
