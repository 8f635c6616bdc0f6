"""The mini example reproduces the tutorial: Bob/Beauty Inside about 4.5, Carol/Love Story about 1."""
import numpy as np
import pytest

from recsys.mini import factorise
from recsys.readers import MINI_MATRIX


@pytest.mark.parametrize("model", ["nmf", "mf"])
def test_blanks_are_predicted_like_the_tutorial(model):
    result = factorise(model)
    blanks = result.blanks.set_index(["user", "movie"])["predicted"]
    assert blanks[("Bob", "Beauty Inside")] == pytest.approx(4.5, abs=0.5)
    assert blanks[("Carol", "Love Story")] == pytest.approx(1.0, abs=0.5)
    assert result.movie_factors.shape == (5, 2) and result.user_factors.shape == (4, 2)
    # the first factor is the romance axis: romance films load on it more than sci-fi films
    q = result.movie_factors
    assert q.loc[["Beauty Inside", "La La Land", "Love Story"], "romance"].min() > \
        q.loc[["Matrix", "Star Wars"], "romance"].max()
    known = ~np.isnan(MINI_MATRIX)
    assert np.abs(result.reconstruction.to_numpy()[known] - MINI_MATRIX[known]).max() < 0.6


def test_an_edited_grid_refactorises():
    grid = MINI_MATRIX.copy()
    grid[0, 3] = np.nan  # hide Alice / Matrix
    result = factorise("nmf", grid)
    assert len(result.blanks) == 3
    assert result.blanks.set_index(["user", "movie"]).at[("Alice", "Matrix"), "predicted"] < 2.5
