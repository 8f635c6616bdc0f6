"""Figure builders are pure functions: tested without Streamlit."""
import numpy as np
import pandas as pd
import pytest

from dashboard import figure_base, figures, map_figures
from recsys.data import stats
from recsys.explain.mini import factorise


def test_dataset_figures(ml_small):
    hist = stats.rating_histogram(ml_small)
    fig = figures.rating_histogram(hist)
    assert len(fig.data) == 1 and list(fig.data[0].y) == hist["count"].tolist()
    assert len(hist) == 10 and hist["count"].sum() == ml_small.n_ratings
    tail = figures.long_tail(stats.counts_per(ml_small, "user"), "user")
    assert tail.layout.yaxis.type == "log" and len(tail.data[0].y) == 610
    genres = figures.genre_bars(stats.genre_table(ml_small))
    assert [t.name for t in genres.data] == ["ratings", "mean rating"]
    times = figures.ratings_over_time(stats.ratings_over_time(ml_small))
    assert times.data[0].y.sum() == ml_small.n_ratings


def test_matrix_figures(ml_small):
    binned = stats.binned_matrix(ml_small, 50, 80)
    assert binned.shape == (50, 80) and 0 <= binned.min() and binned.max() <= 1
    # the busiest corner is denser than the average
    assert binned[0, 0] > ml_small.density
    fig = figures.matrix_density(binned, ml_small.n_users, ml_small.n_items)
    assert fig.data[0].z.shape == (50, 80)
    users, items = stats.activity_order(ml_small)
    window = stats.matrix_window(ml_small, users[:5], items[:7])
    assert window.shape == (5, 7) and window.notna().to_numpy().sum() > 0
    assert figures.matrix_window(window).data[0].z.shape == (5, 7)


def test_training_curves_have_loss_and_rmse():
    history = pd.DataFrame({"epoch": [1, 2], "epochs": [2, 2], "loss": [1.0, 0.8], "val_loss": [1.1, 0.9],
                            "val_rmse": [1.0, 0.95], "seconds": [0.1, 0.1]})
    fig = figures.training_curves(history)
    assert [t.name for t in fig.data] == ["train loss", "validation loss", "validation RMSE"]


def test_latent_and_profile_figures():
    points = pd.DataFrame({"item": [0, 1, 2, 3], "x": [0, 1, 2, 3], "y": [1, 0, 1, 0], "title": list("abcd"),
                           "year": [2000] * 4, "mean_rating": [3.0] * 4, "count": [5, 6, 7, 8],
                           "genres": ["Drama"] * 4, "genre": ["Drama", "Drama", "Comedy", "Comedy"]})
    fig = map_figures.latent_map(points, "map", highlight=np.array([1, 2]), selected=0)
    names = [t.name for t in fig.data]
    assert "nearest neighbours" in names and "picked movie" in names
    assert len([t for t in fig.data if t.name == "nearest neighbours"][0].x) == 2
    profile = pd.DataFrame({"group": ["favourites", "recommendations"], "genre": ["Drama", "Drama"], "share": [0.5, 0.7]})
    assert len(map_figures.genre_profile(profile).data) == 2


def test_mini_figures():
    result = factorise("nmf")
    fig = figures.mini_factor_map(result.user_factors, result.movie_factors, "mini")
    assert fig.layout.xaxis.title.text == "romance" and fig.layout.yaxis.title.text == "sci-fi"
    assert len(fig.data[0].x) == 5 and len(fig.data[1].x) == 4
    heat = figures.rating_heatmap(result.reconstruction, "recon", np.isnan(result.reconstruction.to_numpy()))
    assert heat.data[0].z.shape == (4, 5)


