"""The latent map as an explorer: movies (and users) in 2-D or 3-D; click a movie for its
neighbours and ratings, box or lasso a region for its genre mix, search a title, colour by any
metadata, draw a user's favourites, top-10 and direction, and export the vectors."""
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import figures, services
from recsys import explore, projector, recommend, stats
from recsys.catalog import DEFAULT_FACTOR_MODEL, map_labels
from recsys.errors import RecsysError

PICKER_MAX = 5_000  # a drop-down of every title of MovieLens-32M (87k) would be slow to draw and to use
YOU = "you"


def kept(widget, label: str, key: str, default, **options):
    """A control whose value survives page changes."""
    return widget(label, key=services.persistent(key, default), on_change=services.keep, args=(key,), **options)


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
        services.choose("map_selection", on_map)
    elif on_map:
        services.choose("picked_movie", on_map[0])


def user_items(model, who: str) -> tuple[np.ndarray, np.ndarray, int | None, str] | str:
    """(favourites, top-10, dataset user index or None for "you", name) for a dataset user id or
    "you" (the ratings entered under "Rate a few movies yourself" on the Recommendations page),
    or a sentence saying why there is nothing to draw."""
    if who == YOU:
        items = st.session_state.get("_keep_my_movies", [])
        ratings = [st.session_state.get(f"my_rating_{i}", float(dataset.scale.high)) for i in items]
        if not items:
            return "Rate a few movies on the Recommendations page first; they are drawn here as you."
        mine = recommend.for_new_user(model, dataset, items, ratings, 10)
        favourites = np.asarray(items)[np.argsort(-np.asarray(ratings), kind="stable")][:10]
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


def take_user_event() -> None:
    """A new click on the user map (read before the controls are drawn): that user is drawn on
    the movie map and becomes the Recommendations page's user."""
    event = st.session_state.get("user_map")
    ids, _ = explore.selection_items(event.get("selection") if event else None)
    if not ids or st.session_state.get("_user_event") == ids[0]:
        return
    st.session_state["_user_event"] = ids[0]
    user_id = dataset.user_ids[dataset.user_index(ids[0])]
    services.choose("map_user", str(user_id))
    services.choose("user", user_id)
    services.choose("user_id_text", str(user_id))
    st.session_state["_user_clicked"] = user_id


def movie_panel(model, points: pd.DataFrame, picked: int) -> np.ndarray:
    """The picked movie: its nearest neighbours, rating count, mean, histogram and top raters."""
    neighbours, similarity = explore.cosine_neighbours(model.factors().items, picked, 10,
                                                       among=points["item"].to_numpy())
    card = explore.movie_card(dataset, picked)
    st.markdown(f"**Nearest to {card['title']}**")
    a, b = st.columns(2)
    a.metric("Ratings", f"{card['count']:,}")
    b.metric("Mean rating", "n/a" if np.isnan(card["mean"]) else f"{card['mean']:.2f}")
    st.dataframe({"movie": dataset.titles(neighbours), "cosine": np.round(similarity, 3)}, hide_index=True)
    st.plotly_chart(figures.small_histogram(card["histogram"]), key="picked_histogram")
    st.caption("Rated highest by")
    st.dataframe(card["top_raters"], hide_index=True, key="top_raters")
    return neighbours


def selection_panel(points: pd.DataFrame, selection: list[int]) -> None:
    table, mix = explore.selection_summary(points, selection)
    if table.empty:
        return
    st.subheader(f"The selection: {len(table):,} movies, mean rating {table['mean_rating'].mean():.2f}")
    left, right = st.columns([3, 2])
    left.dataframe(table.drop(columns="item"), hide_index=True, key="selection_table")
    right.plotly_chart(figures.genre_mix(mix), key="selection_mix")


def export_buttons(model, label: str) -> None:
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


st.title("Latent factors")
st.caption("Each movie is a vector the model learned; movies people rate alike end up close together. Click a "
           "movie, or draw a box or lasso (toolbar), search a title, colour by any property, show a user.")

