"""Latent-factor maps: movies and users in 2-D, coloured by genre, with nearest neighbours."""
import numpy as np
import streamlit as st

from dashboard import figures, services
from recsys import explore
from recsys.catalog import DEFAULT_FACTOR_MODEL, ranking_capable
from recsys.errors import RecsysError

PICKER_MAX = 5_000  # a drop-down of every title of MovieLens-32M (87k) would be slow to draw and to use

st.title("Latent factors")
st.caption("Each movie is a vector the model learned. Movies people rate alike end up close together.")

dataset = services.current_dataset()
if dataset is not None:
    factor_models = [m for m in ranking_capable() if m not in ("deep-mf",)] + ["gmf-ranking", "ials", "nmf"]
    c1, c2, c3 = st.columns(3)
    label = c1.selectbox("Model", factor_models, key=services.persistent("factors_model", DEFAULT_FACTOR_MODEL),
                         on_change=services.keep, args=("factors_model",))
    method = c2.radio("Projection", ["pca", "tsne", "raw"], horizontal=True,
                      format_func={"pca": "PCA", "tsne": "t-SNE", "raw": "first two factors"}.get,
                      help="Two-factor models are drawn as they are; t-SNE takes a few seconds.")
    min_count = c3.slider("Minimum ratings per movie", 1, 200, 20 if dataset.n_items > 100 else 1)
    all_genres = sorted({g for gs in dataset.items["genres"] for g in gs})
    genres = st.multiselect("Only these genres (empty = all)", all_genres)
    result = services.request_model(dataset, label)
    if result is not None:
        model = result.model
        try:
            points = services.item_points(result.key, method, min_count, tuple(genres), dataset, result)
        except RecsysError as error:
            st.warning(str(error))
            st.stop()
        if points.attrs.get("note"):
            st.caption(f"{points.attrs['note']}.")
        options = points.sort_values("count", ascending=False)["item"].head(PICKER_MAX).tolist()
        picked = st.selectbox("Pick a movie to see its nearest neighbours"
                              + (f" (the {PICKER_MAX:,} most rated)" if len(points) > PICKER_MAX else ""), options,
                              format_func=lambda i: dataset.titles([i])[0])
        neighbours, similarity = explore.cosine_neighbours(model.factors().items, int(picked), 10,
                                                           among=points["item"].to_numpy())
        tab_movies, tab_users = st.tabs(["Movies", "Users"])
        with tab_movies:
            left, right = st.columns([3, 1])
            left.plotly_chart(figures.latent_map(points, f"Movie vectors of {label} ({method.upper()})",
                                                 highlight=neighbours, selected=int(picked)))
            right.markdown(f"**Nearest to {dataset.titles([picked])[0]}**")
            right.dataframe({"movie": dataset.titles(neighbours), "cosine": np.round(similarity, 3)},
                            hide_index=True)
        with tab_users:
            users = services.user_points(result.key, "pca" if method == "tsne" and dataset.n_users > 2000 else method,
                                         dataset, result)
            if users.attrs.get("note"):
                st.caption(f"{users.attrs['note']}.")
            st.plotly_chart(figures.user_map(users, f"User vectors of {label}"))
