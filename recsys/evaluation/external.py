"""Results of a model trained elsewhere, scored on exactly our split next to our models.

A CSV of **predictions** (user, item, prediction) gives rating metrics; a CSV of **ranked lists**
(user, item and rank, lower first, or score, higher first) gives top-k metrics. Ids are the
dataset's own, as `recsys split export` writes them. The file is checked against the split before
anything is scored, and refused with every problem named by its first few lines:

- predictions must cover every test row, lists every evaluated user (one with a relevant test
  rating), so nobody's hard cases are left out;
- no unknown user or movie ids, no unreadable numbers, no (user, item) twice;
- no training row predicted or listed: those are the answers the model was given.

Once in, it is a `Recommender` like any other (`ExternalModel`), so the comparison treats it as
one of ours: intervals, paired tests, segments, beyond accuracy. Nothing of it is written anywhere.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset, Ratings
from recsys.data.split import Split
from recsys.data.upload import UPLOAD_CAPS
from recsys.errors import DataError
from recsys.evaluation.evaluate import evaluated_users
from recsys.models.base import Recommender
from recsys.models.loop import History

SHOWN_LINES = 5  # offending lines named per problem
VALUE_COLUMNS = ("prediction", "rank", "score")


@dataclass(frozen=True)
class ExternalResults:
    """A checked file: (user, item) indices and values, and what kind of values they are."""

    name: str
    kind: str              # "prediction", "rank" or "score"
    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    rows: int


def _lines(mask: np.ndarray) -> str:
    """'lines 2, 7 and 9' (CSV line numbers, the header being line 1), the first few of them."""
    numbers = np.flatnonzero(mask)[:SHOWN_LINES] + 2
    more = int(mask.sum()) - len(numbers)
    text = ", ".join(map(str, numbers))
    return f"line{'s' if mask.sum() > 1 else ''} {text}" + (f" and {more:,} more" if more > 0 else "")


def _indices(raw: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Each raw id's index among `ids` (compared as text, so 7 and "7" agree), -1 where unknown."""
    lookup = pd.Index(pd.Series(ids).astype(str))
    return lookup.get_indexer(raw.astype(str).str.strip())


