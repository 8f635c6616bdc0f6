"""Pure Plotly builders for the Compare page's confidence views: bars with 95% intervals, the
forest plot of paired differences, errors by segment, one model's users against another's, and
the beyond-accuracy measures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figure_base import empty_figure, layout
from recsys.evaluation import glossary

HOLDS, OPEN = "#1b7f3b", "#9a9a9a"  # a difference that holds / one that cannot be told from noise
METRIC_NAMES = {name: glossary.label(name) for name in ("rmse", "mae", "ndcg", "precision", "recall", "poprsp",
                                                        "popreo", "miscalibration")}


def interval_bars(table: pd.DataFrame, metrics: tuple[str, ...], title: str, axis: str) -> go.Figure:
    """One bar per model and metric with its 95% interval as an error bar (`_low`/`_high`
    columns); a metric no model has is left out."""
    fig = go.Figure()
    for metric in metrics:
        if metric not in table or table[metric].isna().all():
            continue
        rows = table[table[metric].notna()]
        error = None
        if f"{metric}_low" in rows and rows[f"{metric}_low"].notna().any():
            error = dict(type="data", symmetric=False, array=(rows[f"{metric}_high"] - rows[metric]).to_numpy(),
                         arrayminus=(rows[metric] - rows[f"{metric}_low"]).to_numpy(), thickness=1.5, width=6)
        fig.add_trace(go.Bar(x=rows["model"], y=rows[metric], name=METRIC_NAMES.get(metric, metric), error_y=error,
                             hovertemplate="%{x}: %{y:.4f}<extra>" + METRIC_NAMES.get(metric, metric) + "</extra>"))
    if not fig.data:
        return empty_figure(title, "None of these models has this kind of number (rating models have RMSE, "
                            "every model has top-10 metrics).")
    models = list(dict.fromkeys(table["model"]))
    fig.update_layout(barmode="group", legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    # every model named under its bars (Plotly thins crowded category ticks), the interval in the axis title
    # so the chart's title fits half of a 1024 px window
    fig.update_xaxes(tickmode="array", tickvals=models, ticktext=models, tickangle=-45)
    fig.update_yaxes(title=f"{axis}, 95% interval")
    # room above the plot for the title and up to three rows of legend (a chart in half of a narrow window)
    return layout(fig, title, height=440).update_layout(margin=dict(t=120), title=dict(y=0.98, yanchor="top"))


def forest(pairs: pd.DataFrame, holds: pd.Series, metric: str) -> go.Figure:
    """Each pair's difference (a - b) in one metric with its paired 95% interval, green where it
    holds after Holm and grey where it cannot be told from noise; a line at zero."""
    name = METRIC_NAMES.get(metric, metric)
    title = f"{name}: paired differences (a - b), 95% intervals"
    if pairs.empty:
        return empty_figure(title, "Choose at least two models with the same kind of number to compare pairs.")
    labels = [f"{a} − {b}" for a, b in zip(pairs["a"], pairs["b"])]
    colours = np.where(holds.to_numpy(), HOLDS, OPEN)
    fig = go.Figure(go.Scatter(
        x=pairs["diff"], y=labels, mode="markers", marker=dict(color=colours, size=10),
        error_x=dict(type="data", symmetric=False, array=pairs["high"] - pairs["diff"],
                     arrayminus=pairs["diff"] - pairs["low"], color="#555", thickness=1.5),
        customdata=np.c_[pairs["low"], pairs["high"], pairs["p_holm"]],
        hovertemplate="%{y}<br>difference %{x:+.4f}<br>95% interval %{customdata[0]:+.4f} to "
                      "%{customdata[1]:+.4f}<br>p after Holm %{customdata[2]:.2g}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#333", width=1, dash="dot"))
    better = "below 0: a has the lower error" if metric in ("rmse", "mae") else "above 0: a ranks better"
    fig.update_xaxes(title=f"difference in {name} ({better})")
    fig.update_yaxes(autorange="reversed")
    return layout(fig, title, height=max(260, 60 + 34 * len(pairs)))


def segment_bars(segments: pd.DataFrame, kind: str, metric: str = "rmse") -> go.Figure:
    """A metric per model within each segment of one kind (user activity, movie popularity,
    primary genre, row group); the hover gives the rows (or users) behind each bar."""
    name = METRIC_NAMES.get(metric, metric)
    title = f"{name} by {kind}"
    rows = segments[(segments["kind"] == kind) & segments[metric].notna()]
    if rows.empty:
        return empty_figure(title, f"No model here has {name} by {kind}.")
    fig = go.Figure()
    count = "users" if metric == "ndcg" else "n"
    for model, part in rows.groupby("model", sort=False):
        error = None
        if f"{metric}_low" in part and part[f"{metric}_low"].notna().any():
            error = dict(type="data", symmetric=False, array=(part[f"{metric}_high"] - part[metric]).to_numpy(),
                         arrayminus=(part[metric] - part[f"{metric}_low"]).to_numpy(), thickness=1.2, width=4)
        fig.add_trace(go.Bar(x=part["segment"].astype(str), y=part[metric], name=model, error_y=error,
                             customdata=part[count].fillna(0).astype(int),
                             hovertemplate="%{x}: %{y:.4f} over %{customdata:,} " +
                                           ("users" if metric == "ndcg" else "ratings") + f"<extra>{model}</extra>"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(categoryorder="array", categoryarray=list(dict.fromkeys(rows["segment"].astype(str))))
    fig.update_yaxes(title=f"{name} ({'lower' if metric == 'rmse' else 'higher'} is better)")
    return layout(fig, title + " (bars: 95% interval)")


def user_versus(frame: pd.DataFrame, a: str, b: str) -> go.Figure:
    """Each test user's RMSE under a (x) and b (y): below the diagonal b helps them, above it
    hurts them; marker size follows their number of test ratings. Click a user to open them."""
    title = f"Whom does {b} help? Each user's RMSE, {a} against {b}"
    if frame.empty:
        return empty_figure(title, "No test user to draw.")
    helped = frame["change"] < 0
    top = float(max(frame["rmse_a"].max(), frame["rmse_b"].max()))
    fig = go.Figure()
    for mask, name, colour in ((helped, f"{b} helps ({int(helped.sum()):,})", HOLDS),
                               (~helped, f"{b} hurts or ties ({int((~helped).sum()):,})", "#c0392b")):
        part = frame[mask]
        fig.add_trace(go.Scatter(
            x=part["rmse_a"], y=part["rmse_b"], mode="markers", name=name, customdata=part[["user", "ratings"]],
            marker=dict(color=colour, size=np.clip(3 + np.sqrt(part["ratings"]), 4, 16), opacity=0.6,
                        line=dict(width=0.5, color="white")),
            hovertemplate="user %{customdata[0]} (%{customdata[1]} test ratings)<br>" + a + " %{x:.3f} · " + b +
                          " %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color="#333", dash="dot", width=1),
                             name="equal", hoverinfo="skip"))
    fig.update_xaxes(title=f"RMSE under {a}")
    fig.update_yaxes(title=f"RMSE under {b}")
    return layout(fig, title, height=460)


def beyond_bars(table: pd.DataFrame, measure: str, explanation: str) -> go.Figure:
    """One beyond-accuracy measure per model."""
    rows = table[table[measure].notna()] if measure in table else table.iloc[:0]
    if rows.empty:
        return empty_figure(measure, "No model here has this measure.")
    fig = go.Figure(go.Bar(x=rows["model"], y=rows[measure], hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_yaxes(title=measure)
    return layout(fig, f"{measure}: {explanation}")


def best_so_far(trials: pd.DataFrame, metric: str) -> go.Figure:
    """Each finished trial's validation score and the best so far, by trial number (pruned
    trials are drawn as crosses at their last reported score where Optuna kept one)."""
    name = METRIC_NAMES.get(metric, metric)
    title = f"Tuning: {name} on the held-out part of the training data"
    done = trials[trials["state"] == "complete"]
    if done.empty:
        return empty_figure(title, "No trial has finished yet.")
    better = np.minimum.accumulate if metric in ("rmse", "mae") else np.maximum.accumulate
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=done["trial"], y=done["value"], mode="markers", name="trial",
                             marker=dict(color="#7f8c8d", size=8), hovertemplate="trial %{x}: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=done["trial"], y=better(done["value"].to_numpy()), mode="lines", name="best so far",
                             line=dict(color=HOLDS, width=3, shape="hv")))
    fig.update_xaxes(title="trial", tickformat="d", dtick=1 if len(trials) <= 20 else None)
    fig.update_yaxes(title=f"{name} ({'lower' if metric in ('rmse', 'mae') else 'higher'} is better)")
    return layout(fig, title)


def genre_mix(mix: pd.DataFrame, user: object, model: str, score: float) -> go.Figure:
    """A user's genre mix as watched (their training movies) beside that of their top-10."""
    title = f"User {user}: genres watched and genres in {model}'s top-10"
    if mix.empty:
        return empty_figure(title, "Neither this user's movies nor their list carry genres.")
    ordered = mix.sort_values("watched", ascending=False, kind="stable")
    fig = go.Figure([go.Bar(x=ordered["genre"], y=ordered["watched"], name="watched (training ratings)",
                            marker_color="#6baed6"),
                     go.Bar(x=ordered["genre"], y=ordered["recommended"], name=f"in the top-10 ({model})",
                            marker_color="#fd8d3c")])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="share of the movies' genres", tickformat=".0%")
    return layout(fig, f"{title}<br><sup>miscalibration (KL) {score:.3f}; 0 is the same mix</sup>", height=420)
