"""Registry of small, fast instances of every public estimator, for the common tests.

Every estimator returned by :func:`skmm.utils.all_estimators` must have an entry in
``TEST_PARAMS`` (the common tests fail otherwise): parameters that make it fast on tiny
data. ``EXPECTED_FAILED_CHECKS`` lists scikit-learn checks an estimator is known to
fail on 2-D input, each with its reason. ``BAD_PARAMS`` is the catalogue of invalid
parameter values of every estimator and the error each must raise
(``tests/test_bad_params.py``).
"""

import numpy as np
from sklearn.preprocessing import StandardScaler

from .discovery import all_estimators

# {estimator class name: callable returning constructor kwargs}; callables so that each
# test gets fresh sub-estimators.
TEST_PARAMS = {
    "CalMRLImputer": lambda: {"n_components": 1, "random_state": 0},
    "COrALEmbedder": lambda: {
        "embedding_dim": 4, "n_tokens": 2, "hidden_dim": 8, "n_heads": 2,
        "projection_dim": 8, "max_epochs": 2, "random_state": 0,
    },
    "CalMRLEmbedder": lambda: {
        "embedding_dim": 4, "n_components": 2, "hidden_dim": 8, "max_epochs": 2,
        "warmup_epochs": 0, "calibrate_every": 1, "random_state": 0,
    },
    "LateFusionClassifier": lambda: {"cv": 3, "random_state": 0},
    "LateFusionRegressor": lambda: {"cv": 3, "random_state": 0},
    "MissingModalityIndicator": lambda: {},
    "ModalitySelector": lambda: {},
    "ModalityTransformer": lambda: {"remainder": StandardScaler()},
    "OVAIBEmbedder": lambda: {
        "embedding_dim": 4, "hidden_dim": 8, "max_epochs": 2, "random_state": 0,
    },
    "PairwiseCLIPEmbedder": lambda: {
        "embedding_dim": 4, "hidden_dim": 8, "max_epochs": 2, "random_state": 0,
    },
    "PartialModalityKMeans": lambda: {"n_clusters": 3, "random_state": 0},
    "PartialModalityKMeansImputer": lambda: {"n_clusters": 3, "random_state": 0},
}

# Checks every estimator fails by design: {check name: reason}.
_PARTLY_NAN = (
    "allow_nan=True makes the check put NaN into 10 single entries; a row that is "
    "only partly NaN is rejected by design (a missing modality is a whole row of "
    "NaN). Pickling is covered by skmm.utils.estimator_checks.check_pickle_round_trip "
    "on whole-row missing data"
)
COMMON_EXPECTED_FAILED_CHECKS = {"check_estimators_pickle": _PARTLY_NAN}

# {estimator class name: {check name: reason}}. The torch embedders pass
# check_methods_subset_invariance: they infer in float64 (differences ~1e-15).
EXPECTED_FAILED_CHECKS = {}

# Estimators whose transform fills missing modalities and returns a container.
IMPUTERS = {"CalMRLImputer", "PartialModalityKMeansImputer"}


def registered_instances():
    """Return an instance of every registered public estimator.

    Unregistered public estimators are left out here; ``test_common`` fails on them.
    """
    return [
        cls(**TEST_PARAMS[name]()) for name, cls in all_estimators() if name in TEST_PARAMS
    ]


def expected_failed_checks(estimator):
    """Reasons for the scikit-learn checks ``estimator`` is expected to fail."""
    return {
        **COMMON_EXPECTED_FAILED_CHECKS,
        **EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}),
    }


# --- bad-parameter catalogue -------------------------------------------------------------
# Every public estimator is fitted on ``bad_params_data()`` with each set of parameters
# below (on top of its TEST_PARAMS) and must raise the error type with a message that
# contains ``match`` (a plain substring: the parameter's name, or its name and value).
BAD_PARAMS_N_SAMPLES = 40
BAD_PARAMS_WIDTHS = {"a": 4, "b": 3, "c": 5}


def bad_params_data():
    """Three modalities (widths 4, 3, 5), 40 samples, about a third of slots missing."""
    from .._data import MultiModalData
    from ..datasets import make_missing_modalities

    rng = np.random.default_rng(0)
    n = BAD_PARAMS_N_SAMPLES
    latent = rng.normal(size=(n, 2))
    X = MultiModalData(
        {
            m: latent @ rng.normal(size=(2, d)) + 0.1 * rng.normal(size=(n, d))
            for m, d in BAD_PARAMS_WIDTHS.items()
        }
    )
    return make_missing_modalities(X, 0.3, random_state=0)


_N = BAD_PARAMS_N_SAMPLES
_D = sum(BAD_PARAMS_WIDTHS.values())
_M = len(BAD_PARAMS_WIDTHS)
_V, _T = ValueError, TypeError


