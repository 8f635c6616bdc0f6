"""Pure Plotly figure builders: frames and arrays in, figures out. No Streamlit here."""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from recsys.evaluation import glossary

TEMPLATE = "plotly_white"


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=title, template=TEMPLATE, height=height, margin=dict(l=40, r=20, t=50, b=40))
    return fig


#: characters per line of an empty chart's message: Plotly never wraps an annotation, and a chart
#: in half the page is about 50 characters of 15 px text wide
EMPTY_MESSAGE_WIDTH = 44


def empty_figure(title: str, message: str, height: int = 380) -> go.Figure:
    """A chart with nothing to draw says so in words, without axes, wrapped to fit half a page."""
    fig = go.Figure()
    fig.add_annotation(text="<br>".join(textwrap.wrap(message, EMPTY_MESSAGE_WIDTH)), x=0.5, y=0.5, xref="paper",
                       yref="paper", showarrow=False, font=dict(size=15, color="#555"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=height)


def log_ticks(high: float) -> list[int]:
    """1, 10, 100, ... up to `high`: readable ticks for a log axis (Plotly's own repeat 2 and 5)."""
    return [10 ** p for p in range(0, int(np.floor(np.log10(max(high, 1)))) + 1)]


def rating_histogram(hist: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=hist["rating"].astype(str), y=hist["count"], name="ratings"))
    fig.update_xaxes(title="rating", type="category")
    fig.update_yaxes(title="number of ratings")
    return _layout(fig, "Rating histogram")


