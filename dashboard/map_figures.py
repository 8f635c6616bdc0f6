"""The latent map's figures: movies coloured by any property with a picked movie, its neighbours,
a drawn user and a selection; the users' map; a movie's small histogram; genre mixes and profiles."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.figure_base import genre_colours, layout

COLOUR_BY = ("primary genre", "one genre against the rest", "mean rating", "popularity", "release year",
             "posterior spread")
#: what the map says when asked for a spread the model does not have
NO_SPREAD = "no spread: only a Bayesian model (bayes-fm) knows how sure it is"
def _colour(points: pd.DataFrame, by: str, focus: str | None) -> dict:
    """px.scatter arguments that colour the points as asked."""
    if by == "primary genre":
        return {"color": points["genre"], "color_discrete_map": genre_colours(points["genre"].tolist()),
                "category_orders": {"color": sorted(points["genre"].unique())}}
    if by == "one genre against the rest":
        has = points["genres"].str.split(" | ", regex=False).map(lambda gs: focus in gs)
        return {"color": np.where(has, focus or "", "other genres"),
                "color_discrete_map": {focus or "": "#d62728", "other genres": "#c7c7c7"}}
    if by == "posterior spread" and "spread" not in points:
        return {"color": np.full(len(points), NO_SPREAD), "color_discrete_map": {NO_SPREAD: "#9e9e9e"}}
    column = {"mean rating": points["mean_rating"], "popularity": np.log10(points["count"].clip(lower=1)),
              "release year": points["year"].astype("float"),
              "posterior spread": points["spread"].round(3) if "spread" in points else None}[by]
    scale = {"mean rating": "RdYlBu", "popularity": "Viridis", "release year": "Cividis",
             "posterior spread": "Magma_r"}[by]
    return {"color": column, "color_continuous_scale": scale,
            "labels": {"color": "log10 ratings" if by == "popularity" else by}}


def hover_formats(points: pd.DataFrame) -> dict:
    """Hover fields of a map point, formatted for people (a mean to 2 decimals, counts with commas)."""
    formats = {"year": True, "mean_rating": ":.2f", "count": ":,", "genres": True, "spread": ":.3f"}
    return {column: fmt for column, fmt in formats.items() if column in points}


def latent_map(points: pd.DataFrame, title: str, highlight: np.ndarray | None = None,
               selected: int | None = None, colour_by: str = "primary genre", focus: str | None = None,
               overlay: pd.DataFrame | None = None, direction: np.ndarray | None = None,
               found: np.ndarray | None = None) -> go.Figure:
    """Movie vectors in 2-D or 3-D (column z) with WebGL: colour as asked, size = popularity;
    the picked movie, its neighbours, search matches, a user's favourites and top-10 and the
    user's direction drawn over it. Each point carries its item index as customdata."""
    three_d = "z" in points
    if "count" in points:
        points = points.assign(marker_size=np.sqrt(points["count"].clip(lower=1)))
    common = dict(size="marker_size" if "count" in points else None, size_max=18 if not three_d else 10,
                  custom_data=["item"], hover_name="title" if "title" in points else None,
                  hover_data=hover_formats(points) | {"x": False, "y": False, "marker_size": False}
                  | ({"z": False} if three_d else {}),
                  labels={"mean_rating": "mean rating", "count": "ratings", "spread": "posterior spread"})
    colour = _colour(points, colour_by, focus) if "genre" in points else {}
    common["labels"] = {**common["labels"], **colour.pop("labels", {})}
    fig = px.scatter_3d(points, x="x", y="y", z="z", **common, **colour) if three_d else \
        px.scatter(points, x="x", y="y", render_mode="webgl", **common, **colour)
    marks = []
    if highlight is not None and len(highlight):
        marks.append(("nearest neighbours", points[points["item"].isin(highlight)],
                      dict(size=16, symbol="circle-open", line=dict(width=3, color="black"), color="black")))
    if found is not None and len(found):
        marks.append(("search matches", points[points["item"].isin(found)],
                      dict(size=14, symbol="diamond-open", line=dict(width=3, color="#ff7f0e"), color="#ff7f0e")))
    if overlay is not None and len(overlay):
        marks.append(("user's favourites", overlay[overlay["role"] == "favourite"],
                      dict(size=13, symbol="square", color="#2ca02c", line=dict(width=1, color="black"))))
        marks.append(("user's top-10", overlay[overlay["role"] == "recommended"],
                      dict(size=15, symbol="triangle-up", color="#9467bd", line=dict(width=1, color="black"))))
    if selected is not None:
        marks.append(("picked movie", points[points["item"] == selected],
                      dict(size=20, symbol="star", color="gold", line=dict(width=1, color="black"))))
    for name, part, marker in marks:
        if three_d:
            marker = {**marker, "symbol": {"star": "diamond", "triangle-up": "cross"}.get(marker["symbol"], marker["symbol"]),
                      "size": marker["size"] * 0.6}
            fig.add_trace(go.Scatter3d(x=part["x"], y=part["y"], z=part["z"], mode="markers", name=name,
                                       marker=marker, text=part["title"], hoverinfo="text",
                                       customdata=part[["item"]].to_numpy()))
        else:
            fig.add_trace(go.Scattergl(x=part["x"], y=part["y"], mode="markers", name=name, marker=marker,
                                       text=part["title"], hoverinfo="text", customdata=part[["item"]].to_numpy()))
    if direction is not None:
        tip = np.asarray(direction, dtype=float)
        if three_d:
            fig.add_trace(go.Scatter3d(x=[0, tip[0]], y=[0, tip[1]], z=[0, tip[2]], mode="lines+markers",
                                       name="user's direction", line=dict(width=6, color="black")))
        else:
            fig.add_annotation(x=tip[0], y=tip[1], ax=0, ay=0, xref="x", yref="y", axref="x", ayref="y",
                               showarrow=True, arrowhead=3, arrowwidth=2.5, arrowcolor="black", text="")
            fig.add_trace(go.Scattergl(x=[0, tip[0]], y=[0, tip[1]], mode="lines", name="user's direction",
                                       line=dict(width=2.5, color="black")))
    if three_d:
        fig.update_layout(scene=dict(xaxis_title="component 1", yaxis_title="component 2", zaxis_title="component 3"))
    else:
        fig.update_xaxes(title="component 1")
        fig.update_yaxes(title="component 2")
    fig.update_layout(legend=dict(itemclick="toggle", itemdoubleclick="toggleothers"))
    if "color_continuous_scale" in colour:  # the colour bar below the legend of the marks, not under it
        fig.update_layout(coloraxis_colorbar=dict(len=0.7, y=0, yanchor="bottom"))
    return layout(fig, title, height=600)


