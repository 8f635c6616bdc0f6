"""Tables formatted for people before they reach `st.dataframe`: Streamlit paints a missing cell
as "None", so missing values become a dash and numbers get a fixed number of decimals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from recsys.evaluation import glossary

MISSING = "—"
#: a movie table's columns: the title kept narrow enough that the count and the mean fit beside it
MOVIE_COLUMNS = {"title": st.column_config.TextColumn("title", width="medium"),
                 "count": st.column_config.NumberColumn("ratings", format="%d", width="small"),
                 "mean_rating": st.column_config.NumberColumn("mean", format="%.2f", width="small"),
                 "year": st.column_config.TextColumn("year", width="small")}


def readable(frame: pd.DataFrame, decimals: dict[str, int] | None = None, default_decimals: int = 2,
             missing: str = MISSING) -> pd.DataFrame:
    """A copy where every column holding a missing value is text (the value formatted, `missing`
    in the gaps); whole-number floats read as integers. Columns without gaps keep their type so
    they still sort as numbers."""
    decimals = decimals or {}
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[column] = values.map(lambda v: missing if _is_missing(v) else v)
            continue
        if not values.isna().any():
            if pd.api.types.is_float_dtype(values) and column in decimals:
                out[column] = values.round(decimals[column])
            continue
        places = decimals.get(column, default_decimals)
        out[column] = values.map(lambda v, places=places: missing if _is_missing(v) else _number(v, places))
    return out


def glossed(frame: pd.DataFrame) -> dict:
    """The frame with readable column names, and a column config giving each its one-line
    meaning as the header's tooltip: `st.dataframe(**glossed(frame), ...)`."""
    return {"data": frame.rename(columns={c: glossary.label(c) for c in frame.columns}),
            "column_config": column_help(frame.columns)}


def column_help(names) -> dict:
    """A column config giving each reported number's readable header its meaning as a tooltip."""
    import streamlit as st

    return {glossary.label(c): st.column_config.Column(glossary.label(c), help=glossary.meaning(c))
            for c in names if glossary.meaning(c)}


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(np.isnan(value))
    except (TypeError, ValueError):
        return False


def _number(value, places: int) -> str:
    if isinstance(value, (int, np.integer)) or float(value).is_integer():
        return f"{int(value)}" if abs(value) < 10_000 else f"{int(value):,}"
    return f"{float(value):.{places}f}"