def test_comparison_figures():
    from dashboard import compare_figures as cf

    table = pd.DataFrame({"model": ["a", "b"], "rmse": [0.9, 0.85], "rmse_low": [0.88, 0.80], "rmse_high": [0.93, 0.9],
                          "mae": [0.7, 0.65], "precision": [0.1, 0.2], "recall": [0.1, 0.2], "ndcg": [0.1, 0.2],
                          "fit_seconds": [1.0, 2.0]})
    bars = cf.interval_bars(table, ("rmse", "mae"), "error", "error")
    assert [t.name for t in bars.data] == ["RMSE", "MAE"]
    assert list(bars.data[0].error_y.array) == pytest.approx([0.03, 0.05])
    assert list(bars.data[0].error_y.arrayminus) == pytest.approx([0.02, 0.05]) and bars.data[1].error_y.array is None
    assert len(cf.interval_bars(table, ("ndcg", "precision", "recall"), "top", "top").data) == 3
    pairs = pd.DataFrame({"a": ["a"], "b": ["b"], "metric": ["rmse"], "diff": [0.05], "low": [0.01], "high": [0.09],
                          "p": [0.01], "p_holm": [0.01]})
    forest = cf.forest(pairs, pd.Series([True]), "rmse")
    assert forest.data[0].marker.color[0] == cf.HOLDS and list(forest.data[0].y) == ["a − b"]
    curves = figures.overlaid_curves({"a": pd.DataFrame({"epoch": [1, 2], "val_rmse": [1.0, 0.9]})})
    assert len(curves.data) == 1
    assert list(figures.fit_time_bars(table).data[0].y) == [1.0, 2.0]


def test_group_summary_names_each_group_with_its_error():
    from dashboard.figures import group_summary

    text = group_summary({"n_warm": 1310, "rmse_warm": 0.9, "n_new_user": 18247, "rmse_new_user": 1.01,
                          "n_new_item": 0, "rmse_new_item": float("nan")})
    assert text.startswith("Test rows: 1,310 warm (RMSE 0.9000), 18,247 of new users (RMSE 1.0100), 0 of new movies.")


def test_ranked_curves_are_thinned_log_spaced_and_keep_both_ends():
    from dashboard.figures import long_tail, thinned_ranks

    assert thinned_ranks(50).tolist() == list(range(50))
    ranks = thinned_ranks(162_541)
    assert ranks[0] == 0 and ranks[-1] == 162_540 and len(ranks) <= 2001 and (np.diff(ranks) > 0).all()
    assert (ranks < 100).sum() > 50  # the head, where the curve bends, keeps its detail
    counts = pd.Series(np.sort(np.random.default_rng(0).integers(1, 1000, 162_541))[::-1])
    trace = long_tail(counts, "user").data[0]
    assert len(trace.x) == len(ranks) and trace.y[-1] == counts.iloc[-1]


def test_latent_maps_draw_with_webgl():
    from dashboard.map_figures import latent_map, user_map

    points = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.5], "item": [0, 1, 2], "title": list("abc"),
                           "genre": ["Drama", "Comedy", "Drama"], "count": [5, 6, 7]})
    assert {trace.type for trace in latent_map(points, "t", highlight=np.array([1]), selected=0).data} == {"scattergl"}
    users = pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 0.0], "user": [1, 2], "count": [3, 4], "mean_rating": [3.5, 4.0]})
    assert {trace.type for trace in user_map(users, "u").data} == {"scattergl"}


def test_matrix_window_holds_exactly_the_rated_cells(ml_small):
    rng = np.random.default_rng(3)
    users = rng.choice(ml_small.n_users, 12, replace=False)
    items = np.argsort(-np.bincount(ml_small.ratings.items))[:30]
    window = stats.matrix_window(ml_small, users, items).to_numpy()
    r = ml_small.ratings
    for row, user in enumerate(users):
        for col, item in enumerate(items):
            rated = r.values[(r.users == user) & (r.items == item)]
            assert (window[row, col] == rated[0]) if rated.size else np.isnan(window[row, col])


def test_charts_read_as_people_expect(ml_small):
    """Log axes tick 1, 10, 100, ...; the binned matrix counts users and movies, not bins; an empty
    or degenerate input says so in words; cut titles stay distinct."""
    tail = figures.long_tail(stats.counts_per(ml_small, "item"), "movie")
    assert list(tail.layout.xaxis.tickvals) == [1, 10, 100, 1000] and tail.layout.xaxis.type == "log"
    binned = stats.binned_matrix(ml_small)
    density = figures.matrix_density(binned, ml_small.n_users, ml_small.n_items)
    assert density.data[0].x[0] == 1 and density.data[0].x[-1] > 9000 and density.data[0].y[-1] > 600 - 10
    for empty in (figures.genre_bars(pd.DataFrame(columns=["genre", "movies", "ratings", "mean_rating"])),
                  figures.ratings_over_time(pd.DataFrame(columns=["period", "ratings", "mean_rating"])),
                  figures.overlaid_curves({"ease": pd.DataFrame(columns=["epoch", "val_rmse"])})):
        assert not empty.data and empty.layout.annotations[0].text and not empty.layout.xaxis.visible
        lines = empty.layout.annotations[0].text.split("<br>")  # Plotly does not wrap: lines that fit half a page
        assert all(len(line) <= figure_base.EMPTY_MESSAGE_WIDTH for line in lines)
    assert len(figures.overlaid_curves({}).layout.annotations[0].text.split("<br>")) > 1
    titles = ["Shawshank Redemption, The (1994)", "Shawshank Redemption, The (1995)", "Up (2009)"]
    short = figure_base.short_titles(titles, width=20)
    assert len(set(short)) == 3 and short[0].endswith("…") and short[2] == "Up (2009)"


