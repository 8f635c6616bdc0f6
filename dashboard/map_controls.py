"""The latent map page's controls: model, projection, view, colours, filters, search and the
user to draw, read into one `MapSettings` value."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import map_figures, state
from dashboard.map_panels import YOU
from recsys.work.catalog import DEFAULT_FACTOR_MODEL, map_labels, without_a_map

PICKER_MAX = 5_000  # a drop-down of every title of MovieLens-32M (87k) would be slow to draw and to use


def kept(widget, label: str, key: str, default, **options):
    """A control whose value survives page changes."""
    return widget(label, key=state.persistent(key, default), on_change=state.keep, args=(key,), **options)


@dataclass(frozen=True)
class MapSettings:
    """What the controls above the map chose."""

    label: str
    method: str
    dims: int
    colour_by: str
    min_count: int
    genres: tuple[str, ...]
    focus: str | None
    query: str
    who: str


def controls(dataset) -> MapSettings:
    """The two rows of controls above the map."""
    c1, c2, c3, c4, c5 = st.columns([2, 2, 1, 2, 2])
    label = kept(c1.selectbox, "Model", "factors_model", DEFAULT_FACTOR_MODEL, options=map_labels(),
                 help=f"Not listed: {', '.join(without_a_map())}. Their predictions do not come from a dot product "
                      "of one user vector and one movie vector, so they have no map to draw.")
    method = kept(c2.radio, "Projection", "factors_method", "pca", options=["pca", "tsne", "raw"], horizontal=True,
                  format_func={"pca": "PCA", "tsne": "t-SNE", "raw": "first factors"}.get,
                  help="PCA and the first factors are linear (a user's direction can be drawn) and instant; "
                       "t-SNE keeps neighbours together and takes about 3 s per 1,000 movies (at most 5,000 are "
                       "drawn); each map is then cached.")
    dims = kept(c3.radio, "View", "factors_dims", 2, options=[2, 3], format_func=lambda d: f"{d}-D")
    colour_by = kept(c4.selectbox, "Colour by", "factors_colour", map_figures.COLOUR_BY[0], options=list(map_figures.COLOUR_BY))
    min_count = kept(c5.slider, "Minimum ratings per movie", "factors_min_count", 20 if dataset.n_items > 100 else 1,
                     min_value=1, max_value=200)
    st.caption(f"Not on the map, as they have no movie vectors whose dot product makes their predictions: "
               f"{', '.join(without_a_map())}.")
    all_genres = sorted({g for gs in dataset.items["genres"] for g in gs})
    d1, d2, d3, d4 = st.columns([3, 2, 3, 2])
    genres = kept(d1.multiselect, "Only these genres (empty = all)", "factors_genres", [], options=all_genres)
    focus = None
    if colour_by == "one genre against the rest" and all_genres:
        focus = kept(d2.selectbox, "The genre", "factors_focus", all_genres[0], options=all_genres)
    query = kept(d3.text_input, "Find a title", "factors_search", "", placeholder="e.g. star wars")
    who = kept(d4.text_input, "Show a user on the map", "map_user", "",
               placeholder=f"a user id, or “{YOU}”", help="Their favourites (squares), top-10 (triangles) "
               "and, for a dot-product model on a PCA or first-factors map, the direction their vector points in.")
    return MapSettings(label, method, dims, colour_by, min_count, tuple(genres), focus, query, who.strip())