def thinned_ranks(n: int, most: int = 2000) -> np.ndarray:
    """At most about `most` 0-based ranks out of `n`, log-spaced (every rank when n is small):
    a ranked curve drawn from them looks the same and stays light at 162k users."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.concatenate([np.geomspace(1, n, most).astype(np.int64) - 1, [n - 1]]))


def long_tail(counts: pd.Series, what: str) -> go.Figure:
    """Ratings per user or per movie, ranked, on a log scale."""
    ranks = thinned_ranks(len(counts))
    fig = go.Figure(go.Scatter(x=ranks + 1, y=counts.to_numpy()[ranks], mode="lines",
                               fill="tozeroy", name=what))
    if not len(counts):
        return empty_figure(f"Ratings per {what}: the long tail", f"No {what}s to rank.")
    fig.update_xaxes(title=f"{what} rank (most active first)", type="log", tickvals=log_ticks(len(counts)),
                     tickformat=",d")
    fig.update_yaxes(title="ratings (log scale)", type="log", tickvals=log_ticks(float(counts.max())),
                     tickformat=",d")
    return _layout(fig, f"Ratings per {what}: the long tail")


def genre_bars(genres: pd.DataFrame) -> go.Figure:
    if genres.empty:
        return empty_figure("Genres: number of ratings and mean rating",
                            "This dataset has no genres: its movies came without a movies file.")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=genres["genre"], y=genres["ratings"], name="ratings"), secondary_y=False)
    fig.add_trace(go.Scatter(x=genres["genre"], y=genres["mean_rating"], name="mean rating",
                             mode="markers+lines"), secondary_y=True)
    fig.update_yaxes(title_text="ratings", secondary_y=False)
    fig.update_yaxes(title_text="mean rating", secondary_y=True, tickformat=".2f")
    return _layout(fig, "Genres: number of ratings and mean rating")


def ratings_over_time(frame: pd.DataFrame) -> go.Figure:
    if len(frame) < 2:
        return empty_figure("Ratings over time", "All ratings fall in one month: there is no time to draw."
                            if len(frame) else "This dataset has no timestamps.")
    fig = go.Figure(go.Bar(x=frame["period"], y=frame["ratings"], name="ratings per month"))
    fig.update_xaxes(title="month")
    fig.update_yaxes(title="ratings")
    return _layout(fig, "Ratings over time")


def matrix_density(binned: np.ndarray, n_users: int, n_items: int) -> go.Figure:
    """The binned user x movie matrix: the share of filled cells in each bin."""
    rows, cols = binned.shape
    # each bin drawn at the rank where it starts, so the axes count users and movies, not bins
    user_starts = (np.arange(rows) * n_users + rows - 1) // rows + 1
    item_starts = (np.arange(cols) * n_items + cols - 1) // cols + 1
    fig = go.Figure(go.Heatmap(z=binned, x=item_starts, y=user_starts, colorscale="Blues", zmin=0,
                               zmax=max(float(binned.max()), 1e-9), colorbar=dict(title="filled", tickformat=".0%"),
                               hovertemplate="users from rank %{y:,}<br>movies from rank %{x:,}"
                               "<br>filled %{z:.1%}<extra></extra>"))
    fig.update_xaxes(title=f"movie rank, most rated first ({n_items:,} movies)", tickformat=",d")
    fig.update_yaxes(title=f"user rank, most active first ({n_users:,} users)", autorange="reversed",
                     tickformat=",d")
    return _layout(fig, "The whole rating matrix: white is empty", height=460)


def short_titles(titles, width: int = 30) -> list[str]:
    """Titles cut at a word to about `width` characters with an ellipsis, kept distinct (a chart's
    categories merge equal labels); the full title belongs in the hover."""
    shown: list[str] = []
    for title in map(str, titles):
        short = title if len(title) <= width else title[:width].rsplit(" ", 1)[0].rstrip(",:;-") + "…"
        while short in shown:
            short += "\u200b"  # an invisible mark keeps two equal cuts apart
        shown.append(short)
    return shown


def matrix_window(window: pd.DataFrame) -> go.Figure:
    titles = [str(c) for c in window.columns]
    fig = go.Figure(go.Heatmap(z=window.to_numpy(), x=short_titles(titles), y=[str(i) for i in window.index],
                               customdata=np.tile(np.array(titles, dtype=object), (len(window), 1)),
                               colorscale="YlOrRd", zmin=0.5, zmax=5, colorbar=dict(title="rating"),
                               hoverongaps=False,
                               hovertemplate="user %{y}<br>%{customdata}<br>rating %{z}<extra></extra>"))
    fig.update_xaxes(title="movie", tickangle=45)
    fig.update_yaxes(title="user", type="category", autorange="reversed")
    return _layout(fig, "A window of actual cells (blank = no rating)", height=480)


def training_curves(history: pd.DataFrame, step: str = "epoch") -> go.Figure:
    """Train and validation loss, and validation RMSE, per epoch (or per `step`: a Gibbs iteration)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "validation RMSE"))
    refit = history[history["phase"] == "refit"] if "phase" in history else history.iloc[:0]
    history = history[history["phase"] != "refit"] if "phase" in history else history
    fig.add_trace(go.Scatter(x=history["epoch"], y=history["loss"], name="train loss", mode="lines+markers"), 1, 1)
    if len(refit):
        fig.add_trace(go.Scatter(x=refit["epoch"], y=refit["loss"], name="refit on all training data",
                                 mode="lines+markers", line=dict(dash="dot")), 1, 1)
    if history["val_loss"].notna().any():
        fig.add_trace(go.Scatter(x=history["epoch"], y=history["val_loss"], name="validation loss",
                                 mode="lines+markers"), 1, 1)
    if history["val_rmse"].notna().any():
        fig.add_trace(go.Scatter(x=history["epoch"], y=history["val_rmse"], name="validation RMSE",
                                 mode="lines+markers"), 1, 2)
    fig.update_xaxes(title=step)
    fig = _layout(fig, "Training curves")
    # the legend under the plots: in half a page a legend at the side squeezes the two plots
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.28, x=0), margin=dict(b=100))
    return fig


COLOUR_BY = ("primary genre", "one genre against the rest", "mean rating", "popularity", "release year",
             "posterior spread")
#: what the map says when asked for a spread the model does not have
NO_SPREAD = "no spread: only a Bayesian model (bayes-fm) knows how sure it is"
#: 24 + 24 distinct colours: every MovieLens genre (20 in ml-25m, and "(none)") gets its own
GENRE_PALETTE = tuple(px.colors.qualitative.Dark24) + tuple(px.colors.qualitative.Light24)


