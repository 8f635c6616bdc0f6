"""Widget state that survives moving between pages (Streamlit forgets widgets a page does not draw)."""
from __future__ import annotations

import streamlit as st


def persistent(key: str, default):
    """Key for a widget whose value is kept across pages."""
    store = f"_keep_{key}"
    if store not in st.session_state:
        st.session_state[store] = default
    if key not in st.session_state:
        st.session_state[key] = st.session_state[store]
    return key


def keep(key: str) -> None:
    """on_change hook that copies a widget's value to its kept slot."""
    st.session_state[f"_keep_{key}"] = st.session_state[key]


def choose(key: str, value) -> None:
    """Set a kept widget's value from code (a link or a button), for this page and the next."""
    st.session_state[key] = st.session_state[f"_keep_{key}"] = value
