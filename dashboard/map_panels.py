"""The latent map page's parts: reading clicks and selections off the maps, a shown user's
movies and direction, the picked movie's card, the selection's summary and the export buttons.
Each takes the dataset as a parameter."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import map_figures, state
from recsys.data import stats
from recsys.explain import explore, projector, recommend

YOU = "you"


def take_map_event(points: pd.DataFrame) -> None:
    """Turn a new click or box/lasso on the movie map into the picked movie or the selection."""
    event = st.session_state.get("movie_map")
    selection = event.get("selection") if event else None
    items, area = explore.selection_items(selection)
    signature = (tuple(items), area)
    if not items or st.session_state.get("_map_event") == signature:
        return
    st.session_state["_map_event"] = signature
    on_map = [i for i in items if i in set(points["item"].tolist())]
    if area or len(on_map) > 1:
        state.choose("map_selection", on_map)
    elif on_map:
        state.choose("picked_movie", on_map[0])


def user_items(model, dataset, who: str) -> tuple[np.ndarray, np.ndarray, int | None, str] | str:
    """(favourites, top-10, dataset user index or None for "you", name) for a dataset user id or
    "you" (the ratings entered under "Rate a few movies yourself" on the Recommendations page),
    or a sentence saying why there is nothing to draw."""
    if who == YOU:
        items = st.session_state.get("_keep_my_movies", [])
        ratings = [st.session_state.get(f"my_rating_{i}", float(dataset.scale.high)) for i in items]
        if not items:
            return "Rate a few movies on the Recommendations page first; they are drawn here as you."
        mine = recommend.for_new_user(model, dataset, items, ratings, 10)
        liked = np.asarray(ratings) >= stats.favourite_threshold(dataset)
        favourites = np.asarray(items)[liked][np.argsort(-np.asarray(ratings)[liked], kind="stable")][:10]
        return favourites, mine.table["item"].to_numpy(), None, "you"
    user = dataset.user_index(who)
    favourites = stats.user_favourites(dataset, user, 10)["item"].to_numpy()
    top = recommend.for_user(model, dataset, user, 10).table["item"].to_numpy()
    return favourites, top, user, f"user {dataset.user_ids[user]}"


def user_direction(model, points: pd.DataFrame, user: int | None):
    """Where a dot-product model's user vector points on the map (None where it has no meaning)."""
    factors = model.factors()
    if user is None or factors is None or not (model.can_fold_in and model.scores_by_dot_product) \
            or not model.knows_user(user):
        return None
    return explore.user_direction(points, factors.users[user])


def tsne_seconds(dataset, min_count: int) -> str:
    """About how long t-SNE takes here for the movies that pass the filter (measured on two cores:
    1.3 s for 500 movies, 2.6 s for 1,000, 5.6 s for 2,000, 13 s for 4,000)."""
    movies = int((np.bincount(dataset.ratings.items, minlength=dataset.n_items) >= min_count).sum())
    seconds = 2.7 * (min(movies, explore.TSNE_MAX_POINTS) / 1000) ** 1.15
    return f"{max(seconds, 1):.0f} s for {min(movies, explore.TSNE_MAX_POINTS):,} movies"


def take_user_event(dataset) -> None:
    """A new click on the user map (read before the controls are drawn): that user is drawn on
    the movie map and becomes the Recommendations page's user."""
    event = st.session_state.get("user_map")
    ids, _ = explore.selection_items(event.get("selection") if event else None)
    if not ids or st.session_state.get("_user_event") == ids[0]:
        return
    st.session_state["_user_event"] = ids[0]
    user_id = dataset.user_ids[dataset.user_index(ids[0])]
    state.choose("map_user", str(user_id))
    state.choose("user", user_id)
    state.choose("user_id_text", str(user_id))
    st.session_state["_user_clicked"] = user_id


def movie_panel(dataset, model, points: pd.DataFrame, picked: int) -> np.ndarray:
    """The picked movie: its nearest neighbours, rating count, mean, histogram and top raters."""
    neighbours, similarity = explore.cosine_neighbours(model.factors().items, picked, 10,
                                                       among=points["item"].to_numpy())
    card = explore.movie_card(dataset, picked)
    st.markdown(f"**Nearest to {card['title']}**")
    a, b = st.columns(2)
    a.metric("Ratings", f"{card['count']:,}")
    b.metric("Mean rating", "n/a" if np.isnan(card["mean"]) else f"{card['mean']:.2f}")
    st.dataframe({"cosine": np.round(similarity, 3), "movie": dataset.titles(neighbours)}, hide_index=True,
                 column_config={"cosine": st.column_config.NumberColumn("cosine", width=60, format="%.3f"),
                                "movie": st.column_config.TextColumn("movie", width="large")})
    st.plotly_chart(map_figures.small_histogram(card["histogram"]), key="picked_histogram")
    st.caption("Rated highest by")
    st.dataframe(card["top_raters"], hide_index=True, key="top_raters")
    return neighbours


def selection_panel(points: pd.DataFrame, selection: list[int]) -> None:
    """The selected region: its movies and their genre mix."""
    table, mix = explore.selection_summary(points, selection)
    if table.empty:
        return
    st.subheader(f"The selection: {len(table):,} movies, mean rating {table['mean_rating'].mean():.2f}")
    left, right = st.columns([3, 2])
    left.dataframe(table.drop(columns="item"), hide_index=True, key="selection_table")
    right.plotly_chart(map_figures.genre_mix(mix), key="selection_mix")


def export_buttons(dataset, model, label: str) -> None:
    """Download buttons for the vectors and their metadata, movies and users."""
    with st.expander("Export the vectors (TensorFlow Embedding Projector format)"):
        st.caption("Load both files at projector.tensorflow.org (Load). The same from the command line: "
                   f"`python -m recsys factors export --dataset {dataset.name} --model {label} --out DIR` "
                   "(add `--users` for user vectors).")
        cols = st.columns(4)
        for col, users in zip((cols[:2], cols[2:]), (False, True)):
            what = "user" if users else "movie"
            # deferred: the text is built when the button is clicked, not on every rerun
            col[0].download_button(f"{what} vectors.tsv", lambda users=users: projector.vectors_tsv(
                projector.projector_tables(dataset, model, users=users)[0]), f"{what}-vectors.tsv",
                key=f"export_{what}_vectors")
            col[1].download_button(f"{what} metadata.tsv", lambda users=users: projector.metadata_tsv(
                projector.projector_tables(dataset, model, users=users)[1]), f"{what}-metadata.tsv",
                key=f"export_{what}_metadata")
