"""MultiModalData from real-world inputs: pandas (indexes, nullable dtypes, wide frames),
masked arrays, sparse matrices, torch tensors, large integers and modality names."""

import numpy as np
import pytest
from scipy import sparse

from skmm import MultiModalData
from skmm.utils import check_multimodal

pd = pytest.importorskip("pandas")


def _frame(values, index, prefix="f"):
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(values, index=index,
                        columns=[f"{prefix}{j}" for j in range(values.shape[1])])


def test_frames_are_aligned_on_their_index_not_their_position():
    image = _frame([[0.0], [1.0], [2.0]], ["s0", "s1", "s2"])
    text = _frame([[12.0], [10.0], [11.0]], ["s2", "s0", "s1"])
    X = MultiModalData(image=image, text=text)
    assert list(X.index) == ["s0", "s1", "s2"]
    np.testing.assert_array_equal(X["text"][:, 0], [10.0, 11.0, 12.0])
    np.testing.assert_array_equal(X["image"][:, 0], [0.0, 1.0, 2.0])


def test_a_frame_may_lack_the_rows_of_samples_that_miss_it():
    image = _frame(np.arange(8.0).reshape(4, 2), [10, 11, 12, 13])
    text = _frame([[1.0], [3.0]], [13, 11])
    audio = _frame([[5.0]], [99])
    X = MultiModalData(image=image, text=text, audio=audio)
    assert list(X.index) == [10, 11, 12, 13, 99]
    np.testing.assert_array_equal(X.observed[:, 1], [False, True, False, True, False])
    np.testing.assert_array_equal(X["text"][[1, 3], 0], [3.0, 1.0])
    assert np.isnan(X["image"][4]).all() and X.observed[4].tolist() == [False, False, True]
    assert list(X[[1, 4]].index) == [11, 99]


def test_the_frame_holding_every_sample_fixes_the_row_order():
    text = _frame([[1.0]], ["s2"])
    image = _frame(np.arange(3.0)[:, None], ["s0", "s1", "s2"])
    X = MultiModalData(text=text, image=image)
    assert list(X.index) == ["s0", "s1", "s2"]
    assert X.observed[:, 0].tolist() == [False, False, True]


def test_unmatchable_rows_raise_naming_the_modalities():
    a = _frame(np.ones((3, 1)), ["x", "y", "z"])
    b = _frame(np.ones((3, 1)), ["z", "y", "x"])
    with pytest.raises(ValueError, match=r"\['c'\] have no row index"):
        MultiModalData(a=a, b=b, c=np.ones((3, 2)))
    dup = _frame(np.ones((2, 1)), ["x", "x"])
    with pytest.raises(ValueError, match="'d' has duplicate row index labels"):
        MultiModalData(a=a, d=dup)
    # Frames with one index beside arrays are matched by position, as before.
    assert MultiModalData(a=a, c=np.ones((3, 2))).n_samples == 3


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "Float32"])
def test_nullable_dtypes_mark_pd_na_as_missing(dtype):
    frame = pd.DataFrame({"u": pd.array([1, None, 3], dtype=dtype),
                          "v": pd.array([4, None, 6], dtype=dtype)})
    X = check_multimodal({"a": frame, "b": np.ones((3, 1))})
    np.testing.assert_array_equal(X.observed[:, 0], [True, False, True])
    np.testing.assert_array_equal(X["a"][[0, 2]], [[1, 4], [3, 6]])
    partly = pd.DataFrame({"u": pd.array([1, None], dtype=dtype),
                           "v": pd.array([4, 5], dtype=dtype)})
    with pytest.raises(ValueError, match="'a' has rows that are only partly NaN"):
        check_multimodal({"a": partly})


def test_from_frame_multiindex_and_groups():
    columns = pd.MultiIndex.from_tuples([("img", "p0"), ("img", "p1"), ("txt", "w0")])
    frame = pd.DataFrame(np.arange(6.0).reshape(2, 3), columns=columns, index=["a", "b"])
    X = MultiModalData.from_frame(frame)
    assert X.n_features == {"img": 2, "txt": 1} and list(X.index) == ["a", "b"]
    assert list(X.feature_names["img"]) == ["p0", "p1"]
    assert check_multimodal(frame).modalities == ("img", "txt")

    wide = pd.DataFrame(np.arange(8.0).reshape(2, 4),
                        columns=["fou_0", "fou_1", "kar_0", "x"])
    X = MultiModalData.from_frame(
        wide, groups={"fou": ["fou_0", "fou_1"], "kar": ["kar_0", "x"]}
    )
    assert X.n_features == {"fou": 2, "kar": 2}
    np.testing.assert_array_equal(X["kar"], [[2, 3], [6, 7]])
    with pytest.raises(ValueError, match=r"Columns \['x'\] are in no group"):
        MultiModalData.from_frame(
            wide, groups={"fou": ["fou_0", "fou_1"], "kar": ["kar_0"]}
        )
    with pytest.raises(ValueError, match="unknown columns"):
        MultiModalData.from_frame(wide, groups={"fou": ["nope"]})
    with pytest.raises(ValueError, match="groups="):
        MultiModalData.from_frame(wide)
    with pytest.raises(TypeError, match="from_frame"):
        MultiModalData(wide)


def test_a_stacked_input_where_modalities_are_expected_says_how_to_split_it():
    with pytest.raises(ValueError, match="from_array"):
        check_multimodal(np.ones((2, 3)), modalities=["a", "b"])