dataset = services.current_dataset()
if dataset is not None:
    take_user_event()
    factor_models = map_labels()
    c1, c2, c3, c4, c5 = st.columns([2, 2, 1, 2, 2])
    label = kept(c1.selectbox, "Model", "factors_model", DEFAULT_FACTOR_MODEL, options=factor_models)
    method = kept(c2.radio, "Projection", "factors_method", "pca", options=["pca", "tsne", "raw"], horizontal=True,
                  format_func={"pca": "PCA", "tsne": "t-SNE", "raw": "first factors"}.get,
                  help="PCA and the first factors are linear (a user's direction can be drawn) and instant; "
                       "t-SNE keeps neighbours together and takes about 3 s per 1,000 movies (at most 5,000 are "
                       "drawn); each map is then cached.")
    dims = kept(c3.radio, "View", "factors_dims", 2, options=[2, 3], format_func=lambda d: f"{d}-D")
    colour_by = kept(c4.selectbox, "Colour by", "factors_colour", figures.COLOUR_BY[0], options=list(figures.COLOUR_BY))
    min_count = kept(c5.slider, "Minimum ratings per movie", "factors_min_count", 20 if dataset.n_items > 100 else 1,
                     min_value=1, max_value=200)
    all_genres = sorted({g for gs in dataset.items["genres"] for g in gs})
    d1, d2, d3, d4 = st.columns([3, 2, 3, 2])
    genres = kept(d1.multiselect, "Only these genres (empty = all)", "factors_genres", [], options=all_genres)
    focus = None
    if colour_by == "one genre against the rest" and all_genres:
        focus = kept(d2.selectbox, "The genre", "factors_focus", all_genres[0], options=all_genres)
    query = kept(d3.text_input, "Find a title", "factors_search", "", placeholder="e.g. star wars")
    who = kept(d4.text_input, "Show a user on the map", "map_user", "",
               placeholder=f"a user id, or “{YOU}”", help="Their favourites (squares), top-10 (triangles) and, "
               "for a dot-product model on a PCA or first-factors map, the direction their vector points in.")
    result = services.request_model(dataset, label, start=label == DEFAULT_FACTOR_MODEL)
    if result is not None:
        model = result.model
        shown_user = None
        if who.strip():
            try:
                shown_user = user_items(model, who.strip())
            except RecsysError as error:
                st.warning(str(error))
        if isinstance(shown_user, str):
            st.info(shown_user)
            shown_user = None
        # a shown user's movies are drawn whatever the filters (t-SNE would run again per user: not there)
        include = tuple(sorted({int(i) for i in np.r_[shown_user[0], shown_user[1]]})) \
            if shown_user is not None and method != "tsne" else ()
        wanted = min_count
        min_count = explore.adapted_min_count(dataset, wanted)
        if min_count < wanted:
            st.caption(f"Only a few movies of this dataset have {wanted} ratings: the map draws those with at least "
                       f"{min_count}.")
        try:
            with st.spinner(f"Projecting the movie vectors with t-SNE (about {tsne_seconds(dataset, min_count)})…"
                            if method == "tsne" else "Projecting the movie vectors…"):
                points = services.item_points(result.key, method, min_count, tuple(genres), dataset, result, dims,
                                              include)
        except RecsysError as error:
            st.warning(str(error))
            st.stop()
        if points.attrs.get("note"):
            st.caption(f"{points.attrs['note']}.")
        take_map_event(points)
        selection = [i for i in st.session_state.get("_keep_map_selection", []) if i in set(points["item"].tolist())]
        only = kept(st.toggle, "Only the selection", "only_selection", False, disabled=not selection,
                    help=f"{len(selection):,} movies selected; draw a box or lasso on the map to select others.")
        if only and selection:
            attrs = dict(points.attrs)
            points = points[points["item"].isin(selection)].reset_index(drop=True)
            points.attrs.update(attrs)
        found = explore.search_titles(points, query)
        if query.strip() and st.session_state.get("_searched") != query:
            st.session_state["_searched"] = query
            if len(found):
                services.choose("picked_movie", int(found["item"].iloc[0]))
        if query.strip():
            st.caption(f"{len(found)} title(s) match “{query}”" + (" (the first is picked)" if len(found) else ""))
        options = points.sort_values("count", ascending=False)["item"].head(PICKER_MAX).tolist()
        current = st.session_state.get("_keep_picked_movie")
        if current in set(points["item"].tolist()) and current not in options:
            options = [current] + options
        if st.session_state.get("picked_movie") not in options:
            services.choose("picked_movie", current if current in options else options[0])
        picked = kept(st.selectbox, "Picked movie" + (f" (or one of the {PICKER_MAX:,} most rated)"
                                                      if len(points) > PICKER_MAX else ""),
                      "picked_movie", options[0], options=options, format_func=lambda i: dataset.titles([i])[0])
        overlay = direction = None
        if shown_user is not None:
            favourites, top, user, shown = shown_user
            overlay = explore.user_overlay(points, favourites, top)
            direction = user_direction(model, points, user)
            st.caption(f"Drawn: {shown}'s {len(favourites)} favourites (squares) and top-10 (triangles)"
                       + (f"; {len(overlay)} of {len(favourites) + len(top)} are on this t-SNE map (it keeps "
                          "its own sample)" if len(overlay) < len(favourites) + len(top) else "")
                       + ("; the arrow is their direction." if direction is not None else "."))
            if user is not None:
                services.choose("user", dataset.user_ids[user])  # the Recommendations page opens on them
                services.choose("user_id_text", str(dataset.user_ids[user]))
                st.page_link("app_pages/recommend.py", icon=":material/movie:",
                             label=f"Open {shown}'s favourites and recommendations")
        tab_movies, tab_users = st.tabs(["Movies", "Users"])
        with tab_movies:
            left, right = st.columns([3, 1])
            with right:
                neighbours = movie_panel(model, points, int(picked))
            fig = figures.latent_map(points, f"Movie vectors of {label} ({method.upper()}, {dims}-D)",
                                     highlight=neighbours, selected=int(picked), colour_by=colour_by, focus=focus,
                                     overlay=overlay, direction=direction,
                                     found=found["item"].to_numpy() if query.strip() else None)
            left.plotly_chart(fig, key="movie_map", on_select="rerun", selection_mode=("points", "box", "lasso"))
            if dims == 3:
                left.caption("Click picks a movie in 3-D too; box and lasso select in the 2-D view.")
            selection_panel(points, selection)
        with tab_users:
            users = services.user_points(result.key, "pca" if method == "tsne" and dataset.n_users > 2000 else method,
                                         dataset, result)
            if users.attrs.get("note"):
                st.caption(f"{users.attrs['note']}.")
            st.plotly_chart(figures.user_map(users, f"User vectors of {label}"), key="user_map",
                            on_select="rerun", selection_mode="points")
            user_id = st.session_state.get("_user_clicked")
            if user_id is not None:
                st.success(f"User {user_id} is drawn on the movie map (Movies tab), and is the Recommendations "
                           "page's user.")
                st.page_link("app_pages/recommend.py", label=f"Open user {user_id}'s favourites and recommendations",
                             icon=":material/movie:")
        export_buttons(model, label)
