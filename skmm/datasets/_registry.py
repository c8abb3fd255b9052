"""The bundled data sets the benchmark can run on, by name."""

from functools import partial
from types import MappingProxyType

from ._mfeat import load_multiple_features
from ._nutrimouse import load_nutrimouse
from ._sklearn_views import (
    load_breast_cancer_views, load_diabetes_views, load_digits_views,
)

__all__ = ["BENCHMARK_DATASETS"]

#: ``{name: loader}``, read-only: each loader returns the data and labels with
#: ``loader(return_X_y=True)``, no network access. The names are ``skmm benchmark
#: --dataset``'s choices. ``diabetes`` has a continuous target: the benchmark scores
#: regressors on it (R^2). ``nutrimouse`` predicts the diet (5 classes): its genotype,
#: which every method predicts perfectly from either view, separates nothing.
BENCHMARK_DATASETS = MappingProxyType({
    "mfeat": load_multiple_features,
    "nutrimouse": partial(load_nutrimouse, target="diet"),
    "breast-cancer": load_breast_cancer_views,
    "digits": load_digits_views,
    "diabetes": load_diabetes_views,
})