def _pairs(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    return users.astype(np.int64) * n_items + items.astype(np.int64)


def read_external(name: str, source: Path | bytes | str, dataset: Dataset, train: Ratings,
                  test: Ratings, threshold: float = 4.0) -> ExternalResults:
    """Read and check one file of predictions or ranked lists against the split (see the module)."""
    name = name.strip()
    if not name:
        raise DataError("an external model needs a name")
    try:
        raw = pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source, dtype=str,
                          skipinitialspace=True, nrows=UPLOAD_CAPS["ratings"] + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{name}: not a readable CSV file ({error})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    kinds = [c for c in VALUE_COLUMNS if c in raw.columns]
    if not {"user", "item"} <= set(raw.columns) or len(kinds) != 1:
        raise DataError(f"{name}: the columns must be user, item and one of prediction, rank or score "
                        f"(found {', '.join(raw.columns) or 'none'})")
    if len(raw) > UPLOAD_CAPS["ratings"]:
        raise DataError(f"{name}: more than {UPLOAD_CAPS['ratings']:,} rows")
    if raw.empty:
        raise DataError(f"{name}: the file has no rows")
    kind = kinds[0]
    problems: list[str] = []
    users, items = _indices(raw["user"], dataset.user_ids), _indices(raw["item"], dataset.item_ids)
    values = pd.to_numeric(raw[kind], errors="coerce").to_numpy(dtype=np.float64)
    for mask, what in ((users < 0, "user ids that are not in the dataset"),
                       (items < 0, "movie ids that are not in the dataset"),
                       (~np.isfinite(values), f"{kind} values that are not numbers")):
        if mask.any():
            problems.append(f"{mask.sum():,} {what} ({_lines(mask)})")
    known = (users >= 0) & (items >= 0)
    pairs = np.where(known, _pairs(np.maximum(users, 0), np.maximum(items, 0), dataset.n_items), -1 - np.arange(len(raw)))
    repeated = pd.Series(pairs).duplicated().to_numpy() & known
    if repeated.any():
        problems.append(f"{repeated.sum():,} (user, item) pairs given twice ({_lines(repeated)})")
    trained = known & np.isin(pairs, _pairs(train.users, train.items, dataset.n_items))
    if trained.any():
        problems.append(f"{trained.sum():,} rows are training ratings, the answers the model was given "
                        f"({_lines(trained)})")
    if kind == "prediction":
        missing = ~np.isin(_pairs(test.users, test.items, dataset.n_items), pairs)
        if missing.any():
            first = np.flatnonzero(missing)[:SHOWN_LINES]
            examples = ", ".join(f"user {dataset.user_ids[test.users[r]]} / movie {dataset.item_ids[test.items[r]]}"
                                 for r in first)
            problems.append(f"{missing.sum():,} of {len(test):,} test rows have no prediction (e.g. {examples})")
    else:
        absent = np.setdiff1d(evaluated_users(test, threshold), users[known])
        if absent.size:
            problems.append(f"{absent.size:,} evaluated users have no list (e.g. users "
                            f"{', '.join(str(dataset.user_ids[u]) for u in absent[:SHOWN_LINES])})")
    if problems:
        raise DataError(f"{name} was not taken: " + "; ".join(problems) + ".")
    return ExternalResults(name, kind, users.astype(np.int64), items.astype(np.int64), values, len(raw))


class ExternalModel(Recommender):
    """An outside model's checked results as a model: its predictions looked up, its lists as
    scores. It cannot fold in or be saved; it is fitted only to learn the training data's shape
    (known users and movies, the fallback) like every model."""

    name = "external"
    seconds_per_100k = 1
    description = "predictions or ranked lists made outside this project, checked against the split"

    def __init__(self, results: ExternalResults) -> None:
        super().__init__()
        self.results, self.label = results, results.name

    @property
    def predicts_ratings(self) -> bool:
        return self.results.kind == "prediction"

    @property
    def ranks(self) -> bool:
        """Whether it has lists to score top-k with (a predictions file does not)."""
        return self.results.kind != "prediction"

    def _fit(self, train, valid, callbacks, stop) -> History:
        r = self.results
        keys = _pairs(r.users, r.items, self.n_items)
        order = np.argsort(keys)
        self._keys, self._values = keys[order], (-r.values if r.kind == "rank" else r.values)[order]
        return History()

    def _lookup(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, value) of each pair in the file."""
        keys = _pairs(users, items, self.n_items)
        at = np.clip(np.searchsorted(self._keys, keys), 0, max(len(self._keys) - 1, 0))
        return (self._keys[at] == keys) if len(self._keys) else np.zeros(len(keys), bool), self._values[at]

    def predict(self, users: np.ndarray, items: np.ndarray, when: np.ndarray | None = None) -> np.ndarray:
        """Its own prediction wherever the file has one (new users and movies included: the outside
        model answered those rows), the fallback elsewhere; clipped to the scale."""
        self._require_fitted()
        users, items = np.asarray(users, dtype=np.int64).ravel(), np.asarray(items, dtype=np.int64).ravel()
        out = self.fallback_prediction(users, items)
        found, values = self._lookup(users, items)
        out[found] = values[found]
        return self.scale.clip(out).astype(np.float32)

    def _predict_known(self, users, items):
        found, values = self._lookup(users, items)
        return np.where(found, values, self.fallback_prediction(users, items))

    def _score_known(self, users):
        users = np.asarray(users, dtype=np.int64)
        out = np.full((len(users), self.n_items), -np.inf)
        row_of = {int(u): n for n, u in enumerate(users)}
        r_users, r_items = self._keys // self.n_items, self._keys % self.n_items
        mine = np.isin(r_users, users)
        rows = np.array([row_of[int(u)] for u in r_users[mine]], dtype=np.int64)
        out[rows, r_items[mine]] = self._values[mine]
        return out


def external_model(name: str, source: Path | bytes | str, dataset: Dataset, split: Split) -> ExternalModel:
    """Read, check and fit (to the split's training part) one outside model's file."""
    train, test = split.apply(dataset)
    model = ExternalModel(read_external(name, source, dataset, train, test))
    model.fit(train)
    return model