#: MovieLens' genres in colours of high contrast (mostly Kelly's), the big genres in the strongest ones,
#: so that no two genres on one map read alike (Comedy, Musical and Mystery were three pinks)
MOVIELENS_GENRE_COLOURS = {
    "Drama": "#0067A5", "Comedy": "#F6A600", "Action": "#BE0032", "Thriller": "#875692", "Adventure": "#008856",
    "Romance": "#E68FAC", "Sci-Fi": "#A1CAF1", "Crime": "#5C3A1E", "Fantasy": "#00A6A6", "Children": "#DCD300",
    "Horror": "#2B3D26", "Mystery": "#848482", "Animation": "#E25822", "War": "#C2B280", "Musical": "#B3446C",
    "Western": "#A0785A", "Documentary": "#8DB600", "Film-Noir": "#222222", "IMAX": "#7B68EE",
    "(none)": "#D0D0D0"}


def genre_colours(genres: list[str]) -> dict[str, str]:
    """A distinct colour for each genre: MovieLens' own have fixed colours (the same on every map),
    any other genre the next unused colour of Dark24/Light24, in sorted order."""
    names = sorted(set(genres))
    colours = {name: MOVIELENS_GENRE_COLOURS[name] for name in names if name in MOVIELENS_GENRE_COLOURS}
    spare = [c for c in GENRE_PALETTE if c not in colours.values()]
    others = [name for name in names if name not in colours]
    if len(others) > len(spare):
        raise ValueError(f"{len(names)} genres, only {len(GENRE_PALETTE)} distinct colours")
    colours.update(zip(others, spare))
    return colours


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
    return _layout(fig, title, height=600)


def small_histogram(histogram: pd.DataFrame) -> go.Figure:
    """A movie's ratings over the scale, small enough for a side panel."""
    fig = go.Figure(go.Bar(x=histogram["rating"].astype(str), y=histogram["count"], marker_color="#4c78a8"))
    fig.update_xaxes(title="rating", type="category")
    return _layout(fig, "Its ratings", height=220)


