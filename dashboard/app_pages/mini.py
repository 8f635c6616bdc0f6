"""The 4 x 5 romance/sci-fi example: edit the grid, factorise it (NMF, gradient descent,
alternating least squares, and the Keras model on request), and see the hidden "romance" and
"sci-fi" factors fill the two blanks."""
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import figures, mini_figures
from dashboard.mini_grid import as_ratings, original_grid, with_edits
from recsys.data.readers import MINI_MOVIES, MINI_USERS
from recsys.errors import RecsysError
from recsys.explain.mini import FACTOR_NAMES, METHODS, MiniFactorisation, MiniSettings, factorise, frame_steps, step_sentence

RATING_PATTERN = r"^\s*([1-5](\.[05])?)?\s*$"  # empty, or 1-5 in half steps
INSTANT = ("nmf", "gd", "als")


@st.cache_data(show_spinner=False, max_entries=256)
def factorise_cached(method: str, grid: tuple, settings: MiniSettings) -> MiniFactorisation:
    return factorise(method, np.array(grid, dtype=float), settings)


def _keep_edits(key: str) -> None:
    """on_change of the grid: the edit joins the kept grid, and a fresh editor is drawn from it.
    When Reset was clicked before the edit's own run (both reach one run), Reset wins."""
    if st.session_state.get("mini_reset"):
        return
    st.session_state["mini_grid_data"] = with_edits(st.session_state["mini_grid_data"], st.session_state.get(key))
    st.session_state["mini_grid_version"] += 1


def _reset_grid() -> None:
    st.session_state["mini_grid_data"] = original_grid()
    st.session_state["mini_grid_version"] += 1


def grid_editor() -> tuple[pd.DataFrame, np.ndarray]:
    """The editable grid (text cells: a blank is an empty cell, never "None") and its values;
    Reset brings back the original grid."""
    st.session_state.setdefault("mini_grid_data", original_grid())
    version = st.session_state.setdefault("mini_grid_version", 0)
    st.markdown("**Ratings (1-5). An empty cell is unknown; edit any cell and the factorisation reruns.**")
    st.caption("A cell turns pink when what was typed is not a rating from 1 to 5 in half steps (e.g. 7 or "
               "“good”): it is not kept, and the cell keeps its last rating. Clear a cell to make it unknown.")
    key = f"mini_grid_{version}"
    st.data_editor(st.session_state["mini_grid_data"], key=key, num_rows="fixed", on_change=_keep_edits, args=(key,),
                   column_config={m: st.column_config.TextColumn(m, validate=RATING_PATTERN, alignment="center")
                                  for m in MINI_MOVIES})
    st.button("Reset the grid", icon=":material/restart_alt:", key="mini_reset", on_click=_reset_grid)
    cells = with_edits(st.session_state["mini_grid_data"], st.session_state.get(key))  # an edit not yet kept
    grid = as_ratings(cells)
    unreadable = np.isnan(grid) & (cells.to_numpy() != "")
    if unreadable.any():
        st.warning("Ratings are numbers from 1 to 5; these cells are read as blank: "
                   + ", ".join(f"{MINI_USERS[u]} / {MINI_MOVIES[m]}" for u, m in zip(*np.nonzero(unreadable))))
    return pd.DataFrame(grid, index=list(MINI_USERS), columns=list(MINI_MOVIES)), grid


def settings_controls() -> MiniSettings:
    with st.expander("Gradient descent and ALS settings"):
        a, b, c, d = st.columns(4)
        return MiniSettings(
            learning_rate=a.select_slider("Learning rate", [0.005, 0.01, 0.02, 0.05, 0.1], 0.02, key="mini_lr"),
            reg=b.select_slider("Regularisation", [0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0], 0.2, key="mini_reg"),
            steps=c.select_slider("Steps", [10, 50, 100, 200, 400, 1000], 400, key="mini_steps"),
            seed=int(d.number_input("Seed", 0, 10_000, 7, key="mini_seed")))