def _integer(name, low, *, too_large=None):
    """An integer parameter: below ``low``, float, string, bool, and above ``too_large``."""
    cases = [
        ({name: low - 1}, _V, name),
        ({name: -5}, _V, name),
        ({name: low + 0.5}, _T, name),
        ({name: str(low)}, _T, name),
        ({name: None}, _T, name),
        ({name: True}, _T, name),
    ]
    if too_large is not None:
        cases.append(({name: too_large}, _V, name))
    return cases


def _real(name, low, *, include_low=True, high=None, include_high=True):
    """A real parameter: outside its bounds, NaN, inf, a string."""
    cases = [
        ({name: low - 1.0}, _V, name),
        ({name: float("nan")}, _V, name),
        ({name: "1"}, _T, name),
    ]
    if not include_low:
        cases.append(({name: low}, _V, name))
    if high is None:
        cases.append(({name: float("inf")}, _V, name))
    else:
        cases.append(({name: high + 1.0}, _V, name))
        if not include_high:
            cases.append(({name: high}, _V, name))
    return cases


def _flag(name):
    """A boolean parameter: strings and integers are refused."""
    return [({name: "yes"}, _T, name), ({name: 1}, _T, name), ({name: None}, _T, name)]


def _option(name, bad="unknown"):
    """A string option: an unknown string and a non-string."""
    return [({name: bad}, _V, name), ({name: 3}, _V, name)]


_RANDOM_STATE = [({"random_state": "seed"}, _V, "random_state")]


def _late_fusion(fusion, estimator):
    """The late-fusion estimators: ``fusion`` (an option without folds, valid) and
    ``estimator`` (a string, invalid) show what they accept."""
    return (
        _option("fusion", "sum")
        + [
            ({"fusion": fusion, "cv": 1}, _V, "cv"),  # checked even when unused
            ({"cv": 1}, _V, "cv"),
            ({"cv": "five"}, _T, "cv"),
            ({"cv": 2.5}, _T, "cv"),
            ({"cv": True}, _T, "cv"),
            ({"estimator": estimator}, _T, "estimator"),
            ({"final_estimator": 3}, _T, "final_estimator"),
            ({"imputer": "mean"}, _T, "imputer"),
        ]
        + _RANDOM_STATE
    )


_VERBOSE = [({"verbose": -1}, _V, "verbose"), ({"verbose": "loud"}, _T, "verbose")]

_KMEANS = (
    _integer("n_clusters", 1, too_large=_N + 1)
    + [({"n_clusters": 1000}, _V, "n_clusters")]
    + _option("init", "random")
    + [
        ({"init": np.zeros((3, _D + 1))}, _V, "init"),  # a 2-D array for dict input
        ({"init": {m: np.zeros((2, d)) for m, d in BAD_PARAMS_WIDTHS.items()}}, _V,
         "init"),  # 2 centres for n_clusters=3
        ({"init": {"a": np.zeros((3, 4))}}, _V, "init"),  # modalities missing
        ({"init": {m: np.full((3, d), np.nan) for m, d in BAD_PARAMS_WIDTHS.items()}},
         _V, "init"),  # centres with no modality
    ]
    + _integer("n_init", 1) + [({"n_init": "many"}, _T, "n_init")]
    # None is valid (scikit-learn's 2 + int(log k))
    + [({"n_local_trials": bad}, error, "n_local_trials")
       for bad, error in [(0, _V), (-2, _V), (1.5, _T), (True, _T), ("auto", _T),
                          (_N + 1, _V)]]
    + _integer("max_iter", 1)
    + _real("tol", 0)
    + _VERBOSE + _RANDOM_STATE
)

_TRAINING = (
    _integer("max_epochs", 1)
    + _integer("batch_size", 1)
    + _real("lr", 0, include_low=False)
    + [({"lr": 1e6 + 0j}, _T, "lr")]
    + _real("weight_decay", 0)
    + [
        ({"device": "tpu"}, _V, "device"),
        ({"device": "gpu"}, _V, "device"),
        ({"device": "cuda:x"}, _V, "device"),
        ({"device": 0}, _V, "device"),
        ({"device": None}, _V, "device"),
    ]
    + _VERBOSE
    + _flag("early_stopping")
    + _real("validation_fraction", 0, include_low=False, high=1, include_high=False)
    + [
        # too few training rows left after the split
        ({"early_stopping": True, "validation_fraction": 0.99}, _V, "validation_fraction"),
    ]
    + _integer("n_iter_no_change", 1)
    + _real("tol", 0)
    + _flag("warm_start")
    + _option("optimizer", "rmsprop")
    + [({"optimizer": None}, _V, "optimizer"),
       ({"optimizer_params": "fast"}, _T, "optimizer_params"),
       ({"optimizer_params": {"lr": 0.1}}, _V, "optimizer_params"),
       ({"optimizer_params": {"bogus": 1}}, _T, "optimizer_params")]
    + _RANDOM_STATE
)

_ALIGNED = (
    _integer("embedding_dim", 1)
    # must exceed n_modalities - 1
    + [({"embedding_dim": _M - 1}, _V, "embedding_dim")]
    + _integer("hidden_dim", 1)
    + _integer("n_layers", 1)
    + _real("temperature", 0, include_low=False)
    + _option("fusion", "max")
    + _flag("normalize_output")
)

