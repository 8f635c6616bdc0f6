"""The dataset picker on every page: every registered MovieLens set with its status, background
downloads with progress, synthetic sets (labelled), and the user's own upload."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.state import choose, keep, persistent
from recsys.data import sources
from recsys.data.dataset import Dataset
from recsys.data.downloads import Download, Downloads
from recsys.data.sources import DatasetStatus
from recsys.data.upload import MOVIES_NAMES, SCALES, UPLOAD_CAPS, read_ratings_file
from recsys.data.upload.reporting import scale_note
from recsys.errors import DataError, RecsysError

UPLOAD = "uploaded file"
UPLOAD_SCALES = {"read it off the file": "auto", "0.5-5 in half stars": "half-stars", "1-5 whole stars": "whole-stars"}
DEFAULT = "ml-latest-small"
STATE_TEXT = {"embedded": "built in", "synthetic": "SYNTHETIC, generated here", "local": "on this server",
              "downloaded": "downloaded", "download": "not here yet: download"}


def default_dataset() -> str:
    return DEFAULT


def picker_label(status: DatasetStatus) -> str:
    """How the sidebar lists a dataset: its name, and what opening it involves when that is not instant."""
    if status.state == "download":
        return f"{status.name} · download {status.size_mb:,.0f} MB"
    if status.synthetic:
        return f"{status.name} · synthetic"
    return status.name


def status_table(statuses: list[DatasetStatus]) -> pd.DataFrame:
    """One row per registered dataset for the Dataset page: what it is and where it stands here."""
    return pd.DataFrame({"dataset": [s.name for s in statuses], "what": [s.description for s in statuses],
                         "status": [STATE_TEXT[s.state] for s in statuses],
                         "zip size (MB)": [round(s.size_mb) if s.state != "embedded" and not s.synthetic else None
                                           for s in statuses]})


def statuses() -> list[DatasetStatus]:
    return [sources.status(name) for name in sources.REGISTRY]


@st.cache_resource(show_spinner="Loading the dataset (the first open of a big set builds a fast local copy)…",
                   max_entries=3)
def load_dataset(name: str) -> Dataset:
    """A registered dataset, shared by every session; at most three stay in memory."""
    return sources.load(name, download=False)


@st.cache_resource(show_spinner=False)
def downloads() -> Downloads:
    """The server's downloads: one per dataset, shared by every session."""
    return Downloads()


def dataset_sidebar() -> None:
    """The dataset picker shown on every page."""
    known = {status.name: status for status in statuses()}
    linked = st.query_params.get("dataset")
    if linked in known and st.session_state.get("_linked_dataset") != linked:  # a link such as ?dataset=ml-1m
        st.session_state["_linked_dataset"] = linked
        choose("dataset", linked)
    choices = list(known) + ([UPLOAD] if "uploaded_dataset" in st.session_state else [])
    key = persistent("dataset", DEFAULT)
    # the chosen one is also the widget's default: when the browser redraws the picker afresh (a page
    # switch while the jobs panel redraws itself) it shows the default, and the next run would take it
    chosen = choices.index(st.session_state[key]) if st.session_state[key] in choices else 0
    st.sidebar.selectbox("Dataset", choices, index=chosen, key=key, on_change=keep, args=("dataset",),
                         format_func=lambda name: picker_label(known[name]) if name in known else name,
                         help="Every MovieLens set GroupLens publishes, the embedded mini example, synthetic "
                              "sets with MovieLens-25M's shape (not real ratings), or your own upload on the "
                              "Dataset page.")
    st.sidebar.caption("Models are cached in artifacts/ and reused across pages and sessions.")


def open_page(title: str, caption: str) -> Dataset | None:
    """A page's title and the line under it, then the chosen dataset (None: the page said why)."""
    st.title(title)
    st.caption(caption)
    return current_dataset()


def current_dataset(show_error: bool = True) -> Dataset | None:
    """The chosen dataset, or None after explaining in the page why it is not available (and
    offering its download)."""
    name = st.session_state.get("dataset", DEFAULT)
    if name == UPLOAD:
        return st.session_state.get("uploaded_dataset")
    if name not in sources.REGISTRY:
        choose("dataset", DEFAULT)
        name = DEFAULT
    status = sources.status(name)
    if not status.ready:
        if show_error:
            download_panel(status)
        return None
    try:
        dataset = load_dataset(name)
    except RecsysError as error:
        if show_error:
            st.error(f"**{name} is not available.**\n\n{error}")
        return None
    if dataset.synthetic and show_error:
        st.warning(f"**{name} holds synthetic ratings, not MovieLens**: generated with MovieLens-25M's shape "
                   "(users, movies, long tails) to try the scale; its titles and genres are made up.")
    return dataset


