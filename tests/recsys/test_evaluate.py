import math

import numpy as np
import pytest

from recsys.errors import ConfigError
from recsys.evaluation.evaluate import mae, ranking_metrics, rmse, summarise_folds


def test_rmse_and_mae_known_values():
    assert rmse(np.array([1.0, 3.0]), np.array([2.0, 5.0])) == pytest.approx(math.sqrt(2.5))
    assert mae(np.array([1.0, 3.0]), np.array([2.0, 5.0])) == pytest.approx(1.5)
    with pytest.raises(ConfigError):
        rmse(np.array([]), np.array([]))


def test_ranking_metrics_known_values():
    top = np.array([[1, 2, 3], [4, 5, 6]])
    relevant = [np.array([2, 9]), np.array([7])]
    result = ranking_metrics(top, relevant, n_items=10, k=3)
    assert result.precision == pytest.approx((1 / 3 + 0) / 2)
    assert result.recall == pytest.approx((1 / 2 + 0) / 2)
    ndcg_user0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert result.ndcg == pytest.approx(ndcg_user0 / 2)
    assert result.hit_rate == pytest.approx(0.5)
    assert result.map == pytest.approx((0.5 / 2) / 2)
    assert result.coverage == pytest.approx(0.6)


def test_perfect_list_scores_one():
    result = ranking_metrics(np.array([[3, 1, 2]]), [np.array([1, 2, 3])], n_items=3, k=3)
    assert result.precision == result.recall == result.ndcg == result.map == result.hit_rate == 1.0


def test_summarise_folds_gives_mean_and_spread():
    import pandas as pd

    frame = pd.DataFrame({"model": ["a", "a", "b", "b"], "rmse": [1.0, 3.0, 2.0, 2.0]})
    out = summarise_folds(frame).set_index("model")
    assert out.at["a", "rmse"] == 2.0 and out.at["a", "rmse_std"] == pytest.approx(math.sqrt(2))
    assert out.at["b", "folds"] == 2
