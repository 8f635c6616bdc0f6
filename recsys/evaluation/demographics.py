"""Groups of users by what a dataset says about them (ml-100k's u.user: age, gender, occupation),
for the segment table and "whom does it help" by group. A dataset without demographics has none,
and the pages say so."""
from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.evaluation.fairness import bootstrap, weighted_mean

#: age bands (inclusive bounds), as MovieLens 1M bins ages
AGE_BANDS = ((0, 17, "under 18"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 49, "45-49"),
             (50, 55, "50-55"), (56, 200, "56+"))
GENDERS = {"M": "men", "F": "women"}
KINDS = ("age", "gender", "occupation")


def user_groups(dataset: Dataset) -> dict[str, pd.Categorical]:
    """Each demographic kind the dataset has, as one label per user index (ordered categories)."""
    users = dataset.users
    if users is None:
        return {}
    out: dict[str, pd.Categorical] = {}
    if "age" in users:
        age = pd.to_numeric(users["age"], errors="coerce").to_numpy()
        names = [name for _, _, name in AGE_BANDS]
        labels = np.full(len(age), None, dtype=object)
        for low, high, name in AGE_BANDS:
            labels[(age >= low) & (age <= high)] = name
        out["age"] = pd.Categorical(labels, names, ordered=True)
    if "gender" in users:
        out["gender"] = pd.Categorical(users["gender"].map(GENDERS), list(GENDERS.values()), ordered=True)
    if "occupation" in users:
        jobs = users["occupation"].astype("string").str.strip()
        out["occupation"] = pd.Categorical(jobs, sorted(jobs.dropna().unique()), ordered=True)
    return out


def help_by_group(versus: pd.DataFrame, dataset: Dataset, resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """"Whom does it help" by group: for each demographic group, its users, the mean change of
    their RMSE (b - a; below 0: b helps) with a bootstrap interval over the group's users, and
    the share b helps. Empty when the dataset has no demographics."""
    groups = user_groups(dataset)
    index = pd.Index(dataset.user_ids).get_indexer(versus["user"])
    rows = []
    for kind, labels in groups.items():
        for name in labels.categories:
            members = np.asarray(labels[index] == name)
            change = versus["change"].to_numpy()[members]
            if change.size == 0:
                continue
            mean, low, high = bootstrap(np.c_[change, np.ones(change.size)], weighted_mean, resamples, seed)
            rows.append({"kind": kind, "group": name, "users": int(change.size), "mean_change": mean,
                         "mean_change_low": low, "mean_change_high": high, "helped": float((change < 0).mean())})
    return pd.DataFrame(rows, columns=["kind", "group", "users", "mean_change", "mean_change_low", "mean_change_high",
                                       "helped"])
