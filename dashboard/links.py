"""Links between pages that carry what they came from: the dataset, the model (a preset label,
tuned settings included), the split and the user travel in the link's query string, and the page
that opens applies them once and says where it was opened from."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from dashboard.privacy import is_private
from dashboard.state import choose
from recsys.data.split import Split

RECOMMEND_PAGE = "app_pages/recommend.py"


def split_name(split: Split, names: dict[str, Split]) -> str | None:
    """The name a page's split picker shows for this split (None: that page does not offer it)."""
    return next((name for name, known in names.items() if known == split), None)


def user_link(dataset, label: str, split: Split, user_id, origin: str, splits: dict[str, Split],
              container=st) -> None:
    """A link to this user's favourites and top-10 by the model and split the origin page shows."""
    params = {"model": label, "user": str(user_id), "from": origin}
    named = split_name(split, splits)
    if named is not None:
        params["split"] = named
    if not is_private(dataset):  # an upload is this session's only: its name means nothing elsewhere
        params["dataset"] = dataset.name
    container.page_link(RECOMMEND_PAGE, icon=":material/movie:", query_params=params,
                        label=f"Open user {user_id}'s top-10 by {label}")


def take_link(models: list[str], splits: dict[str, Split], pick_user: Callable[[str], None]) -> str | None:
    """Apply a link's model, split and user to this page's pickers, once per link (a person's
    later picks on the page win), and return the sentence saying where it came from."""
    params = {key: st.query_params.get(key) for key in ("model", "split", "user", "from")}
    if params["from"] is None:
        return None
    stamp = tuple(sorted((k, v) for k, v in params.items() if v is not None))
    if st.session_state.get("_applied_link") != stamp:
        st.session_state["_applied_link"] = stamp
        if params["model"] in models:
            choose("rec_model", params["model"])
        if params["split"] in splits:
            choose("rec_split", params["split"])
        if params["user"] is not None:
            pick_user(params["user"])
    return (f"Opened from {params['from']}: {params['model']}"
            + (f", trained on {params['split']}" if params["split"] else "") + ", as shown there.")
