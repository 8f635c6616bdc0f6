"""The latent map as an explorer: movies (and users) in 2-D or 3-D; click a movie for its
neighbours and ratings, box or lasso a region for its genre mix, search a title, colour by any
metadata, draw a user's favourites, top-10 and direction, and export the vectors."""
import dataclasses

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import datasets, links, map_figures, services, state
from dashboard import map_panels as panels
from dashboard.map_controls import PICKER_MAX, MapSettings, controls, kept
from recsys.data import stats
from recsys.data.split import Split
from recsys.errors import RecsysError
from recsys.explain import explore
from recsys.work.catalog import DEFAULT_FACTOR_MODEL

#: the split the map's models are fitted on (the Train page's default)
MAP_SPLIT = Split()

def shown_user(dataset, model, who: str):
    """The user asked for (favourites, top-10, index, name), or None with a note why not."""
    if not who:
        return None
    try:
        found = panels.user_items(model, dataset, who)
    except RecsysError as error:
        st.warning(str(error))
        return None
    if isinstance(found, str):
        st.info(found)
        return None
    return found


def map_points(dataset, result, settings: MapSettings, user) -> tuple[pd.DataFrame, list[int]]:
    """The projected movies that pass the filters (a shown user's movies whatever the filters,
    but not on t-SNE, which would run again per user), limited to the selection when asked; and
    the selection."""
    include = tuple(sorted({int(i) for i in np.r_[user[0], user[1]]})) \
        if user is not None and settings.method != "tsne" else ()
    min_count = explore.adapted_min_count(dataset, settings.min_count)
    if min_count < settings.min_count:
        st.caption(f"Only a few movies of this dataset have {settings.min_count} ratings: the map draws those with at "
                   f"least {min_count}.")
    try:
        with st.spinner(f"Projecting the movie vectors with t-SNE (about {panels.tsne_seconds(dataset, min_count)})…"
                        if settings.method == "tsne" else "Projecting the movie vectors…"):
            points = services.item_points(result.key, settings.method, min_count, settings.genres, dataset, result,
                                          settings.dims, include)
    except RecsysError as error:
        st.warning(str(error))
        st.stop()
    if points.attrs.get("note"):
        st.caption(f"{points.attrs['note']}.")
    panels.take_map_event(points)
    selection = [i for i in st.session_state.get("_keep_map_selection", []) if i in set(points["item"].tolist())]
    only = kept(st.toggle, "Only the selection", "only_selection", False, disabled=not selection,
                help=f"{len(selection):,} movies selected; draw a box or lasso on the map to select others.")
    if only and selection:
        attrs = dict(points.attrs)
        points = points[points["item"].isin(selection)].reset_index(drop=True)
        points.attrs.update(attrs)
    return points, selection


def picked_movie(dataset, points: pd.DataFrame, query: str) -> tuple[int, pd.DataFrame]:
    """The picked movie (a search picks its first match) and the titles the search found."""
    found = explore.search_titles(points, query)
    if query.strip() and st.session_state.get("_searched") != query:
        st.session_state["_searched"] = query
        if len(found):
            state.choose("picked_movie", int(found["item"].iloc[0]))
    if query.strip():
        st.caption(f"{len(found)} title(s) match “{query}”" + (" (the first is picked)" if len(found) else ""))
    options = points.sort_values("count", ascending=False)["item"].head(PICKER_MAX).tolist()
    current = st.session_state.get("_keep_picked_movie")
    if current in set(points["item"].tolist()) and current not in options:
        options = [current] + options
    if st.session_state.get("picked_movie") not in options:
        state.choose("picked_movie", current if current in options else options[0])
    picked = kept(st.selectbox, "Picked movie" + (f" (or one of the {PICKER_MAX:,} most rated)"
                                                  if len(points) > PICKER_MAX else ""),
                  "picked_movie", options[0], options=options, format_func=lambda i: dataset.titles([i])[0])
    return int(picked), found


def user_layer(dataset, model, label: str, points: pd.DataFrame, user):
    """The shown user's markers and direction on the movie map, with a line saying what is drawn."""
    if user is None:
        return None, None
    favourites, top, index, shown = user
    overlay = explore.user_overlay(points, favourites, top)
    direction = panels.user_direction(model, points, index)
    whose = "your" if shown == "you" else f"{shown}'s"
    st.caption(f"Drawn: {whose} {len(favourites)} favourites (squares: rated {stats.favourite_threshold(dataset):g} "
               "or more) and top-10 (triangles)"
               + (f"; {len(overlay)} of {len(favourites) + len(top)} are on this t-SNE map (it keeps "
                  "its own sample)" if len(overlay) < len(favourites) + len(top) else "")
               + ("; the arrow is their direction." if direction is not None else "."))
    if index is not None:
        links.user_link(dataset, label, MAP_SPLIT, dataset.user_ids[index], "Latent factors", services.RECOMMEND_SPLITS)
    return overlay, direction


def users_tab(dataset, result, settings: MapSettings) -> None:
    """The user vectors; a click draws that user on the movie map."""
    method = "pca" if settings.method == "tsne" and dataset.n_users > 2000 else settings.method
    users = services.user_points(result.key, method, dataset, result)
    if users.attrs.get("note"):
        st.caption(f"{users.attrs['note']}.")
    st.plotly_chart(map_figures.user_map(users, f"User vectors of {settings.label}"), key="user_map",
                    on_select="rerun", selection_mode="points")
    user_id = st.session_state.get("_user_clicked")
    if user_id is not None:
        st.success(f"User {user_id} is drawn on the movie map (Movies tab), and is the Recommendations page's user.")
        links.user_link(dataset, settings.label, MAP_SPLIT, user_id, "Latent factors", services.RECOMMEND_SPLITS)


def main() -> None:
    dataset = datasets.open_page("Latent factors", "Each movie is a vector the model learned; movies people rate "
                                 "alike end up close together. Click a movie, or draw a box or lasso (toolbar), "
                                 "search a title, colour by any property, show a user.")
    if dataset is None:
        return
    panels.take_user_event(dataset)
    settings = controls(dataset)
    result, shown = services.with_stand_in(dataset, settings.label, MAP_SPLIT, start=settings.label == DEFAULT_FACTOR_MODEL)
    if result is None:
        return
    settings = dataclasses.replace(settings, label=shown)  # the stand-in's name while the default trains
    model = result.model
    user = shown_user(dataset, model, settings.who)
    points, selection = map_points(dataset, result, settings, user)
    picked, found = picked_movie(dataset, points, settings.query)
    overlay, direction = user_layer(dataset, model, settings.label, points, user)
    tab_movies, tab_users = st.tabs(["Movies", "Users"])
    with tab_movies:
        left, right = st.columns([3, 1])
        with right:
            neighbours = panels.movie_panel(dataset, model, points, picked)
        fig = map_figures.latent_map(points, f"Movie vectors of {settings.label} ({settings.method.upper()}, "
                                 f"{settings.dims}-D)", highlight=neighbours, selected=picked,
                                 colour_by=settings.colour_by, focus=settings.focus, overlay=overlay,
                                 direction=direction, found=found["item"].to_numpy() if settings.query.strip() else None)
        left.plotly_chart(fig, key="movie_map", on_select="rerun", selection_mode=("points", "box", "lasso"))
        if settings.dims == 3:
            left.caption("Click picks a movie in 3-D too; box and lasso select in the 2-D view.")
        panels.selection_panel(points, selection)
    with tab_users:
        users_tab(dataset, result, settings)
    panels.export_buttons(dataset, model, settings.label)


main()
