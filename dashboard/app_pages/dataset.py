"""Dataset statistics: counts, density, histograms, long tails, genres, time, top movies."""
import streamlit as st

from dashboard import figures, services
from recsys import stats

st.title("Dataset")
st.caption("What the data looks like before any model sees it.")

with st.expander("Upload your own ratings (CSV, or a zip holding one)"):
    st.write("Columns: user, item, rating and optionally timestamp (userId/movieId also work). The file "
             "is validated; nothing is written to disk.")
    st.radio("Rating scale", list(services.UPLOAD_SCALES), key="upload_scale", horizontal=True)
    st.file_uploader("Ratings file", type=["csv", "tsv", "txt", "zip"], key="upload_file",
                     on_change=services.handle_upload)
    outcome = st.session_state.get("upload_outcome")
    if outcome is not None:
        kind, message, notes = outcome
        (st.error if kind == "error" else st.success)(message)
        for note in notes:
            st.warning(note)

dataset = services.current_dataset()
if dataset is not None:
    key = dataset.fingerprint
    info = stats.summary(dataset)
    cols = st.columns(5)
    for col, name in zip(cols, ("ratings", "users", "movies", "density", "mean rating")):
        col.metric(name.capitalize(), info[name])
    st.caption(f"{info['dataset']} · ratings {info['scale']} · {info['sparsity']} of the user x movie "
               "matrix is empty")

    left, right = st.columns(2)
    left.plotly_chart(figures.rating_histogram(services.cached_table(key, "hist", lambda: stats.rating_histogram(dataset))))
    right.plotly_chart(figures.genre_bars(services.cached_table(key, "genres", lambda: stats.genre_table(dataset))))
    left, right = st.columns(2)
    left.plotly_chart(figures.long_tail(stats.counts_per(dataset, "user"), "user"))
    right.plotly_chart(figures.long_tail(stats.counts_per(dataset, "item"), "movie"))
    over_time = services.cached_table(key, "time", lambda: stats.ratings_over_time(dataset))
    if len(over_time):
        st.plotly_chart(figures.ratings_over_time(over_time))

    st.subheader("Most-rated and best-rated movies")
    min_count = st.slider("Minimum number of ratings for best-rated", 1, 200,
                          key=services.persistent("min_count", 50), on_change=services.keep, args=("min_count",))
    left, right = st.columns(2)
    left.markdown("**Most rated**")
    left.dataframe(stats.top_movies(dataset, "count"), hide_index=True)
    right.markdown(f"**Best rated** (at least {min_count} ratings)")
    right.dataframe(stats.top_movies(dataset, "mean_rating", min_count=min_count), hide_index=True)