BAD_PARAMS = {
    "PartialModalityKMeans": _KMEANS,
    "PartialModalityKMeansImputer": _KMEANS,
    "CalMRLImputer": (
        _integer("n_components", 1, too_large=_D + 1)
        + _integer("max_iter", 1)
        + _real("tol", 0)
        + _option("init", "svd")
        + _flag("standardize")
        + _flag("clip")
        + _real("min_noise_variance", 0)
        + _option("algorithm", "px_em") + _option("algorithm", "EM")
        + [({"algorithm": None}, _V, "algorithm")]
        + _option("noise", "diagonal") + [({"noise": None}, _V, "noise")]
        + _VERBOSE + _RANDOM_STATE
    ),
    "COrALEmbedder": (
        _TRAINING
        + _integer("embedding_dim", 2)
        + [({"embedding_dim": 5}, _V, "embedding_dim")]  # odd
        + [({"embedding_dim": 6, "n_heads": 4}, _V, "n_heads")]  # not divisible
        + _integer("n_tokens", 1)
        + _integer("hidden_dim", 1)
        + _integer("n_heads", 1)
        + _integer("n_layers", 1)
        + _integer("projection_dim", 1)
        + _real("mask_ratio", 0, high=1, include_high=False)
        + _option("mask_schedule", "linear")
        + _real("noise_std", 0)
        + _real("max_feature_dropout", 0, high=1, include_high=False)
        + _real("augment_prob", 0, high=1)
        + _real("temperature", 0, include_low=False)
        + _real("shared_weight", 0)
        + _real("unique_weight", 0)
        + _real("orth_weight", 0)
        + _option("orth_loss", "abs")
        + _flag("presence_bits")
    ),
    "OVAIBEmbedder": (
        _TRAINING
        + _ALIGNED
        + _real("beta", 0)
        + _real("ridge", 0, include_low=False)
        + _flag("include_positive_in_denominator")
    ),
    "PairwiseCLIPEmbedder": _TRAINING + _ALIGNED,
    "CalMRLEmbedder": (
        _TRAINING
        + _integer("embedding_dim", 1)
        + _integer("n_components", 1)
        # at most n_modalities * embedding_dim
        + [({"n_components": 4 * _M + 1, "embedding_dim": 4}, _V, "n_components")]
        + _integer("hidden_dim", 1)
        + _integer("n_layers", 1)
        + _real("singular_value_temperature", 0, include_low=False)
        + _real("temperature", 0, include_low=False)
        + _option("inter_loss", "pmrl")
        # deprecated names, still validated
        + _real("tau1", 0, include_low=False)
        + _real("tau2", 0, include_low=False)
        + _flag("calibrate")
        + _integer("calibrate_every", 1)
        + _integer("warmup_epochs", 0)
        + _integer("em_max_iter", 1)
        + _option("output", "both")
    ),
    "LateFusionClassifier": _late_fusion("product", "logistic"),
    "LateFusionRegressor": (
        _late_fusion("mean", "ridge")
        # a transformer is no regressor; a classifier's predict_proba is not needed
        + [({"estimator": StandardScaler()}, _T, "estimator"),
           ({"fusion": "product"}, _V, "fusion")]
    ),
    "MissingModalityIndicator": _option("features", "some") + _flag("presence"),
    "ModalitySelector": [
        ({"modalities": "a"}, _T, "modalities"),
        ({"modalities": 3}, _T, "modalities"),
        ({"modalities": ["zzz"]}, _V, "modalities"),
        ({"modalities": []}, _V, "modalities"),
        ({"modalities": ["a", "a"]}, _V, "modalities"),
        ({"modalities": [1]}, _V, "modalities"),
    ],
    "ModalityTransformer": [
        ({"transformers": [StandardScaler()]}, _T, "transformers"),
        ({"transformers": {"zzz": StandardScaler()}}, _V, "transformers"),
        ({"transformers": {"a": "scale"}}, _V, "'a'"),
        ({"transformers": {"a": object()}}, _T, "'a'"),
        ({"remainder": "keep"}, _V, "remainder"),
        ({"remainder": 3}, _T, "remainder"),
        ({"transformers": {m: "drop" for m in BAD_PARAMS_WIDTHS}}, _V, "drop"),
    ],
}


def as_dask(X, rows):
    """``X`` with every modality a Dask array in blocks of ``rows`` rows (the tests of
    the out-of-core paths; needs dask)."""
    import dask.array as da

    from .._data import MultiModalData

    return MultiModalData({m: da.from_array(a, chunks=(rows, -1)) for m, a in X.items()})


def forbidden_scheduler(*args, **kwargs):
    """A Dask scheduler that fails: ``dask.config.set(scheduler=...)`` around code that
    must build lazy results without computing any."""
    raise AssertionError("a Dask computation ran")
