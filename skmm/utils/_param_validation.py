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
    _Constraint,
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


class Device(_Constraint):
    """A torch device name: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Whether CUDA exists here is checked at fit, with the data (an unavailable device is
    a property of the machine, not of the value).
    """

    def is_satisfied_by(self, val):
        if not isinstance(val, str):
            return False
        if val in ("auto", "cpu", "cuda"):
            return True
        kind, _, index = val.partition(":")
        return kind == "cuda" and index.isdigit()

    def __str__(self):
        return "a torch device name ('auto', 'cpu', 'cuda' or 'cuda:N')"
