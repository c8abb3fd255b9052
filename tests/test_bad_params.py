"""Invalid parameters: every public estimator answers each entry of the catalogue
(``skmm.utils._testing.BAD_PARAMS``) at fit with a ValueError or TypeError naming the
parameter, never an IndexError/KeyError/AttributeError or a silent NaN."""

import re
import warnings

import numpy as np
import pytest
from sklearn.base import is_classifier, is_regressor

from skmm.utils import all_estimators
from skmm.utils._testing import (
    BAD_PARAMS,
    BAD_PARAMS_N_SAMPLES,
    TEST_PARAMS,
    bad_params_data,
)

CASES = [
    (name, i, params, error, match)
    for name in sorted(BAD_PARAMS)
    for i, (params, error, match) in enumerate(BAD_PARAMS[name])
]


def _case_id(case):
    name, i, params, _, _ = case
    shown = ",".join(f"{k}={v!r}"[:30] for k, v in params.items())
    return f"{name}-{i}-{shown}"


def _estimator(name, **params):
    cls = dict(all_estimators())[name]
    return cls(**TEST_PARAMS[name]()).set_params(**params)


def test_every_public_estimator_has_bad_parameter_cases():
    assert set(BAD_PARAMS) == {name for name, _ in all_estimators()}


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_parameter_raises_a_clear_error_naming_it(case):
    name, _, params, error, match = case
    est = _estimator(name, **params)
    before = est.get_params(deep=False)
    labels = []
    if is_classifier(est):
        labels = [np.arange(BAD_PARAMS_N_SAMPLES) % 2]
    elif is_regressor(est):
        labels = [np.linspace(-1.0, 1.0, BAD_PARAMS_N_SAMPLES)]
    with pytest.raises(error) as info:
        est.fit(bad_params_data(), *labels)
    assert match in str(info.value), f"{type(info.value).__name__}: {info.value}"
    # the parameters are left as the user set them
    after = est.get_params(deep=False)
    assert all(after[key] is before[key] for key in params)


EMBEDDERS = [
    name for name, cls in all_estimators() if cls.__module__.startswith("skmm.embed")
]


@pytest.mark.parametrize("name", EMBEDDERS)
def test_cuda_without_cuda_is_a_clear_error(name):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="device='cuda' but CUDA is not available"):
        _estimator(name, device="cuda").fit(bad_params_data())
    with pytest.raises(ValueError, match="device='cuda:1' but CUDA is not available"):
        _estimator(name, device="cuda:1").fit(bad_params_data())


@pytest.mark.parametrize("name", EMBEDDERS)
def test_cuda_index_out_of_range_is_a_clear_error(name):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA here")
    with pytest.raises(ValueError, match="device='cuda:99' but this machine has"):
        _estimator(name, device="cuda:99").fit(bad_params_data())
    out = _estimator(name, device="cuda").fit_transform(bad_params_data())
    assert np.isfinite(out).all()


@pytest.mark.parametrize("name", EMBEDDERS)
def test_divergent_training_is_reported_with_its_epoch(name):
    pytest.importorskip("torch")
    est = _estimator(name, lr=1e12, max_epochs=5, batch_size=8)
    with pytest.raises(FloatingPointError, match=r"diverged at epoch (\d+)") as info:
        est.fit(bad_params_data())
    assert "lr" in str(info.value)
    assert int(re.search(r"epoch (\d+)", str(info.value)).group(1)) >= 1
    # a failed fit leaves the estimator as it was: here, unfitted
    assert not hasattr(est, "n_iter_") and not hasattr(est, "module_")


@pytest.mark.parametrize("name", EMBEDDERS)
def test_batch_size_larger_than_the_data_is_clipped_with_a_warning(name):
    pytest.importorskip("torch")
    X = bad_params_data()
    with pytest.warns(UserWarning, match=f"batch_size=1000 is larger than the {len(X)}"):
        big = _estimator(name, batch_size=1000, max_epochs=1).fit(X)
    exact = _estimator(name, batch_size=len(X), max_epochs=1).fit(X)
    np.testing.assert_array_equal(big.transform(X), exact.transform(X))


@pytest.mark.parametrize("name", EMBEDDERS)
def test_batch_size_auto_takes_every_row_of_small_data_without_a_warning(name):
    pytest.importorskip("torch")
    X = bad_params_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        auto = _estimator(name, batch_size="auto", max_epochs=1).fit(X)
    exact = _estimator(name, batch_size=len(X), max_epochs=1).fit(X)
    np.testing.assert_array_equal(auto.transform(X), exact.transform(X))
    with pytest.raises(ValueError, match="'batch_size' parameter of .* must be a str "
                       "among {'auto'} or an int"):
        _estimator(name, batch_size="all", max_epochs=1).fit(X)


def test_bad_method_arguments_raise_naming_them():
    from skmm.impute import CalMRLImputer

    X = bad_params_data()
    imputer = CalMRLImputer(n_components=2, random_state=0).fit(X)
    for kwargs in ({"n_imputations": 0}, {"n_imputations": 1.5},
                   {"random_state": "seed"}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            imputer.sample_imputations(X, **kwargs)
    with pytest.raises(TypeError, match="return_std"):
        imputer.transform(X, return_std="yes")
