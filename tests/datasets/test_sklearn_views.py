import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from skmm.datasets import load_breast_cancer_views, load_diabetes_views, load_digits_views


def test_breast_cancer_views_are_the_original_columns():
    original = load_breast_cancer()
    bunch = load_breast_cancer_views()
    X = bunch.data
    assert X.modalities == ("mean", "error", "worst")
    assert X.n_features == {"mean": 10, "error": 10, "worst": 10}
    assert X.shape == (569, 30)
    assert all(n.startswith("mean ") for n in bunch.feature_names["mean"])
    assert all(n.endswith(" error") for n in bunch.feature_names["error"])
    assert all(n.startswith("worst ") for n in bunch.feature_names["worst"])
    # the same 10 quantities in each view, in the same order
    stems = [n[len("mean "):] for n in bunch.feature_names["mean"]]
    assert [n[:-len(" error")] for n in bunch.feature_names["error"]] == stems
    assert [n[len("worst "):] for n in bunch.feature_names["worst"]] == stems
    stacked = np.hstack([X[m] for m in X.modalities])
    np.testing.assert_array_equal(stacked, original.data)
    assert sum(bunch.feature_names.values(), []) == list(original.feature_names)
    assert bunch.target.dtype == np.int64
    np.testing.assert_array_equal(bunch.target, original.target)
    assert bunch.target_names.tolist() == ["malignant", "benign"]
    np.testing.assert_array_equal(np.bincount(bunch.target), [212, 357])
    assert "Street" in bunch.DESCR and original.DESCR in bunch.DESCR


def test_digits_views_are_the_image_quadrants():
    original = load_digits()
    bunch = load_digits_views()
    X = bunch.data
    assert X.modalities == ("top_left", "top_right", "bottom_left", "bottom_right")
    assert X.n_features == dict.fromkeys(X.modalities, 16)
    assert X.shape == (1797, 64)
    images = original.images  # (n, 8, 8)
    quadrants = {
        "top_left": images[:, :4, :4], "top_right": images[:, :4, 4:],
        "bottom_left": images[:, 4:, :4], "bottom_right": images[:, 4:, 4:],
    }
    for m, block in quadrants.items():
        np.testing.assert_array_equal(X[m], block.reshape(len(images), 16))
    # the views, stacked, hold each original column once
    columns = [list(original.feature_names).index(n)
               for m in X.modalities for n in bunch.feature_names[m]]
    assert sorted(columns) == list(range(64))
    np.testing.assert_array_equal(np.asarray(X), original.data[:, columns])
    assert bunch.feature_names["bottom_right"][0] == "pixel_4_4"
    assert bunch.feature_names["bottom_left"][-1] == "pixel_7_3"
    assert bunch.target.dtype == np.int64
    np.testing.assert_array_equal(bunch.target, original.target)
    assert bunch.target_names.tolist() == [str(d) for d in range(10)]
    assert "Alpaydin" in bunch.DESCR


def test_diabetes_views_are_the_original_columns():
    original = load_diabetes()
    bunch = load_diabetes_views()
    X = bunch.data
    assert X.modalities == ("clinical", "serum")
    assert bunch.feature_names == {
        "clinical": ["age", "sex", "bmi", "bp"],
        "serum": ["s1", "s2", "s3", "s4", "s5", "s6"],
    }
    np.testing.assert_array_equal(np.asarray(X), original.data)  # scaled, unchanged
    assert bunch.target.dtype == np.float64
    np.testing.assert_array_equal(bunch.target, original.target)
    assert "target_names" not in bunch
    assert "Efron" in bunch.DESCR
