"""Dataset statistics: counts, density, histograms, long tails, genres, time, top movies."""
import streamlit as st

from dashboard import datasets, figures, services, state
from dashboard.tables import MOVIE_COLUMNS, readable
from recsys.data import stats, upload


def main() -> None:
    st.title("Dataset")
    st.caption("What the data looks like before any model sees it.")

    with st.expander("Upload your own ratings (CSV, MovieLens files, or a zip)"):
        caps = upload.UPLOAD_CAPS
        st.write("A ratings file with columns user, item, rating and optionally timestamp (userId/movieId also work; "
                 "a file without a header is read in that order), tab-, comma-, `;`- or `::`-separated, timestamps "
                 "as seconds or ISO dates. MovieLens' own files work as they are: `u.data`, `ratings.dat` or "
                 "`ratings.csv`, with `u.item`, `movies.dat` or `movies.csv` beside it (drop both, or a zip) for titles "
                 f"and genres. At most {caps['ratings']:,} ratings, {caps['users']:,} users and {caps['movies']:,} movies.")
        st.caption("**What is kept.** The file is read in memory and stays with this browser session only. Models "
                   "you train on it are kept in this session's memory and a private scratch folder on the server, "
                   "never in the shared model store; no other session sees them or their jobs, and the server log "
                   "does not name the file. All of it is deleted when this session ends (closing the tab) or the "
                   "server restarts, or now with the button below.")
        st.radio("Rating scale", list(datasets.UPLOAD_SCALES), key="upload_scale", horizontal=True)
        key = datasets.uploader_key()
        st.file_uploader("Ratings file (and its movies file)", type=["csv", "tsv", "txt", "zip", "dat", "data", "item"],
                         key=key, on_change=datasets.handle_upload, args=(key,), accept_multiple_files=True,
                         help="Drop the ratings file and its movies file together (or a zip of both). After each "
                              "file is read the uploader empties; the message below names the file in use.")
        outcome = st.session_state.get("upload_outcome")
        if outcome is not None:
            kind, message, notes = outcome
            (st.error if kind == "error" else st.success)(message)
            for note in notes:
                st.warning(note)
        if "uploaded_dataset" in st.session_state:
            st.button("Delete my upload and the models trained on it", key="forget_upload",
                      on_click=services.forget_private)

    with st.expander("Every dataset, and where it stands on this server"):
        st.dataframe(readable(datasets.status_table(datasets.statuses())), hide_index=True)
        st.caption("Pick one in the sidebar. A set that is not here yet offers its download (the official GroupLens "
                   "zip, checked against its MD5). The first open of a big set reads its files once and keeps a fast "
                   "local copy, keyed by their checksum; later opens read that. Synthetic sets are generated, never "
                   "MovieLens, and are labelled so wherever they appear.")

    dataset = datasets.current_dataset()
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
        st.plotly_chart(figures.ratings_over_time(over_time))

        st.subheader("Most-rated and best-rated movies")
        min_count = st.slider("Minimum number of ratings for best-rated", 1, 200,
                              key=state.persistent("min_count", 50), on_change=state.keep, args=("min_count",))
        left, right = st.columns(2)
        left.markdown("**Most rated**")
        left.dataframe(readable(stats.top_movies(dataset, "count"), {"mean_rating": 2}), hide_index=True,
                       column_config=MOVIE_COLUMNS)
        right.markdown(f"**Best rated** (at least {min_count} ratings)")
        best = stats.top_movies(dataset, "mean_rating", min_count=min_count)
        if best.empty:
            right.info(f"No movie has {min_count} or more ratings; lower the minimum above.")
        else:
            right.dataframe(readable(best, {"mean_rating": 2}), hide_index=True, column_config=MOVIE_COLUMNS)


main()
