"""Registry of small, fast instances of every public estimator, for the common tests.

Every estimator returned by :func:`skmm.utils.all_estimators` must have an entry in
``TEST_PARAMS`` (the common tests fail otherwise): parameters that make it fast on tiny
data. ``EXPECTED_FAILED_CHECKS`` lists scikit-learn checks an estimator is known to
fail on 2-D input, each with its reason.
"""

from sklearn.preprocessing import StandardScaler

from .discovery import all_estimators

# {estimator class name: callable returning constructor kwargs}; callables so that each
# test gets fresh sub-estimators.
TEST_PARAMS = {
    "MissingModalityIndicator": lambda: {},
    "ModalitySelector": lambda: {},
    "ModalityTransformer": lambda: {"transformers": {"x0": StandardScaler()}},
}

# {estimator class name: {check name: reason}}
EXPECTED_FAILED_CHECKS = {}

# Estimators whose transform fills missing modalities and returns a container.
IMPUTERS = set()


def test_instances():
    """Return ``[estimator instance]`` for every registered public estimator."""
    out = []
    for name, cls in all_estimators():
        if name not in TEST_PARAMS:
            raise KeyError(
                f"{name} is public but not registered in skmm.utils._testing.TEST_PARAMS."
            )
        out.append(cls(**TEST_PARAMS[name]()))
    return out


def expected_failed_checks(estimator):
    """Reasons for the scikit-learn checks ``estimator`` is expected to fail."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