def test_masked_arrays_keep_their_mask():
    data = np.ma.masked_array(np.full((3, 2), -999.0), mask=[[0, 0], [1, 1], [0, 0]])
    data[[0, 2]] = [[1.0, 2.0], [3.0, 4.0]]
    X = MultiModalData(a=data)
    np.testing.assert_array_equal(X.observed[:, 0], [True, False, True])
    assert np.isnan(X["a"][1]).all() and not np.ma.isMaskedArray(X["a"])
    assert data[1].mask.all()  # the input is untouched


def test_sparse_modality_raises_a_clear_error():
    with pytest.raises(TypeError, match="'a' is a scipy sparse matrix"):
        MultiModalData(a=sparse.csr_matrix(np.eye(3)))


def test_torch_tensors_are_accepted_even_with_grad():
    torch = pytest.importorskip("torch")
    t = torch.ones((3, 2), requires_grad=True)
    X = MultiModalData(a=t, b=torch.zeros((3, 1), dtype=torch.bfloat16))
    assert X["a"].dtype == np.float32 and X["b"].dtype == np.float64
    assert check_multimodal(t).modalities == ("x0",)


def test_integers_float64_cannot_hold_raise():
    big = np.array([[2**53 + 1], [1]], dtype=np.int64)
    with pytest.raises(ValueError, match="'a' holds integers of magnitude above 2\\*\\*53"):
        MultiModalData(a=big)
    with pytest.raises(ValueError, match="2\\*\\*53"):
        MultiModalData(a=np.array([[np.iinfo(np.int64).min]]))
    frame = pd.DataFrame({"u": pd.array([2**60, None], dtype="Int64")})
    with pytest.raises(ValueError, match="'a' holds integers"):
        MultiModalData(a=frame)
    ok = MultiModalData(a=np.array([[2**53], [-(2**53)]]))
    assert ok["a"][0, 0] == 2**53


@pytest.mark.parametrize("name", ["view__1", "img_", "", "a__"])
def test_names_that_cannot_round_trip_are_rejected(name):
    with pytest.raises(ValueError, match="not supported"):
        MultiModalData({name: np.ones((2, 1))})


def test_names_round_trip_through_pandas_output():
    X = MultiModalData({"_img": np.ones((2, 2)), "text_1": np.zeros((2, 1))})
    frame = pd.DataFrame(np.asarray(X), columns=X.get_feature_names())
    assert MultiModalData.from_frame(frame) == X


def test_non_numeric_dtypes_raise_type_errors():
    with pytest.raises(TypeError, match="'a' has non-numeric dtype"):
        MultiModalData(a=np.array([["1.5", "2"]]))
    with pytest.raises(TypeError, match="'a'"):
        MultiModalData(a=np.array([["2020-01-01"]], dtype="datetime64[D]"))
    with pytest.raises(TypeError, match="'a' has columns of non-numeric dtype"):
        MultiModalData(a=pd.DataFrame({"u": pd.array(["x", None], dtype="string")}))


@pytest.mark.parametrize("as_modality", [True, False])
def test_date_columns_are_refused(as_modality):
    from skmm.compose import MissingModalityIndicator

    frame = pd.DataFrame({"t": pd.to_datetime(["2020-01-01", "2020-01-02"])})
    with pytest.raises(TypeError, match="date or time columns"):
        MissingModalityIndicator().fit({"a": frame} if as_modality else frame)


def test_object_columns_holding_pd_na():
    frame = pd.DataFrame({"u": pd.Series([1.0, pd.NA], dtype=object),
                          "v": pd.Series([2.0, pd.NA], dtype=object)})
    X = MultiModalData(a=frame)
    assert X.observed[:, 0].tolist() == [True, False]


@pytest.mark.parametrize(
    "values",
    [
        pd.DataFrame({"i": np.full(3, 2**53 + 1), "f": np.ones(3)}),  # mixed dtypes
        np.full((3, 1), 2**53 + 1, dtype=object),
        pd.DataFrame({"o": pd.Series([2**53 + 1, 1, pd.NA], dtype=object)}),
        [[2**53 + 1, 0.5], [1.0, 2.0], [3.0, 1.0]],  # numpy would round it to float64
        np.array([["1.5"], ["2"], ["3"]], dtype=object),  # strings are not parsed
    ],
)
def test_values_float64_would_change_are_refused(values):
    with pytest.raises(ValueError, match="'a' holds"):
        MultiModalData(a=values)


def test_large_integers_in_2d_inputs_and_under_masks():
    from skmm.compose import MissingModalityIndicator

    with pytest.raises(ValueError, match="'x0' holds"):
        MissingModalityIndicator().fit([[2**53 + 1, 0.5], [1.0, 2.0]])
    wide = np.full((2, 1), np.longdouble(1) + np.finfo(np.longdouble).eps)
    if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps:
        with pytest.raises(ValueError, match="cannot hold exactly"):
            MissingModalityIndicator().fit(wide)
    # the value under a mask is never looked at
    masked = np.ma.masked_array([[2**60], [5], [6]], mask=[[1], [0], [0]])
    assert MultiModalData(a=masked).observed[:, 0].tolist() == [False, True, True]


def test_reordered_or_renamed_columns_at_transform_raise():
    from skmm.compose import ModalitySelector

    a = pd.DataFrame({"x": np.arange(4.0), "y": np.arange(4.0) + 10})
    sel = ModalitySelector().fit({"a": a, "b": np.ones((4, 1))})
    for changed in (a[["y", "x"]], a.rename(columns={"x": "u"})):
        with pytest.raises(ValueError, match="'a' has columns"):
            sel.transform({"a": changed, "b": np.ones((4, 1))})
    # arrays (no column names) are matched by position, as in scikit-learn
    assert sel.transform({"a": a.to_numpy(), "b": np.ones((4, 1))}).n_samples == 4
