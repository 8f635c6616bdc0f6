"""Intervals, paired tests, Holm, segments and beyond-accuracy measures on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.cli import main
from recsys.data.split import Split
from recsys.evaluation import beyond_accuracy as ba
from recsys.evaluation import confidence
from recsys.evaluation.compare import comparison, user_versus
from recsys.models import make_model


def _sums(label: str, errors_per_user: list[list[float]], ndcg: list[float] | None = None) -> confidence.UserSums:
    n = np.array([len(e) for e in errors_per_user], float)
    sse = np.array([np.sum(np.square(e)) for e in errors_per_user])
    sae = np.array([np.sum(np.abs(e)) for e in errors_per_user])
    users = np.arange(len(errors_per_user))
    ndcg = np.asarray(ndcg if ndcg is not None else np.linspace(0, 1, len(errors_per_user)))
    return confidence.UserSums(label, users, n, sse, sae, np.arange(ndcg.size), {"ndcg": ndcg})


def test_the_value_is_the_plain_metric_and_the_interval_narrows_with_more_users():
    rng = np.random.default_rng(1)
    small = _sums("m", [list(rng.normal(0, 1, 5)) for _ in range(30)])
    large = _sums("m", [list(rng.normal(0, 1, 5)) for _ in range(3000)])
    table = confidence.intervals([small], ("rmse", "mae", "ndcg"))
    assert table.loc[0, "rmse"] == pytest.approx(np.sqrt(small.sse.sum() / small.n.sum()))
    assert table.loc[0, "mae"] == pytest.approx(small.sae.sum() / small.n.sum())
    assert table.loc[0, "rmse_low"] < table.loc[0, "rmse"] < table.loc[0, "rmse_high"]
    wide = confidence.intervals([small], ("rmse",))
    narrow = confidence.intervals([large], ("rmse",))
    assert (narrow.rmse_high - narrow.rmse_low)[0] < (wide.rmse_high - wide.rmse_low)[0] / 5
    again = confidence.intervals([small], ("rmse",))
    assert again.equals(wide), "seeded: the same interval every time"


def test_a_model_against_itself_differs_by_nothing_with_p_one():
    a = _sums("a", [[0.5, -1.0], [2.0], [0.1, 0.2, 0.3]])
    b = confidence.UserSums("b", a.rating_users, a.n, a.sse, a.sae, a.ranked_users, a.topk)
    pairs = confidence.pairs([a, b], ("rmse", "ndcg"))
    assert (pairs["diff"] == 0).all() and (pairs["low"] == 0).all() and (pairs["high"] == 0).all()
    assert (pairs["p"] == 1).all() and (pairs["p_holm"] == 1).all()
    assert "cannot be told apart" in confidence.verdict(pairs.iloc[0])


def test_a_clearly_better_model_wins_in_words():
    rng = np.random.default_rng(2)
    noise = [list(rng.normal(0, 1, 8)) for _ in range(200)]
    good = _sums("good", [[v * 0.5 for v in e] for e in noise], ndcg=list(rng.uniform(0.4, 0.6, 200)))
    bad = _sums("bad", noise, ndcg=list(rng.uniform(0.1, 0.3, 200)))
    pairs = confidence.pairs([good, bad], ("rmse", "ndcg"))
    rmse = pairs[pairs.metric == "rmse"].iloc[0]
    assert rmse["diff"] < 0 and rmse["high"] < 0 and confidence.holds(rmse)
    sentence = confidence.verdict(rmse)
    assert sentence.startswith("good beats bad by ") and "RMSE" in sentence and "p < 0.001 after Holm" in sentence
    assert confidence.verdict(pairs[pairs.metric == "ndcg"].iloc[0]).startswith("good beats bad by ")


def test_holm_multiplies_the_ordered_p_values_and_keeps_them_monotone():
    assert confidence.holm(np.array([0.01, 0.04, 0.03])) == pytest.approx([0.03, 0.06, 0.06])
    assert confidence.holm(np.array([0.5, 0.9])) == pytest.approx([1.0, 1.0])


def test_fold_interval_is_a_t_interval():
    mean, low, high = confidence.fold_interval(np.array([0.80, 0.82, 0.84, 0.86, 0.88]))
    half = 2.7764451 * np.std([0.80, 0.82, 0.84, 0.86, 0.88], ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert mean == pytest.approx(0.84) and low == pytest.approx(0.84 - half) and high == pytest.approx(0.84 + half)
    assert np.isnan(confidence.fold_interval(np.array([0.8]))[1])


def test_models_scored_on_other_users_are_refused():
    from recsys.errors import ConfigError

    with pytest.raises(ConfigError, match="same users"):
        confidence.replicates([_sums("a", [[1.0], [2.0]]), _sums("b", [[1.0]])], ("rmse",))


def test_beyond_accuracy_on_hand_made_lists():
    same = np.array([[0, 1], [0, 1], [0, 1]])
    apart = np.array([[0, 1], [2, 3], [4, 5]])
    assert ba.personalisation(same) == pytest.approx(0.0) and ba.personalisation(apart) == pytest.approx(1.0)
    assert ba.coverage(apart, 10) == pytest.approx(0.6)
    assert ba.gini(apart, 6) == pytest.approx(0.0)  # every item shown equally often
    assert ba.gini(np.array([[0], [0], [0]]), 4) == pytest.approx(0.75)  # (n - 1) / n
    assert ba.novelty(np.array([[0]]), np.array([4.0, 1.0]), 4) == pytest.approx(0.0)  # everyone rated it
    assert ba.novelty(np.array([[1]]), np.array([4.0, 1.0]), 4) == pytest.approx(2.0)
    genres = [{"Drama"}, {"Drama"}, {"Comedy"}, {"Comedy", "Drama"}]
    assert ba.diversity(np.array([[0, 1]]), genres) == pytest.approx(0.0)
    assert ba.diversity(np.array([[0, 2]]), genres) == pytest.approx(1.0)
    assert ba.diversity(np.array([[0, 3]]), genres) == pytest.approx(0.5)
    pop = np.array([80.0, 10.0, 5.0, 5.0])
    assert list(ba.head_items(pop)) == [0]
    assert ba.aplt(np.array([[0, 1]]), pop) == pytest.approx(0.5) and ba.arp(np.array([[0, 1]]), pop) == pytest.approx(45.0)


def test_most_popular_exposes_few_movies_and_no_long_tail(ml100k):
    train, test = Split("official", name="u1").apply(ml100k)
    model = make_model("popular")
    model.fit(train)
    from recsys.evaluation.evaluate import evaluate

    row = evaluate(model, train, test)
    assert row["gini"] > 0.98 and row["aplt"] == 0.0 and row["personalisation"] < 0.6  # lists differ only by seen movies
    assert np.isnan(row["rmse"]) and row["ndcg"] > 0.05


def test_comparison_on_a_real_split_and_the_user_by_user_view(ml100k):
    split = Split("holdout", fraction=0.2, seed=42)
    train, _ = split.apply(ml100k)
    models = {}
    for label in ("biases", "global-mean", "popular"):
        models[label] = make_model(label)
        models[label].fit(train)
    result = comparison(ml100k, split, models, resamples=200)
    table = result.models.set_index("model")
    assert table.loc["biases", "rmse_low"] < table.loc["biases", "rmse"] < table.loc["biases", "rmse_high"]
    assert np.isnan(table.loc["popular", "rmse"]) and table.loc["popular", "gini"] > 0.98
    assert set(result.pairs.metric) == {"rmse", "ndcg"} and (result.pairs.p_holm >= result.pairs.p).all()
    kinds = set(result.segments.kind)
    assert kinds == {"user activity", "movie popularity", "primary genre", "row group", "age", "gender", "occupation"}
    gender = result.segments[(result.segments.model == "biases") & (result.segments.kind == "gender")]
    assert gender["n"].sum() == len(result.scored["biases"].rows) and gender["ndcg"].notna().all()  # every row, a group
    activity = result.segments[(result.segments.model == "biases") & (result.segments.kind == "user activity")]
    assert activity["n"].sum() == len(result.scored["biases"].rows) and activity["ndcg"].notna().all()
    versus = user_versus(result.scored["global-mean"], result.scored["biases"], ml100k.user_ids)
    assert len(versus) == result.scored["biases"].sums.rating_users.size and (versus["change"] < 0).mean() > 0.5


def test_the_compare_command_prints_and_writes_both_tables(tmp_path, capsys):
    assert main(["compare", "--dataset", "ml-100k", "--models", "biases,global-mean", "--resamples", "200",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "biases beats global-mean by" in out and "rmse_low" in out
    models = pd.read_csv(tmp_path / "models.csv")
    pairs = pd.read_csv(tmp_path / "pairs.csv")
    assert {"rmse", "rmse_low", "rmse_high", "ndcg", "ndcg_low", "ndcg_high", "gini", "aplt", "novelty",
            "diversity", "personalisation", "coverage", "arp"} <= set(models.columns)
    assert list(pairs.columns) == ["a", "b", "metric", "diff", "low", "high", "p", "p_holm"]


def test_pairs_over_folds_are_paired_by_fold():
    import pandas as pd

    from recsys.evaluation.confidence import fold_pairs, holds

    frame = pd.DataFrame({"model": ["a"] * 5 + ["b"] * 5 + ["c"] * 5,
                          "split": [f"fold{i}" for i in range(5)] * 3,
                          "rmse": [0.90, 0.92, 0.88, 0.95, 0.91,  # b is a plus 0.01 on every fold: holds
                                   0.910, 0.932, 0.889, 0.961, 0.920,
                                   0.95, 0.87, 0.93, 0.90, 0.91]})  # c wanders around a: does not hold
    pairs = fold_pairs(frame, ("rmse", "ndcg")).set_index(["a", "b"])
    assert len(pairs) == 3 and set(pairs["metric"]) == {"rmse"}  # no ndcg column: no ndcg pairs
    ab = pairs.loc[("a", "b")]
    assert ab["diff"] == pytest.approx(-0.0104) and holds(ab)
    assert not holds(pairs.loc[("a", "c")])
    assert (pairs["p_holm"] >= pairs["p"]).all()


def test_segments_run_from_least_to_most(ml100k):
    from recsys.evaluation.compare import ACTIVITY_NAMES, POPULARITY_NAMES

    split = Split("official", name="u1")
    train, _ = split.apply(ml100k)
    model = make_model("biases")
    model.fit(train)
    result = comparison(ml100k, split, {"biases": model}, resamples=50)
    segments = result.segments
    popularity = segments[segments["kind"] == "movie popularity"]["segment"].tolist()
    assert popularity == [p for p in POPULARITY_NAMES if p in popularity] and len(popularity) == 4
    activity = segments[segments["kind"] == "user activity"]["segment"].tolist()
    assert activity == [a for a in ACTIVITY_NAMES if a in activity]
    ages = segments[(segments["kind"] == "age") & (segments["model"] == "biases")]["segment"].tolist()
    assert ages == ["under 18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"]