def test_map_markers_and_colours_are_visible_and_distinct(ml_small):
    colours = figure_base.genre_colours(["Comedy", "Musical", "Mystery", "Animation", "Drama", "Romance"])
    assert len(set(colours.values())) == 6 and colours["Comedy"] != colours["Musical"] != colours["Mystery"]
    points = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.5], "item": [0, 1, 2], "count": [5, 50, 500],
                           "title": ["a", "b", "c"], "genre": ["Comedy", "Musical", "Mystery"],
                           "genres": ["Comedy", "Musical", "Mystery"], "mean_rating": [3.0, 3.5, 4.25],
                           "year": [1990, 2000, 2010]})
    fig = map_figures.latent_map(points, "map", highlight=np.array([1]), selected=0)
    ring = next(t for t in fig.data if t.name == "nearest neighbours")
    assert ring.marker.color == "black" and "rgba(0,0,0,0)" not in str(ring.marker)
    assert all("size=" not in (t.hovertemplate or "") for t in fig.data)  # no raw marker sizes in hovers
    assert any(":.2f" in (t.hovertemplate or "") for t in fig.data)  # the mean rating to two decimals


def test_best_so_far_steps_down_for_errors_and_up_for_rankings():
    from dashboard import compare_figures as cf

    trials = pd.DataFrame({"trial": [0, 1, 2, 3], "state": ["complete", "pruned", "complete", "complete"],
                           "value": [0.9, None, 0.95, 0.85]})
    fig = cf.best_so_far(trials, "rmse")
    assert list(fig.data[0].x) == [0, 2, 3] and list(fig.data[1].y) == [0.9, 0.9, 0.85]
    assert list(cf.best_so_far(trials, "ndcg").data[1].y) == [0.9, 0.95, 0.95]
    assert "No trial" in cf.best_so_far(trials.iloc[:0], "rmse").layout.annotations[0].text


def test_the_mini_animation_has_a_frame_per_step_on_fixed_axes():
    from dashboard import mini_figures
    from recsys.explain.mini import factorise, frame_steps, step_sentence

    result = factorise("als")
    frames = frame_steps(len(result.steps))
    fig = mini_figures.mini_animation(result.steps, frames, {i: step_sentence("als", i, result.steps) for i in frames})
    assert [f.name for f in fig.frames] == [str(i) for i in frames] and len(fig.frames[0].data) == 5
    assert fig.layout.sliders[0].steps[-1].label == str(frames[-1])
    assert "Step 0" in fig.frames[0].layout.title.text and "solved exactly" in fig.frames[1].layout.annotations[-1].text
    still = mini_figures.mini_step(result.steps, frames[-1])
    assert still.layout.xaxis.range == fig.layout.xaxis.range, "every frame on the same axes"
    html = mini_figures.animation_html(fig)
    assert "<html>" in html[:100] and "plotly" in html.lower() and "addFrames" in html


