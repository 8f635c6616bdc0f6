"""The mini example reproduces the tutorial: Bob/Beauty Inside about 4.5, Carol/Love Story about 1."""
import numpy as np
import pytest

from recsys.data.readers import MINI_MATRIX
from recsys.explain.mini import factorise


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


@pytest.mark.parametrize("method", ["gd", "als"])
def test_numpy_methods_fill_the_blanks_and_keep_every_step(method):
    from recsys.explain.mini import MiniSettings

    result = factorise(method, settings=MiniSettings(steps=200))
    blanks = result.blanks.set_index(["user", "movie"])["predicted"]
    assert blanks[("Bob", "Beauty Inside")] == pytest.approx(4.5, abs=0.6)
    assert blanks[("Carol", "Love Story")] == pytest.approx(1.0, abs=0.5)
    assert len(result.steps) == (201 if method == "gd" else 51)
    assert result.steps[-1].rmse < result.steps[0].rmse / 4
    last = result.steps[-1]  # the last step is the final factorisation, as shown
    assert np.allclose(last.p @ last.q.T, result.reconstruction.to_numpy())


def test_factors_are_balanced_so_people_and_films_share_one_scale():
    from recsys.explain.mini import balance

    result = factorise("nmf")
    p, q = result.user_factors.to_numpy(), result.movie_factors.to_numpy()
    assert np.allclose(np.linalg.norm(p, axis=0), np.linalg.norm(q, axis=0))
    raw_p, raw_q = np.array([[10.0, 0.1]]), np.array([[0.1, 20.0]])
    bp, bq = balance(raw_p, raw_q)
    assert np.allclose(bp @ bq.T, raw_p @ raw_q.T) and np.allclose(np.abs(bp), np.abs(bq))


@pytest.mark.parametrize("method", ["gd", "als"])
def test_the_steps_replay_the_factorisation_and_say_what_they_did(method):
    from recsys.explain.mini import frame_steps, step_sentence

    result = factorise(method)
    last = result.steps[-1]
    assert np.allclose(last.p, result.user_factors.to_numpy()) and np.allclose(last.q, result.movie_factors.to_numpy())
    assert np.allclose(last.p @ last.q.T, result.reconstruction.to_numpy())  # the final frame is the answer
    frames = frame_steps(len(result.steps))
    assert frames[0] == 0 and frames[-1] == len(result.steps) - 1 and frames == sorted(set(frames))
    assert len(frames) <= 60
    assert "random" in step_sentence(method, 0, result.steps)
    words = step_sentence(method, 1, result.steps)
    assert ("solved exactly" in words) == (method == "als") and "RMSE" in words


def test_a_long_descent_keeps_its_early_steps_densely():
    from recsys.explain.mini import frame_steps

    frames = frame_steps(1001)
    assert frames[:6] == [0, 1, 2, 3, 4, 5] and frames[-1] == 1000 and len(frames) <= 60
    assert frame_steps(10) == list(range(10))
