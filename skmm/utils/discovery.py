"""Find every public estimator of skmm, like :func:`sklearn.utils.all_estimators`."""

import importlib
import inspect

from sklearn.base import BaseEstimator

_PUBLIC_SUBPACKAGES = ("cluster", "compose", "embed", "ensemble", "impute")


def all_estimators():
    """Return ``[(name, class)]`` of skmm's public estimators, sorted by name.

    Only the public namespaces (``skmm.cluster``, ``skmm.compose``, ``skmm.embed``,
    ``skmm.ensemble``,
    ``skmm.impute``) are searched; importing them never imports torch.
    """
    found = {}
    for sub in _PUBLIC_SUBPACKAGES:
        module = importlib.import_module(f"skmm.{sub}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and not name.startswith("_")
            ):
                found[name] = obj
    return sorted(found.items())


__all__ = ["all_estimators"]
