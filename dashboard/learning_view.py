"""The Train page's "watch it learn": the movie map after each epoch, live while a job runs and as
an animation afterwards (also as an HTML file)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import learning_figures as lf
from recsys.models import snapshots as snaps

FOLLOWED = 3  # movies followed with trails by default: the most rated of the sample


def _primary_genres(dataset, items: np.ndarray) -> list[str]:
    return [g[0] if len(g) else lf.NO_GENRE for g in dataset.items["genres"].to_numpy()[items]]


def live_map(dataset, snapshot: snaps.Snapshot, step: str = "epoch") -> None:
    """The latest epoch's movies on their own PCA (the run's final vectors are not known yet)."""
    if snapshot is None or snapshot.item_index is None or snapshot.items.shape[1] < 2:
        return
    frame = snaps.aligned_frames([snapshot])
    title = lf.live_title(snapshot.epoch, snapshot.phase, snapshot.val_rmse, step)
    st.plotly_chart(lf.moving_map(frame, [title], _primary_genres(dataset, snapshot.item_index),
                                  dataset.titles(snapshot.item_index), [], "Movie vectors now"), key="live_map")


def watch(dataset, model, label: str) -> None:
    """The whole run replayed: one projection for all frames, a few movies followed with trails."""
    frames = model.snapshots
    if model.keeps_snapshots and not frames:
        st.caption("This model was saved without its epoch-by-epoch vectors (trained before they were kept): "
                   "Retrain to watch it learn.")
    if len(frames) < 2 or frames[-1].items.shape[1] < 2:
        return
    st.subheader("Watch it learn")
    items = model.snapshot_items
    titles = dataset.titles(items)
    counts = np.bincount(dataset.ratings.items, minlength=dataset.n_items)[items]
    default = [int(i) for i in np.argsort(-counts, kind="stable")[:FOLLOWED]]
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    picked = left.multiselect("Follow these movies", list(range(len(items))), default=default,
                              format_func=lambda i: titles[i], key=f"follow_{label}", max_selections=12)
    same = right.toggle("Same spread in every frame", True, key=f"spread_{label}",
                        help="Early vectors are tiny; scaled to the final spread, their arrangement shows.")
    xy = snaps.aligned_frames(frames, same_spread=same)
    fit_epochs = sum(s.phase == "fit" for s in frames)
    step = model.curve_step(model.config)
    names = [lf.frame_title(s.epoch, s.phase, s.val_rmse, fit_epochs, step) for s in frames]
    fig = lf.moving_map(xy, names, _primary_genres(dataset, items), titles, picked, f"Movie vectors of {label}")
    st.plotly_chart(fig, key=f"watch_{label}")
    posterior = " (from its burn-in on, the posterior mean so far)" if model.step_name != "epoch" else ""
    st.caption(f"The {len(items):,} most-rated movies after each of {len(frames)} {step}s{posterior}, coloured by "
               "their first genre. One projection for every frame: the principal axes of the final vectors, each "
               "earlier frame rotated onto the final one first (orthogonal Procrustes, which keeps every distance), "
               "so the map does not spin or flip. The refit starts again from random vectors on all the training data.")
    st.download_button("Download the animation (HTML, plays without the server)",
                       lambda: fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False),
                       f"{label}-learning.html", mime="text/html", key=f"watch_html_{label}")
