"""Pure Plotly builders for the Lessons page, one per lesson (tested without Streamlit)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figure_base import layout, log_ticks

YOU_COLOUR, CROWD_COLOUR = "#d62728", "#7f9cbf"
PART_COLOURS = {"training": "#1f77b4", "validation": "#ff7f0e"}


def you_map(people: pd.DataFrame, you: tuple[float, float]) -> go.Figure:
    """Everyone's vector on the map of its two main directions, and you as a large red star."""
    fig = go.Figure(go.Scatter(x=people["x"], y=people["y"], mode="markers", name="other people",
                               marker=dict(color=CROWD_COLOUR, size=6, opacity=0.6),
                               text=[f"user {u} · {c} ratings" for u, c in zip(people["user"], people["count"])],
                               hovertemplate="%{text}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[you[0]], y=[you[1]], mode="markers+text", name="you", text=["you"],
                             textposition="top center", textfont=dict(size=15, color=YOU_COLOUR),
                             marker=dict(color=YOU_COLOUR, size=20, symbol="star", line=dict(color="white", width=1.5)),
                             hovertemplate="you<extra></extra>"))
    fig.update_xaxes(title="direction 1 of the people's vectors")
    fig.update_yaxes(title="direction 2")
    return layout(fig, "Where you land among the people", height=460)


def alternation_figure(table: pd.DataFrame, title: str) -> go.Figure:
    """The error after each half step: a marker per step, labelled by the side just solved."""
    fig = go.Figure()
    hover = [f"{s}" for s in table["solved"]]
    fig.add_trace(go.Scatter(x=table["iteration"], y=table["train_rmse"], mode="lines+markers", name="training",
                             line=dict(color=PART_COLOURS["training"]), text=hover,
                             hovertemplate="%{text}<br>iteration %{x}<br>RMSE %{y:.4f}<extra>training</extra>"))
    if table["valid_rmse"].notna().any():
        fig.add_trace(go.Scatter(x=table["iteration"], y=table["valid_rmse"], mode="lines+markers", name="validation",
                                 line=dict(color=PART_COLOURS["validation"]), text=hover,
                                 hovertemplate="%{text}<br>iteration %{x}<br>RMSE %{y:.4f}<extra>validation</extra>"))
    if "objective" in table and table["objective"].notna().any():
        fig.add_trace(go.Scatter(x=table["iteration"], y=table["objective"], mode="lines+markers",
                                 name="what ALS lowers: √(squared error + penalty) per rating",
                                 line=dict(color="#555", dash="dot"), marker=dict(symbol="diamond", size=6), text=hover,
                                 hovertemplate="%{text}<br>iteration %{x}<br>%{y:.4f}<extra>penalised</extra>"))
    fig.update_xaxes(title="iteration (.5: the people just solved; whole: the movies just solved)", dtick=1)
    fig.update_yaxes(title="error (RMSE scale)")
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return layout(fig, title, height=420)


def direction_figure(points: pd.DataFrame, direction: int, other: int, position: float,
                     nearest: pd.DataFrame) -> go.Figure:
    """The movies along two main directions, the sliding point and the movies nearest it named."""
    x, y = f"d{direction}", f"d{other}"
    fig = go.Figure(go.Scatter(x=points[x], y=points[y], mode="markers", name="movies", text=points["title"],
                               marker=dict(color=CROWD_COLOUR, size=6, opacity=0.55),
                               hovertemplate="%{text}<extra></extra>"))
    named = points[points["title"].isin(nearest["title"])]
    fig.add_trace(go.Scatter(x=named[x], y=named[y], mode="markers", name="nearest the point (the table names them)",
                             text=named["title"], marker=dict(color="#2ca02c", size=11, line=dict(color="white", width=1)),
                             hovertemplate="%{text}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[position], y=[0.0], mode="markers", name="the point",
                             marker=dict(color=YOU_COLOUR, size=16, symbol="x", opacity=0.85)))
    fig.add_vline(x=0, line=dict(color="#bbb", width=1))
    fig.update_xaxes(title=f"direction {direction}")
    fig.update_yaxes(title=f"direction {other}")
    return layout(fig, f"Sliding along direction {direction}", height=480)


