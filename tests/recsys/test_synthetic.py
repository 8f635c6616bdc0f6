import numpy as np
import pytest

from recsys.data.synthetic import synthetic_dataset
from recsys.errors import ConfigError


def test_small_synthetic_has_the_right_shape_and_is_labelled():
    data = synthetic_dataset(20_000, n_users=2_000, n_items=1_000, seed=1)
    assert data.synthetic and data.name.startswith("synthetic-") and "not MovieLens" in data.notes[0]
    assert 19_000 <= data.n_ratings <= 20_000
    pairs = data.ratings.users.astype(np.int64) * data.n_items + data.ratings.items
    assert np.unique(pairs).size == data.n_ratings
    assert set(np.unique(data.ratings.values)) <= set(data.scale.levels.tolist())
    counts = np.sort(np.bincount(data.ratings.items))[::-1]
    assert counts[:10].sum() > 10 * counts[len(counts) // 2]  # long tail
    assert synthetic_dataset(20_000, n_users=2_000, n_items=1_000, seed=1).fingerprint == data.fingerprint


def test_bad_sizes_are_refused():
    with pytest.raises(ConfigError):
        synthetic_dataset(5)
    with pytest.raises(ConfigError, match="half full"):
        synthetic_dataset(1000, n_users=10, n_items=10)
