"""The mini demo's editable grid as text cells (pure functions, tested without Streamlit): the
tutorial's grid, a data editor's edits applied to it, and the cells read as ratings."""
from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.readers import MINI_MATRIX, MINI_MOVIES, MINI_USERS


def original_grid() -> pd.DataFrame:
    """The tutorial's grid as text cells: a blank is an empty string."""
    return pd.DataFrame([["" if np.isnan(v) else f"{v:g}" for v in row] for row in MINI_MATRIX],
                        index=list(MINI_USERS), columns=list(MINI_MOVIES))


def with_edits(grid: pd.DataFrame, edits: dict) -> pd.DataFrame:
    """The grid with a data editor's edited rows applied; a cleared cell (None) becomes "",
    since Streamlit paints a null cell as "None"."""
    grid = grid.copy()
    for row, changes in (edits or {}).get("edited_rows", {}).items():
        for column, value in changes.items():
            grid.iat[int(row), grid.columns.get_loc(column)] = "" if value is None else str(value).strip()
    return grid


def as_ratings(cells: pd.DataFrame) -> np.ndarray:
    """Text cells as ratings: NaN where a cell is empty or not a rating from 1 to 5."""
    def value(text: str) -> float:
        try:
            number = float(str(text).replace(",", "."))
        except ValueError:
            return np.nan
        return number if 1 <= number <= 5 else np.nan
    return np.array([[value(v) if str(v).strip() else np.nan for v in row] for row in cells.to_numpy()], dtype=float)
