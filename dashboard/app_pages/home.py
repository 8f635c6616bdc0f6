"""Start here: what the explorer is, the chosen dataset in four numbers, where each kind of
visitor begins, and the data at a glance. Its words come first and its one chart and table last,
so a first visit reads at once while the chart and table libraries load behind it (the next page
that draws a chart finds them ready)."""
import streamlit as st

from dashboard import datasets, figures, services
from dashboard.tables import MOVIE_COLUMNS, readable
from recsys.data import stats
from recsys.work.catalog import DEFAULT_FACTOR_MODEL, DEFAULT_RANKING_MODEL, DEFAULT_RATING_MODEL

#: (who, what they find, [(page file, link text, icon)])
PATHS = [
    ("Analysts", "A person's favourite movies beside the model's top-10, each with the movies that led to it; "
     "the map of every movie and user the model learned.",
     [("app_pages/recommend.py", "Recommendations", ":material/movie:"),
      ("app_pages/factors.py", "Latent factors", ":material/scatter_plot:")]),
    ("Teachers and students", "Matrix factorisation on 4 people and 5 movies you can edit (Alice, Bob, Carol, "
     "Dave; romance and sci-fi), then seven lessons on real MovieLens with handouts to save.",
     [("app_pages/mini.py", "Mini demo", ":material/lightbulb:"),
      ("app_pages/lessons.py", "Lessons", ":material/school:")]),
    ("Comparing models", "Every model's RMSE and top-10 quality on the same split, with intervals and paired "
     "tests, whom each model serves, and models trained elsewhere brought in as a file.",
     [("app_pages/compare.py", "Compare models", ":material/leaderboard:"),
      ("app_pages/train.py", "Train (live loss curves)", ":material/model_training:")]),
]


def main() -> None:
    st.title("Latent Factor Explorer")
    st.caption("Latent-factor recommenders trained on MovieLens, and what they learned. Pick the dataset in the "
               "sidebar; every page uses it.")
    dataset = datasets.current_dataset()
    if dataset is not None:
        info = stats.summary(dataset)
        for col, name in zip(st.columns(4), ("ratings", "users", "movies", "density")):
            col.metric(name.capitalize(), info[name])
        st.caption(f"{info['dataset']} · ratings {info['scale']}")

    st.subheader("Start here")
    for col, (who, what, links) in zip(st.columns(len(PATHS)), PATHS):
        with col.container(border=True):
            st.markdown(f"**{who}**")
            st.caption(what)
            for page, label, icon in links:
                st.page_link(page, label=label, icon=icon)
    st.page_link("app_pages/dataset.py", label="Dataset statistics", icon=":material/bar_chart:")
    st.page_link("app_pages/matrix.py", label="The rating matrix, cell by cell", icon=":material/grid_on:")
    st.caption(f"The models the pages open with: **{DEFAULT_RATING_MODEL}** for predicted ratings (a Bayesian "
               f"factorisation machine blended with two others), **{DEFAULT_RANKING_MODEL}** for top-10 lists and "
               f"**{DEFAULT_FACTOR_MODEL}** for the map. A model is trained once per dataset and split and kept; "
               "what is not trained yet trains when a page needs it, and the sidebar lists the jobs.")
    if dataset is not None:
        st.subheader("At a glance")
        left, right = st.columns(2)
        left.plotly_chart(figures.rating_histogram(services.cached_table(
            dataset.fingerprint, "hist", lambda: stats.rating_histogram(dataset)), title="How the ratings fall"))
        right.markdown("**Most rated movies**")
        top = stats.top_movies(dataset, "count", n=8)[["title", "count", "mean_rating"]]
        right.dataframe(readable(top, {"mean_rating": 2}), hide_index=True,
                        column_config={**MOVIE_COLUMNS, "title": st.column_config.TextColumn("title", width="large")})


main()
