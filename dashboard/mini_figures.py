"""The mini demo step by step, as pure Plotly figures: people and films on the romance/sci-fi
plane, the reconstruction with its blanks, P and Q as heatmaps, for one step or animated over
the steps (play, pause, a step slider), and the error per step. The animation exports as a
self-contained HTML file."""
from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figure_base import layout
from recsys.data.readers import MINI_MOVIES, MINI_USERS
from recsys.explain.mini import FACTOR_NAMES, MiniStep

SCALE = "Blues"
#: labels fanned out around their markers: films to the left, people to the right, alternately above and
#: below, so that the three romance films (nearly one point) and a person beside their film stay readable
FILM_LABELS = ("top left", "middle left", "bottom left")
PEOPLE_LABELS = ("top right", "bottom right")


def fanned(count: int, positions: tuple[str, ...]) -> list[str]:
    """A text position per point, cycling through `positions`."""
    return [positions[i % len(positions)] for i in range(count)]


def _traces(step: MiniStep) -> list[go.BaseTraceType]:
    """The five traces of one step: films, people, reconstruction, P, Q."""
    recon = np.clip(step.p @ step.q.T, 0, 6)
    return [
        go.Scatter(x=step.q[:, 0], y=step.q[:, 1], mode="markers+text", text=list(MINI_MOVIES), name="films (Q)",
                   textposition=fanned(len(MINI_MOVIES), FILM_LABELS), marker=dict(size=12, symbol="square", color="#e4572e")),
        go.Scatter(x=step.p[:, 0], y=step.p[:, 1], mode="markers+text", text=list(MINI_USERS), name="people (P)",
                   textposition=fanned(len(MINI_USERS), PEOPLE_LABELS), marker=dict(size=12, color="#2e86ab")),
        go.Heatmap(z=recon, x=list(MINI_MOVIES), y=list(MINI_USERS), zmin=0, zmax=5, colorscale=SCALE,
                   text=np.round(recon, 1), texttemplate="%{text}", showscale=False,
                   hovertemplate="%{y} / %{x}: %{z:.2f}<extra></extra>"),
        go.Heatmap(z=step.p, x=list(FACTOR_NAMES), y=list(MINI_USERS), colorscale=SCALE, showscale=False,
                   text=np.round(step.p, 2), texttemplate="%{text}", hovertemplate="%{y}: %{x} %{z:.2f}<extra></extra>"),
        go.Heatmap(z=step.q, x=list(FACTOR_NAMES), y=list(MINI_MOVIES), colorscale=SCALE, showscale=False,
                   text=np.round(step.q, 2), texttemplate="%{text}", hovertemplate="%{y}: %{x} %{z:.2f}<extra></extra>"),
    ]


def _frame_title(index: int, step: MiniStep) -> str:
    return f"Step {index}: error on the known cells (RMSE) {step.rmse:.3f}"


def _figure(first: MiniStep, index: int, steps: list[MiniStep]) -> go.Figure:
    fig = make_subplots(rows=2, cols=2, column_widths=[0.55, 0.45], row_heights=[0.6, 0.4],
                        subplot_titles=("People and films on the two tastes", "Reconstruction P·Qᵀ",
                                        "P: the people's tastes", "Q: the films' tastes"),
                        horizontal_spacing=0.12, vertical_spacing=0.14)
    for trace, (row, col) in zip(_traces(first), [(1, 1), (1, 1), (1, 2), (2, 1), (2, 2)]):
        fig.add_trace(trace, row=row, col=col)
    values = np.vstack([np.vstack([s.p, s.q]) for s in steps])
    low, high = min(float(values.min()), 0.0), float(values.max())
    pad = 0.12 * (high - low or 1.0)
    # the films' labels sit left of their markers, the people's right: room for a title's width on either side
    fig.update_xaxes(title_text=FACTOR_NAMES[0], range=[low - 3 * pad, high + 2 * pad], row=1, col=1)
    fig.update_yaxes(title_text=FACTOR_NAMES[1], range=[low - pad, high + pad], row=1, col=1)
    for row, col in ((1, 2), (2, 1), (2, 2)):
        fig.update_yaxes(autorange="reversed", row=row, col=col)
    return layout(fig, _frame_title(index, first), height=720)


def mini_step(steps: tuple[MiniStep, ...], index: int) -> go.Figure:
    """The factorisation after step `index` (axes fixed over all the steps, so frames compare)."""
    return _figure(steps[index], index, list(steps))


def mini_animation(steps: tuple[MiniStep, ...], frames: list[int], sentences: dict[int, str]) -> go.Figure:
    """Every step in `frames` as an animation with play/pause and a step slider; each frame's
    title gives the step and its error, and the sentence under it says what the step did."""
    fig = _figure(steps[frames[0]], frames[0], list(steps))
    fig.frames = [go.Frame(data=_traces(steps[i]), traces=[0, 1, 2, 3, 4], name=str(i),
                           layout=dict(title_text=_frame_title(i, steps[i]),
                                       annotations=list(fig.layout.annotations[:4]) + [_note(sentences.get(i, ""))]))
                  for i in frames]
    fig.add_annotation(_note(sentences.get(frames[0], "")))
    play = dict(label="Play", method="animate",
                args=[None, {"frame": {"duration": 350, "redraw": True}, "fromcurrent": True,
                             "transition": {"duration": 0}}])
    pause = dict(label="Pause", method="animate",
                 args=[[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}])
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", buttons=[play, pause], x=0.0, y=-0.08,
                          xanchor="left", yanchor="top", showactive=False)],
        sliders=[dict(active=0, x=0.12, y=-0.06, len=0.88, currentvalue=dict(prefix="step "),
                      steps=[dict(label=str(i), method="animate",
                                  args=[[str(i)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                                   "transition": {"duration": 0}}]) for i in frames])],
        margin=dict(b=230))
    return fig


#: characters per line of the sentence under the animation (Plotly never wraps an annotation)
NOTE_WIDTH = 110


def _note(text: str) -> dict:
    return dict(text="<br>".join(textwrap.wrap(text, NOTE_WIDTH)), x=0.0, y=-0.3, xref="paper", yref="paper",
                showarrow=False, align="left",
                xanchor="left", yanchor="top", font=dict(size=13))


def error_per_step(steps: tuple[MiniStep, ...], current: int | None = None) -> go.Figure:
    """The error on the known cells after each step, with the current step marked."""
    fig = go.Figure(go.Scatter(x=list(range(len(steps))), y=[s.rmse for s in steps], mode="lines", name="RMSE",
                               hovertemplate="step %{x}: %{y:.4f}<extra></extra>"))
    if current is not None:
        fig.add_trace(go.Scatter(x=[current], y=[steps[current].rmse], mode="markers", name=f"step {current}",
                                 marker=dict(size=12, color="#e4572e")))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="RMSE on the known cells", rangemode="tozero")
    return layout(fig, "Training error per step", height=300)


def animation_html(fig: go.Figure) -> str:
    """The animation as one HTML file that plays without the server (Plotly's script inside)."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False)