def show(result: MiniFactorisation, ratings: pd.DataFrame, blanks: np.ndarray, key: str) -> None:
    if len(result.blanks):
        for col, row in zip(st.columns(len(result.blanks)), result.blanks.itertuples()):
            col.metric(f"{row.user} / {row.movie}", f"{row.predicted:.2f}")
    if result.steps:
        st.caption(f"{len(result.steps) - 1} steps; error on the known cells (RMSE) went from "
                   f"{result.steps[0].rmse:.2f} to {result.steps[-1].rmse:.2f}.")
    left, right = st.columns(2)
    left.plotly_chart(figures.rating_heatmap(ratings, "Ratings (blanks outlined)", blanks), key=f"orig-{key}")
    right.plotly_chart(figures.rating_heatmap(result.reconstruction, "Reconstruction P·Qᵀ", blanks),
                       key=f"recon-{key}")
    left, right = st.columns(2)
    left.markdown("**Movie factors Q (5 x 2)**")
    left.dataframe(result.movie_factors.round(2), key=f"q-{key}")
    left.markdown("**User factors P (4 x 2)**")
    left.dataframe(result.user_factors.round(2), key=f"p-{key}")
    left.caption("Only the product P·Qᵀ is fixed by the data: each factor's scale is split evenly between people "
                 "and films, so both sit on the same axes.")
    right.plotly_chart(figures.mini_factor_map(result.user_factors, result.movie_factors,
                                               f"People and films on the {FACTOR_NAMES[0]} / {FACTOR_NAMES[1]} axes"),
                       key=f"map-{key}")


def step_by_step(result: MiniFactorisation, settings: MiniSettings, key: str) -> None:
    """The optimisation one step at a time (a slider), the error per step, and the animation."""
    st.subheader("Step by step")
    frames = frame_steps(len(result.steps))
    index = st.select_slider("Step", frames, value=frames[-1], key=f"mini_step_{key}")
    st.caption(step_sentence(key, index, result.steps, settings))
    st.plotly_chart(mini_figures.mini_step(result.steps, index), key=f"step-{key}")
    st.plotly_chart(mini_figures.error_per_step(result.steps, index), key=f"error-{key}")
    with st.expander("Play it as an animation (and save it for a class)", key=f"mini_animation_{key}",
                     on_change="rerun") as shown:
        if not shown.open:  # built when opened: an edit does not pay for every frame of every method
            return
        sentences = {i: step_sentence(key, i, result.steps, settings) for i in frames}
        animation = mini_figures.mini_animation(result.steps, frames, sentences)
        st.plotly_chart(animation, key=f"animation-{key}")
        st.download_button("Download the animation (HTML, plays without the server)",
                           lambda: mini_figures.animation_html(animation), f"mini-{key}-steps.html",
                           mime="text/html", key=f"download-{key}")


def main() -> None:
    st.title("Mini demo")
    st.caption("Four people, five films, two blanks. Matrix factorisation finds two hidden tastes, "
               "romance and sci-fi, and uses them to fill the blanks.")

    ratings, grid = grid_editor()
    blanks = np.isnan(grid)
    settings = settings_controls()
    if blanks.all(axis=1).any() or blanks.all(axis=0).any():
        st.warning("Every person and every film needs at least one rating.")
        st.stop()

    tabs = st.tabs([METHODS[m] for m in METHODS], key="mini_method", on_change="rerun")
    for tab, method in zip(tabs, METHODS):
        if not tab.open:  # only the open tab is factorised and drawn: an edit answers at once
            continue
        with tab:
            if method not in INSTANT and not st.session_state.get(f"mini_run_{method}"):
                st.caption("The product's Keras model with 2 non-negative factors: the same objective as gradient "
                           "descent, trained by Keras. It takes about 10 seconds, so it runs when you ask.")
                st.button("Fit the Keras model (about 10 s)", key=f"mini_start_{method}",
                          on_click=st.session_state.__setitem__, args=(f"mini_run_{method}", True))
                continue
            try:
                with st.spinner(f"Factorising with {METHODS[method]}…"):
                    result = factorise_cached(method, tuple(map(tuple, grid)), settings)
            except RecsysError as error:
                st.error(str(error))
                continue
            show(result, ratings, blanks, method)
            if result.steps:
                step_by_step(result, settings, method)


main()
