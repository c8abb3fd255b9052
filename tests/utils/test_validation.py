import numpy as np
import pytest

from skmm.utils import check_modality_param, check_multimodal
from skmm.impute import CalMRLImputer


def test_accepted_forms():
    a = np.ones((3, 2))
    assert check_multimodal(a).modalities == ("x0",)
    assert check_multimodal({"a": a}).modalities == ("a",)
    assert check_multimodal([a, a]).modalities == ("m0", "m1")
    assert check_multimodal(a.tolist()).modalities == ("x0",)


def test_pandas_output_frame_is_split_back():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.ones((2, 3)), columns=["a__0", "a__1", "b__z"])
    X = check_multimodal(frame)
    assert X.n_features == {"a": 2, "b": 1}
    assert list(X.feature_names["b"]) == ["z"]


def test_fitted_modalities_reorder_and_check():
    X = {"b": np.ones((2, 1)), "a": np.zeros((2, 2))}
    out = check_multimodal(X, modalities=["a", "b"], n_features={"a": 2, "b": 1})
    assert out.modalities == ("a", "b")
    with pytest.raises(ValueError, match="'a' has 2 features, but 3"):
        check_multimodal(X, n_features={"a": 3})


def test_empty_samples_and_unobserved_modalities():
    X = {"a": np.array([[1.0], [np.nan]]), "b": np.array([[np.nan], [np.nan]])}
    with pytest.raises(ValueError, match=r"\['b'\] are missing in every sample"):
        check_multimodal(X, require_all_observed=True)
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        check_multimodal(X, allow_empty_samples=False)
    assert check_multimodal(X).n_samples == 2


def test_partial_rows_are_named():
    a = np.ones((8, 2))
    a[[2, 6], 0] = np.nan
    msg = r"'a' has rows that are only partly NaN: rows \[2, 6\]"
    with pytest.raises(ValueError, match=msg):
        check_multimodal({"a": a})


def test_input_not_modified_and_not_copied():
    a = np.ones((3, 2))
    X = check_multimodal({"a": a})
    assert X["a"] is a


def test_sparse_rejected():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="Sparse"):
        check_multimodal(sparse.csr_matrix(np.eye(3)))


def test_check_modality_param():
    assert check_modality_param(2, ["a", "b"], "k") == {"a": 2, "b": 2}
    assert check_modality_param({"b": 1, "a": 2}, ["a", "b"], "k") == {"a": 2, "b": 1}
    with pytest.raises(ValueError, match="'k'"):
        check_modality_param({"a": 1}, ["a", "b"], "k")
    with pytest.raises(TypeError, match="'k'"):
        check_modality_param([1, 2], ["a", "b"], "k")


@pytest.mark.parametrize("verbose", [0, 2, True, False, np.int64(1)])
def test_verbose_accepts_bools_and_non_negative_integers(verbose):
    CalMRLImputer(verbose=verbose)._validate_params()


@pytest.mark.parametrize("verbose", [-1, 1.5, "loud", None])
def test_verbose_rejects_others(verbose):
    with pytest.raises(ValueError, match="'verbose' parameter of CalMRLImputer"):
        CalMRLImputer(verbose=verbose)._validate_params()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sum_precheck_matches_elementwise_scans(dtype):
    # The row-sum pre-check must give the mask and errors of plain isnan/isinf scans,
    # also for finite rows whose sum overflows and rows holding both +inf and -inf.
    big = np.finfo(dtype).max
    a = np.arange(40, dtype=dtype).reshape(10, 4)
    a[2] = np.nan
    a[5] = big  # finite, the sum overflows to inf
    a[7, :2] = [big, -big]
    X = check_multimodal({"a": a, "b": np.ones((10, 2), dtype=dtype)})
    np.testing.assert_array_equal(
        X._validated_observed()[:, 0], ~np.isnan(a).all(axis=1)
    )
    for row, value, msg in [(3, np.inf, r"infinite values in rows \[3, 6\]"),
                            (3, np.nan, r"only partly NaN: rows \[3, 6\]")]:
        bad = a.copy()
        bad[[row, 6], 1] = value
        if value == np.inf:
            bad[6, 2] = -np.inf
        with pytest.raises(ValueError, match=msg):
            check_multimodal({"a": bad})


def test_nan_inf_rows_in_blocks_matches_reference():
    from skmm.utils._validation import _nan_inf_rows

    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 3))
    a[rng.random(a.shape) < 0.3] = np.nan
    a[rng.random(a.shape) < 0.1] = -np.inf
    a[::7] = np.nan
    rows = np.array([0, 3, 7, 8, 14, 20, 21, 49])
    for block in (1, 4, 7, 1 << 16):
        all_nan, any_nan, inf = _nan_inf_rows(a, rows, block=block)
        np.testing.assert_array_equal(all_nan, np.isnan(a[rows]).all(axis=1))
        np.testing.assert_array_equal(any_nan, np.isnan(a[rows]).any(axis=1))
        np.testing.assert_array_equal(inf, np.isinf(a[rows]).any(axis=1))