def download_panel(status: DatasetStatus) -> None:
    """A dataset that is not on the server yet: what it is, and its download with progress."""
    st.info(f"**{status.name}** ({status.description}) is not on this server yet. It is a {status.size_mb:,.0f} MB "
            "download of the official GroupLens zip, checked against its published MD5 before it is unpacked "
            "into the artifacts folder. Or set RECSYS_DATA_DIR to a folder holding it and restart.")
    current = downloads().get(status.name)
    if current is not None and current.active:
        _follow_download(status.name)
        return
    if current is not None and current.error:
        st.error(current.describe())
    st.button(f"Download {status.name} ({status.size_mb:,.0f} MB)", key=f"download_{status.name}", type="primary",
              on_click=_start_download, args=(status.name,))


def _start_download(name: str) -> None:
    downloads().start(name)


@st.fragment(run_every=1)
def _follow_download(name: str) -> None:
    current: Download | None = downloads().get(name)
    if current is None:
        return
    st.progress(current.fraction, text=current.describe())
    if current.finished:
        if not current.error:
            downloads().forget(name)
        st.rerun()


def uploader_key() -> str:
    """The uploader's key this round: a new, empty uploader after each file is read, so the
    uploader never lists an earlier file beside the current one (the outcome names it)."""
    rounds = st.session_state.get("_upload_round", 0)
    return "upload_file" if rounds == 0 else f"upload_file_{rounds}"


def handle_upload(key: str = "upload_file") -> None:
    """on_change hook of the uploader: validate the file(s) through recsys, remember the outcome,
    and switch the dataset picker to it when it is valid. A ratings file may come with its
    movies file (u.item, movies.dat, movies.csv), dropped together or zipped."""
    uploads = st.session_state.get(key) or []
    try:
        _read_upload(uploads)
    finally:
        if uploads:
            st.session_state["_upload_round"] = st.session_state.get("_upload_round", 0) + 1


def _read_upload(uploads) -> None:
    """The uploaded file(s) into this session's dataset, or the outcome saying every problem."""
    if not isinstance(uploads, list):
        uploads = [uploads]
    if not uploads:
        st.session_state.pop("upload_outcome", None)
        return
    try:
        ratings, items = split_uploads([(u.name, u.getvalue()) for u in uploads])
        scale = SCALES[UPLOAD_SCALES[st.session_state.get("upload_scale", next(iter(UPLOAD_SCALES)))]]
        dataset = read_ratings_file(ratings[1], name=f"upload:{ratings[0]}", scale=scale, caps=UPLOAD_CAPS,
                                    items_source=items[1] if items else None)
    except RecsysError as error:
        names = " and ".join(u.name for u in uploads)
        st.session_state["upload_outcome"] = ("error", f"**{names} was not loaded.** {error}", ())
        return
    st.session_state["uploaded_dataset"] = dataset
    choose("dataset", UPLOAD)
    with_items = f" with titles and genres from {items[0]}" if items else ""
    said = scale_note(dataset.scale, scale is None)
    st.session_state["upload_outcome"] = ("success", f"Loaded {dataset.n_ratings:,} ratings from {ratings[0]}"
                                          f"{with_items}; the pages now show “{UPLOAD}” (switch back in the "
                                          f"sidebar). The {said}" + ("; choose a scale above to read it otherwise."
                                                                      if scale is None else "."),
                                          tuple(note for note in dataset.notes if note != said))


def split_uploads(files: list[tuple[str, bytes]]) -> tuple[tuple[str, bytes], tuple[str, bytes] | None]:
    """(ratings file, movies file or None) among the uploaded files (oldest first), told apart by
    MovieLens' names; a file uploaded later replaces an earlier one of its kind."""
    movies = [f for f in files if f[0].lower() in MOVIES_NAMES or f[0].lower().startswith(("movies", "items"))]
    ratings = [f for f in files if f not in movies]
    if not ratings:
        raise DataError("add the ratings file too: only a movies file (titles and genres) was uploaded")
    return ratings[-1], (movies[-1] if movies else None)