def genre_mix(mix: pd.DataFrame) -> go.Figure:
    """Share of a selection's movies in each genre."""
    fig = go.Figure(go.Bar(x=mix["share"], y=mix["genre"], orientation="h",
                           marker_color=[genre_colours(mix["genre"].tolist())[g] for g in mix["genre"]]))
    fig.update_xaxes(title="share of the selected movies", tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Genre mix", height=max(220, 24 * len(mix) + 80))


def user_map(points: pd.DataFrame, title: str) -> go.Figure:
    points = points.assign(marker_size=np.sqrt(points["count"]), name="user " + points["user"].astype(str))
    fig = px.scatter(points, x="x", y="y", color="mean_rating", size="marker_size", size_max=16,
                     render_mode="webgl", custom_data=["user"], hover_name="name", color_continuous_scale="RdYlBu",
                     hover_data={"count": ":,", "mean_rating": ":.2f", "x": False, "y": False, "marker_size": False},
                     labels={"mean_rating": "mean rating", "count": "ratings"})
    fig.update_xaxes(title="component 1")
    fig.update_yaxes(title="component 2")
    return _layout(fig, title, height=520)


def genre_profile(profile: pd.DataFrame) -> go.Figure:
    fig = px.bar(profile, x="genre", y="share", color="group", barmode="group")
    fig.update_yaxes(title="share of movies", tickformat=".0%")
    return _layout(fig, "Genre profile: favourites vs recommendations")


def mini_factor_map(users: pd.DataFrame, movies: pd.DataFrame, title: str) -> go.Figure:
    """Users and movies in the 2-factor space on one scale (both axes alike); axes read "romance"
    and "sci-fi". Each point's name is a label on a short leader line, and names of points that
    sit close together are stacked apart so none covers another."""
    fig = go.Figure()
    for frame, name, symbol in ((movies, "movies (Q)", "square"), (users, "users (P)", "circle")):
        fig.add_trace(go.Scatter(x=frame.iloc[:, 0], y=frame.iloc[:, 1], mode="markers", name=name,
                                 text=list(frame.index), marker=dict(size=13, symbol=symbol),
                                 hovertemplate="%{text}<br>romance %{x:.2f}<br>sci-fi %{y:.2f}<extra></extra>"))
    values = np.vstack([movies.to_numpy(), users.to_numpy()])
    names = list(movies.index) + list(users.index)
    for (x, y), name, (dx, dy) in zip(values, names, label_offsets(values)):
        fig.add_annotation(x=x, y=y, text=name, ax=dx, ay=dy, showarrow=True, arrowwidth=1, arrowcolor="#999",
                           arrowhead=0, font=dict(size=12))
    low, high = min(0.0, float(values.min())), float(values.max())
    pad = 0.2 * (high - low or 1)
    fig.update_xaxes(title=users.columns[0], range=[low - pad, high + pad], zeroline=True)
    fig.update_yaxes(title=users.columns[1], range=[low - pad, high + pad], zeroline=True,
                     scaleanchor="x", scaleratio=1)
    return _layout(fig, title, height=520)


def label_offsets(points: np.ndarray, near: float = 0.15) -> list[tuple[int, int]]:
    """A label offset in pixels per point: the j-th point of a group of close points is stacked
    j rows further out, alternating above-right and below-left, so close labels do not collide."""
    spread = float(np.ptp(points)) if points.size else 1.0
    offsets: list[tuple[int, int]] = []
    for n, point in enumerate(points):
        rank = sum(np.linalg.norm(points[m] - point) < near * (spread or 1) for m in range(n))
        side = 1 if rank % 2 == 0 else -1
        offsets.append((side * 45, -side * (22 + 18 * (rank // 2))))
    return offsets


def rating_heatmap(matrix: pd.DataFrame, title: str, blanks: np.ndarray | None = None) -> go.Figure:
    """A small ratings matrix with every value written in its cell (blank cells stay empty)."""
    values = matrix.to_numpy(dtype=float)
    text = [["" if np.isnan(v) else f"{v:.1f}" for v in row] for row in values]
    fig = go.Figure(go.Heatmap(z=values, x=list(matrix.columns), y=list(matrix.index), text=text,
                               texttemplate="%{text}", colorscale="RdBu_r", zmin=1, zmax=5, hoverongaps=False))
    if blanks is not None:
        for row, col in zip(*np.nonzero(blanks)):
            fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=row - 0.5, y1=row + 0.5,
                          line=dict(color="black", width=3))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=320)


def group_summary(metrics: dict) -> str:
    """One sentence on the test rows the model knew and those it did not, with their RMSE."""
    def part(group: str, label: str) -> str:
        count, value = int(metrics.get(f"n_{group}", 0)), metrics.get(f"rmse_{group}", float("nan"))
        return f"{count:,} {label}" + ("" if pd.isna(value) or not count else f" (RMSE {value:.4f})")
    return ("Test rows: " + ", ".join([part("warm", "warm"), part("new_user", "of new users"),
                                       part("new_item", "of new movies")])
            + ". New users and movies had no rating in the training part; the model answers them with "
              "the mean, the known bias and, for new users, how newcomers tend to rate.")


def overlaid_curves(histories: dict[str, pd.DataFrame], column: str = "val_rmse") -> go.Figure:
    fig = go.Figure()
    for label, history in histories.items():
        if column in history and history[column].notna().any():
            fig.add_trace(go.Scatter(x=history["epoch"], y=history[column], mode="lines+markers", name=label))
    title = f"Training curves overlaid ({glossary.label(column)})"
    if not fig.data:
        return empty_figure(title, "No model here trains in epochs with a validation curve "
                            "(they are fitted in closed form or in one pass).")
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title=glossary.label(column))
    return _layout(fig, title)


def fit_time_bars(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=table["model"], y=table["fit_seconds"], name="fit seconds"))
    fig.update_yaxes(title="seconds to fit")
    return _layout(fig, "Fit time per model")
