import numpy as np
import pytest

from skmm.datasets import load_nutrimouse


def test_views_shapes_and_feature_names():
    bunch = load_nutrimouse()
    X = bunch.data
    assert X.modalities == ("gene", "lipid")
    assert X.n_features == {"gene": 120, "lipid": 21}
    assert X.shape == (40, 141)
    gene, lipid = bunch.feature_names["gene"], bunch.feature_names["lipid"]
    assert gene[:3] == ["X36b4", "ACAT1", "ACAT2"] and "PPARa" in gene
    assert len(set(gene)) == 120 and len(set(lipid)) == 21
    assert lipid[0] == "C14.0" and lipid[-1] == "C22.6n.3"
    # the fatty acids are shares of the total
    np.testing.assert_allclose(X["lipid"].sum(axis=1), 100, atol=0.05)
    assert "Martin" in bunch.DESCR and "10.18637/jss.v023.i12" in bunch.DESCR
    assert "MIT" in bunch.DESCR and "GPL" in bunch.DESCR


def test_genotype_target():
    bunch = load_nutrimouse()
    assert bunch.target.dtype == np.int64
    assert bunch.target_names.tolist() == ["wt", "ppar"]
    # published order: the 20 wild-type mice first
    np.testing.assert_array_equal(bunch.target, np.repeat([0, 1], 20))


def test_diet_target_is_balanced_within_genotypes():
    genotype = load_nutrimouse(return_X_y=True)[1]
    bunch = load_nutrimouse(target="diet")
    assert bunch.target_names.tolist() == ["coc", "fish", "lin", "ref", "sun"]
    assert bunch.target.dtype == np.int64
    counts = np.zeros((2, 5), dtype=int)
    np.add.at(counts, (genotype, bunch.target), 1)
    np.testing.assert_array_equal(counts, np.full((2, 5), 4))
    assert bunch.target[:3].tolist() == [2, 4, 4]  # lin, sun, sun
    # the views do not depend on the target chosen
    np.testing.assert_array_equal(np.asarray(bunch.data),
                                  np.asarray(load_nutrimouse().data))


def test_shuffled_targets_follow_the_same_permutation():
    _, genotype = load_nutrimouse(return_X_y=True)
    _, diet = load_nutrimouse(target="diet", return_X_y=True)
    _, gs = load_nutrimouse(return_X_y=True, shuffle=True, random_state=7)
    _, ds = load_nutrimouse(target="diet", return_X_y=True, shuffle=True, random_state=7)
    order = np.random.RandomState(7).permutation(40)
    np.testing.assert_array_equal(gs, genotype[order])
    np.testing.assert_array_equal(ds, diet[order])


@pytest.mark.parametrize("target", ["Genotype", "sex", None, 0])
def test_bad_target(target):
    with pytest.raises(ValueError, match="target must be one of 'genotype', 'diet'"):
        load_nutrimouse(target=target)
