"""Pure Plotly figure builders for the dataset, rating matrix, training and mini pages: frames and
arrays in, figures out. No Streamlit here; the latent map's are in `map_figures`, the shared parts
in `figure_base`."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figure_base import empty_figure, layout, log_ticks, short_titles
from recsys.evaluation import glossary


def rating_histogram(hist: pd.DataFrame, title: str = "Rating histogram") -> go.Figure:
    fig = go.Figure(go.Bar(x=hist["rating"].astype(str), y=hist["count"], name="ratings"))
    fig.update_xaxes(title="rating", type="category")
    fig.update_yaxes(title="number of ratings")
    return layout(fig, title)


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
    return layout(fig, f"Ratings per {what}: the long tail")


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
    return layout(fig, "Genres: number of ratings and mean rating")


def ratings_over_time(frame: pd.DataFrame) -> go.Figure:
    if len(frame) < 2:
        return empty_figure("Ratings over time", "All ratings fall in one month: there is no time to draw."
                            if len(frame) else "This dataset has no timestamps.")
    fig = go.Figure(go.Bar(x=frame["period"], y=frame["ratings"], name="ratings per month"))
    fig.update_xaxes(title="month")
    fig.update_yaxes(title="ratings")
    return layout(fig, "Ratings over time")


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
    return layout(fig, "The whole rating matrix: white is empty", height=460)


def matrix_window(window: pd.DataFrame) -> go.Figure:
    titles = [str(c) for c in window.columns]
    fig = go.Figure(go.Heatmap(z=window.to_numpy(), x=short_titles(titles), y=[str(i) for i in window.index],
                               customdata=np.tile(np.array(titles, dtype=object), (len(window), 1)),
                               colorscale="YlOrRd", zmin=0.5, zmax=5, colorbar=dict(title="rating"),
                               hoverongaps=False,
                               hovertemplate="user %{y}<br>%{customdata}<br>rating %{z}<extra></extra>"))
    fig.update_xaxes(title="movie", tickangle=45)
    fig.update_yaxes(title="user", type="category", autorange="reversed")
    return layout(fig, "A window of actual cells (blank = no rating)", height=480)


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
    fig = layout(fig, "Training curves")
    # the legend under the plots: in half a page a legend at the side squeezes the two plots
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.28, x=0), margin=dict(b=100))
    return fig


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
    return layout(fig, title, height=520)


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
    return layout(fig, title, height=320)


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
    return layout(fig, title)


def fit_time_bars(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=table["model"], y=table["fit_seconds"], name="fit seconds"))
    fig.update_yaxes(title="seconds to fit")
    return layout(fig, "Fit time per model")
