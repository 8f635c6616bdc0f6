"""Latent Factor Explorer: `streamlit run dashboard/app.py`. Declares the pages and the shared
sidebar; every page lives in dashboard/app_pages/."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import datasets, job_widgets  # noqa: E402

st.set_page_config(page_title="Latent Factor Explorer", page_icon=":material/movie:", layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Start here", icon=":material/home:", default=True),
    st.Page("app_pages/dataset.py", title="Dataset", icon=":material/bar_chart:"),
    st.Page("app_pages/matrix.py", title="Rating matrix", icon=":material/grid_on:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/factors.py", title="Latent factors", icon=":material/scatter_plot:"),
    st.Page("app_pages/recommend.py", title="Recommendations", icon=":material/movie:"),
    st.Page("app_pages/mini.py", title="Mini demo", icon=":material/lightbulb:"),
    st.Page("app_pages/lessons.py", title="Lessons", icon=":material/school:"),
    st.Page("app_pages/compare.py", title="Compare models", icon=":material/leaderboard:"),
    st.Page("app_pages/tune.py", title="Tune", icon=":material/tune:"),
]

page = st.navigation(PAGES)
datasets.dataset_sidebar()
job_widgets.jobs_panel()
page.run()
