"""The 4 x 5 romance/sci-fi example: edit the grid, factorise it with NMF and the 2-factor Keras
model, and see the hidden "romance" and "sci-fi" factors fill the two blanks."""
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import figures
from recsys.errors import RecsysError
from recsys.mini import FACTOR_NAMES, factorise
from recsys.readers import MINI_MATRIX, MINI_MOVIES, MINI_USERS

st.title("Mini demo")
st.caption("Four people, five films, two blanks. Matrix factorisation finds two hidden tastes, "
           "romance and sci-fi, and uses them to fill the blanks.")


@st.cache_data(show_spinner=False, max_entries=64)
def factorise_cached(model: str, grid: tuple) -> object:
    return factorise(model, np.array(grid, dtype=float))


original = pd.DataFrame(MINI_MATRIX, index=list(MINI_USERS), columns=list(MINI_MOVIES))
st.markdown("**Ratings (1-5). Empty cells are unknown; edit any cell and the factorisation reruns.**")
edited = st.data_editor(original, key="mini_grid", num_rows="fixed",
                        column_config={m: st.column_config.NumberColumn(m, min_value=1, max_value=5, step=0.5)
                                       for m in MINI_MOVIES})
grid = edited.to_numpy(dtype=float)
blanks = np.isnan(grid)
if blanks.all(axis=1).any() or blanks.all(axis=0).any():
    st.warning("Every person and every film needs at least one rating.")
    st.stop()

tabs = st.tabs(["NMF (scikit-learn, k=2)", "Keras 2-factor model"])
for tab, model in zip(tabs, ("nmf", "mf")):
    with tab:
        with st.spinner(f"Factorising with {model}…"):
            try:
                result = factorise_cached(model, tuple(map(tuple, grid)))
            except RecsysError as error:
                st.error(str(error))
                continue
        if len(result.blanks):
            cols = st.columns(len(result.blanks))
            for col, row in zip(cols, result.blanks.itertuples()):
                col.metric(f"{row.user} / {row.movie}", f"{row.predicted:.2f}")
        left, right = st.columns(2)
        left.plotly_chart(figures.rating_heatmap(edited, "Ratings (blanks outlined)", blanks), key=f"orig-{model}")
        right.plotly_chart(figures.rating_heatmap(result.reconstruction, "Reconstruction P·Qᵀ", blanks),
                           key=f"recon-{model}")
        left, right = st.columns(2)
        left.markdown("**Movie factors Q (5 x 2)**")
        left.dataframe(result.movie_factors.round(3))
        left.markdown("**User factors P (4 x 2)**")
        left.dataframe(result.user_factors.round(3))
        right.plotly_chart(figures.mini_factor_map(result.user_factors, result.movie_factors,
                                                   f"People and films on the {FACTOR_NAMES[0]} / "
                                                   f"{FACTOR_NAMES[1]} axes"), key=f"map-{model}")
