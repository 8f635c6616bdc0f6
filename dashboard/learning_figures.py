"""Pure Plotly builders for watching a model learn: the movie map epoch by epoch (one projection
for every frame), with a few picked movies and their trails, as an animation or a single frame."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figure_base import genre_colours, layout

NO_GENRE = "(no genre)"


def frame_title(epoch: int, phase: str, val_rmse: float | None, total: int, step: str = "epoch") -> str:
    """E.g. "epoch 4 of 9 · validation RMSE 0.8712" or "epoch 2 of the refit on all training data"
    (`step`: what a step is, e.g. "Gibbs iteration")."""
    what = f"{step} {epoch} of the refit on all training data" if phase == "refit" else f"{step} {epoch} of {total}"
    return what + ("" if val_rmse is None else f" · validation RMSE {val_rmse:.4f}")


def live_title(epoch: int, phase: str, val_rmse: float | None, step: str = "epoch") -> str:
    """A training's latest epoch (or other step), while nobody knows yet how many there will be."""
    what = f"{step} {epoch} of the refit" if phase == "refit" else f"{step} {epoch}"
    return what + ("" if val_rmse is None else f" · validation RMSE {val_rmse:.4f}")


def map_title(heading: str, frame: str) -> str:
    """The heading over the frame's epoch on a smaller second line, so a map in half the page keeps
    its whole title."""
    return f"{heading}<br><sup>{frame}</sup>"


#: where the followed movies' labels go, in turn, so neighbours' labels do not sit on each other
LABEL_PLACES = ("top center", "bottom center", "middle right", "middle left", "top right", "bottom left")
LABEL_CHARS = 28


def _traces(xy: np.ndarray, colours: list[str], hover: list[str], picked: list[int], labels: list[str],
            trail: np.ndarray | None) -> list[go.Scatter]:
    movies = go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name="movies", text=hover, showlegend=False,
                        marker=dict(color=colours, size=6, opacity=0.65), hovertemplate="%{text}<extra></extra>")
    chosen = go.Scatter(x=xy[picked, 0], y=xy[picked, 1], mode="markers+text", text=labels, name="picked",
                        textposition=[LABEL_PLACES[n % len(LABEL_PLACES)] for n in range(len(picked))],
                        showlegend=False, hovertext=labels, hoverinfo="text", textfont=dict(size=12, color="#111"),
                        marker=dict(size=13, color="black", symbol="diamond", line=dict(color="white", width=1)))
    trails = go.Scatter(x=[] if trail is None else trail[:, 0], y=[] if trail is None else trail[:, 1], mode="lines",
                        name="trails", showlegend=False, line=dict(color="rgba(0,0,0,0.35)", width=1.5),
                        hoverinfo="skip")
    return [movies, chosen, trails]


def _trails(frames: list[np.ndarray], upto: int, picked: list[int]) -> np.ndarray | None:
    """The paths of the picked movies up to frame `upto`, as one line broken by NaN rows."""
    if not picked:
        return None
    parts = []
    for i in picked:
        parts.append(np.array([frame[i] for frame in frames[: upto + 1]]))
        parts.append(np.full((1, 2), np.nan))
    return np.vstack(parts)


def _short(title: str) -> str:
    """A followed movie's label, cut to fit beside its neighbours."""
    return title if len(title) <= LABEL_CHARS else title[:LABEL_CHARS - 1].rstrip() + "…"


def moving_map(frames: list[np.ndarray], titles: list[str], genres: list[str], titles_of_movies: list[str],
               picked: list[int], heading: str) -> go.Figure:
    """The sampled movies after each epoch, coloured by primary genre, on axes fixed over every
    frame; the picked movies (indices into the sample) as labelled diamonds with their trails;
    play, pause and an epoch slider."""
    palette = genre_colours([g for g in genres if g != NO_GENRE] or ["Drama"])
    colours = [palette.get(g, "#b0b0b0") for g in genres]
    hover = [f"{t}<br>{g}" for t, g in zip(titles_of_movies, genres)]
    labels = [_short(titles_of_movies[i]) for i in picked]
    fig = go.Figure(data=_traces(frames[0], colours, hover, picked, labels, _trails(frames, 0, picked)))
    for genre in [g for g in palette if g in set(genres)]:  # the legend: one entry per genre drawn
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=genre, marker=dict(color=palette[genre],
                                 size=8), legendgroup=genre, hoverinfo="skip"))
    if len(frames) > 1:  # a single map (the live one) is redrawn as a whole, never animated
        fig.frames = [go.Frame(data=_traces(xy, colours, hover, picked, labels, _trails(frames, n, picked)),
                               name=str(n), layout=dict(title_text=map_title(heading, titles[n])))
                      for n, xy in enumerate(frames)]
    everything = np.vstack(frames)
    low, high = np.nanmin(everything, axis=0), np.nanmax(everything, axis=0)
    pad = 0.05 * (high - low + 1e-9)
    basis = "of the final vectors" if len(frames) > 1 else "of the vectors so far"  # live: the end is not known
    fig.update_xaxes(range=[low[0] - pad[0], high[0] + pad[0]], title=f"first principal axis ({basis})")
    fig.update_yaxes(range=[low[1] - pad[1], high[1] + pad[1]], title="second principal axis")
    if len(frames) > 1:
        # redraw: the title (epoch, validation RMSE) changes per frame, and Streamlit's Plotly only
        # applies a frame's layout when it redraws
        play = dict(label="Play", method="animate", args=[None, {"frame": {"duration": 500, "redraw": True},
                                                                 "fromcurrent": True, "transition": {"duration": 0}}])
        pause = dict(label="Pause", method="animate", args=[[None], {"frame": {"duration": 0}, "mode": "immediate"}])
        fig.update_layout(
            updatemenus=[dict(type="buttons", direction="left", buttons=[play, pause], x=0.0, y=-0.12, xanchor="left",
                              yanchor="top", showactive=False)],
            sliders=[dict(active=0, x=0.2, y=-0.1, len=0.8, currentvalue=dict(prefix="frame "),
                          steps=[dict(label=str(n + 1), method="animate",
                                      args=[[str(n)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                                       "transition": {"duration": 0}}]) for n in range(len(frames))])],
            margin=dict(b=140))
    return layout(fig, map_title(heading, titles[0]), height=620)