def ladder_figure(ladder: pd.DataFrame) -> go.Figure:
    """Test RMSE as each part of the model is added, as bars with their values."""
    fig = go.Figure(go.Bar(x=ladder["model"], y=ladder["rmse"], text=[f"{v:.4f}" for v in ladder["rmse"]],
                           textposition="outside", marker_color=["#bbb", "#9ecae1", "#4292c6", "#08519c"][:len(ladder)]))
    low = float(ladder["rmse"].min())
    fig.update_yaxes(title="test RMSE (lower is better)", range=[max(0.0, low - 0.1), float(ladder["rmse"].max()) + 0.04])
    return layout(fig, "What each part of the model adds")


def curves_figure(curves: pd.DataFrame) -> go.Figure:
    """Training and validation error per iteration for each model (solid: training, dashed: validation)."""
    fig = go.Figure()
    colours = dict(zip(curves["model"].unique(), ("#cb181d", "#08519c", "#238b45")))
    for (model, part), rows in curves.groupby(["model", "part"], sort=False):
        fig.add_trace(go.Scatter(x=rows["iteration"], y=rows["rmse"], mode="lines+markers", name=f"{model}: {part}",
                                 line=dict(dash="solid" if part == "training" else "dash", color=colours[model])))
    fig.update_xaxes(title="iteration", dtick=1)
    fig.update_yaxes(title="RMSE")
    return layout(fig, "Training and validation error, without and with the penalty")


def twin_maps(maps: dict[str, pd.DataFrame]) -> go.Figure:
    """Two movie maps side by side (x, y, title), each on its own scale."""
    fig = make_subplots(rows=1, cols=len(maps), subplot_titles=list(maps))
    for col, points in enumerate(maps.values(), start=1):
        fig.add_trace(go.Scatter(x=points["x"], y=points["y"], mode="markers", text=points["title"], showlegend=False,
                                 marker=dict(color=CROWD_COLOUR, size=5, opacity=0.6),
                                 hovertemplate="%{text}<extra></extra>"), row=1, col=col)
    return layout(fig, "The movie map of each (two main directions)", height=420)


def length_figure(frame: pd.DataFrame, correlation: float) -> go.Figure:
    """Each movie's vector length against its number of ratings (log scale)."""
    fig = go.Figure(go.Scatter(x=frame["ratings"], y=frame["length"], mode="markers", text=frame["title"],
                               marker=dict(color=CROWD_COLOUR, size=5, opacity=0.5),
                               hovertemplate="%{text}<br>%{x} ratings<br>length %{y:.3f}<extra></extra>"))
    fig.update_xaxes(type="log", title="ratings of the movie (log scale)", tickvals=log_ticks(frame["ratings"].max()))
    fig.update_yaxes(title="length of its vector")
    return layout(fig, f"Vector length against popularity (Spearman {correlation:.2f})")


def cold_start_figure(errors: pd.DataFrame) -> go.Figure:
    """Test RMSE as a new person's ratings grow: biases alone (0), 1, 3, 10, and their trained vector."""
    labels = ["0 (movie biases)" if v == "0" else ("all (trained)" if v == "all" else v) for v in errors["ratings known"]]
    fig = go.Figure(go.Bar(x=labels, y=errors["rmse"], text=[f"{v:.4f}" for v in errors["rmse"]], textposition="outside",
                           marker_color=["#bbb"] + ["#6baed6"] * (len(errors) - 2) + ["#08519c"]))
    fig.update_xaxes(title="ratings the model knows of the person", type="category")
    fig.update_yaxes(title="test RMSE", range=[max(0.0, float(errors["rmse"].min()) - 0.1),
                                               float(errors["rmse"].max()) + 0.04])
    return layout(fig, "How a new person's error falls as they rate")


def nearest_text(values: np.ndarray) -> str:
    """"a, b and c": a short list in words."""
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]