def small_histogram(histogram: pd.DataFrame) -> go.Figure:
    """A movie's ratings over the scale, small enough for a side panel."""
    fig = go.Figure(go.Bar(x=histogram["rating"].astype(str), y=histogram["count"], marker_color="#4c78a8"))
    fig.update_xaxes(title="rating", type="category")
    return layout(fig, "Its ratings", height=220)


def genre_mix(mix: pd.DataFrame) -> go.Figure:
    """Share of a selection's movies in each genre."""
    fig = go.Figure(go.Bar(x=mix["share"], y=mix["genre"], orientation="h",
                           marker_color=[genre_colours(mix["genre"].tolist())[g] for g in mix["genre"]]))
    fig.update_xaxes(title="share of the selected movies", tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Genre mix", height=max(220, 24 * len(mix) + 80))


def user_map(points: pd.DataFrame, title: str) -> go.Figure:
    points = points.assign(marker_size=np.sqrt(points["count"]), name="user " + points["user"].astype(str))
    fig = px.scatter(points, x="x", y="y", color="mean_rating", size="marker_size", size_max=16,
                     render_mode="webgl", custom_data=["user"], hover_name="name", color_continuous_scale="RdYlBu",
                     hover_data={"count": ":,", "mean_rating": ":.2f", "x": False, "y": False, "marker_size": False},
                     labels={"mean_rating": "mean rating", "count": "ratings"})
    fig.update_xaxes(title="component 1")
    fig.update_yaxes(title="component 2")
    return layout(fig, title, height=520)


def genre_profile(profile: pd.DataFrame) -> go.Figure:
    fig = px.bar(profile, x="genre", y="share", color="group", barmode="group")
    fig.update_yaxes(title="share of movies", tickformat=".0%")
    return layout(fig, "Genre profile: favourites vs recommendations")