def test_the_moving_map_keeps_one_frame_per_epoch_on_fixed_axes_with_trails():
    from dashboard import learning_figures as lf

    rng = np.random.default_rng(3)
    frames = [rng.normal(size=(40, 2)) * (1 + e) for e in range(4)]
    titles = [lf.frame_title(e + 1, "fit", 0.9 - e / 10, 4) for e in range(4)]
    fig = lf.moving_map(frames, titles, ["Drama"] * 20 + ["Comedy"] * 20, [f"m{i}" for i in range(40)], [0, 5], "map")
    assert len(fig.frames) == 4 and fig.layout.xaxis.range[1] >= max(f[:, 0].max() for f in frames)
    trail = fig.frames[2].data[2]
    assert np.isnan(np.asarray(trail.x, dtype=float)).sum() == 2 and len(trail.x) == 2 * 3 + 2  # 2 movies x 3 epochs
    assert "epoch 3 of 4 · validation RMSE 0.7000" in fig.frames[2].layout.title.text
    assert lf.frame_title(2, "refit", None, 4) == "epoch 2 of the refit on all training data"
    assert fig.frames[2].layout.title.text.startswith("map<br>")  # the epoch on its own line: no title cut off
    live = lf.moving_map(frames[-1:], [lf.live_title(5, "fit", 0.8482)], ["Drama"] * 40, [f"m{i}" for i in range(40)],
                         [], "Movie vectors now")
    assert not live.frames and not live.layout.sliders  # one map, redrawn as a whole
    assert live.layout.title.text == "Movie vectors now<br><sup>epoch 5 · validation RMSE 0.8482</sup>"


def test_the_map_colours_by_posterior_spread_or_says_the_model_has_none():
    points = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.5], "item": [0, 1, 2], "count": [5, 50, 500],
                           "title": ["a", "b", "c"], "genre": ["Comedy", "Drama", "Drama"],
                           "genres": ["Comedy", "Drama", "Drama"], "mean_rating": [3.0, 3.5, 4.25],
                           "year": [1990, 2000, 2010]})
    bare = map_figures.latent_map(points, "map", colour_by="posterior spread")
    assert bare.data[0].name == map_figures.NO_SPREAD  # a non-Bayesian model: one grey group that says why
    spread = map_figures.latent_map(points.assign(spread=[0.1, 0.20004, 0.3]), "map", colour_by="posterior spread")
    assert list(spread.data[0].marker.color) == [0.1, 0.2, 0.3]  # three decimals, in the hover too
    assert spread.layout.coloraxis.colorbar.title.text == "posterior spread"
    assert "posterior spread=" in spread.data[0].hovertemplate


def test_the_learning_map_names_its_genres_spreads_its_labels_and_says_its_basis():
    """Issue 33: a genre legend, labels that do not pile on each other, and an axis that does not
    speak of final vectors while training runs."""
    from dashboard import learning_figures as lf

    rng = np.random.default_rng(4)
    frames = [rng.normal(size=(40, 2)) for _ in range(3)]
    long = "A Very Long Title That Would Cover Its Neighbours (1999)"
    fig = lf.moving_map(frames, ["a", "b", "c"], ["Drama"] * 20 + ["Comedy"] * 20, [long] + [f"m{i}" for i in range(39)],
                        [0, 1, 2], "map")
    legend = [trace.name for trace in fig.data if trace.showlegend is not False]
    assert legend == ["Comedy", "Drama"]
    labels = fig.data[1]
    assert len(set(labels.textposition)) == 3 and len(labels.text[0]) <= lf.LABEL_CHARS and labels.text[0].endswith("…")
    assert "final vectors" in fig.layout.xaxis.title.text
    live = lf.moving_map(frames[-1:], ["now"], ["Drama"] * 40, [f"m{i}" for i in range(40)], [], "Movie vectors now")
    assert "final" not in live.layout.xaxis.title.text and "so far" in live.layout.xaxis.title.text


def test_the_mini_animations_sentence_is_wrapped_to_fit():
    from dashboard import mini_figures
    from recsys.explain.mini import factorise, frame_steps, step_sentence

    result = factorise("gd")
    frames = frame_steps(len(result.steps))
    fig = mini_figures.mini_animation(result.steps, frames, {i: step_sentence("gd", i, result.steps) for i in frames})
    note = fig.frames[1].layout.annotations[-1].text
    assert "<br>" in note and all(len(line) <= mini_figures.NOTE_WIDTH for line in note.split("<br>"))


def test_fold_intervals_stay_inside_a_numbers_range():
    from recsys.evaluation.compare import fold_table

    frame = pd.DataFrame({"model": ["a"] * 5, "split": [f"f{i}" for i in range(5)],
                          "aplt": [0.0, 0.0, 0.01, 0.0, 0.05], "rmse": [0.9, 0.91, 0.92, 0.9, 0.93]})
    table = fold_table(frame)
    assert table["aplt_low"].iloc[0] == 0.0 and table["aplt_high"].iloc[0] > 0.0  # a t-interval would go below 0
    assert table["rmse_low"].iloc[0] > 0.85
