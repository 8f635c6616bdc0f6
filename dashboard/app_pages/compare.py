"""Compare models with confidence: every number with its 95% interval, which differences hold,
where the models differ, whom one helps, and what their top-10s do beyond accuracy."""
import pandas as pd
import streamlit as st

from dashboard import compare_figures as cf, compare_outside, datasets, state
from dashboard import compare_panels as panels
from dashboard import services
from dashboard.tables import glossed, readable
from recsys.data.split import fold_splits
from recsys.evaluation.compare import comparison, fold_table
from recsys.evaluation.confidence import fold_pairs
from recsys.evaluation.evaluate import GROUP_COLUMNS
from recsys.work.catalog import DEFAULT_COMPARISON, all_labels

#: what the folds protocol does not show, and why
FOLDS_LEAVE_OUT = ("Over folds this page shows each model's mean with its interval, the paired differences, the "
                   "top-10 measures and the curves. Errors by segment, whom a model helps and warm against new rows "
                   "are per-user results of one split, and five folds' users cannot be lined up into one figure: "
                   "choose “single split” and “5-fold, fold 1” to see them on one of these folds.")


def choices(dataset) -> tuple[list[str], list]:
    """The models and the split (or the five folds) to compare them on."""
    default = [m for m in DEFAULT_COMPARISON if m in all_labels()]
    labels = st.multiselect("Models", all_labels(), key=state.persistent("compare_models", default),
                            on_change=state.keep, args=("compare_models",))
    protocol = st.radio("Protocol", ["single split", "folds (mean and spread)"], horizontal=True,
                        key=state.persistent("compare_protocol", "single split"),
                        on_change=state.keep, args=("compare_protocol",))
    if protocol == "single split":
        split_name = st.selectbox("Split", services.split_choices(dataset),
                                  key=state.persistent("compare_split", services.split_choices(dataset)[0]),
                                  on_change=state.keep, args=("compare_split",))
        return labels, [services.SPLITS[split_name]]
    splits = fold_splits(dataset, 5)
    st.caption(f"{len(splits)} folds: " + ", ".join(s.label() for s in splits))
    return labels, splits


def warm_and_new(table: pd.DataFrame, result) -> None:
    """Error on warm rows and on rows of new users and new movies (one split), with intervals."""
    if "n_warm" not in table:
        return
    st.subheader("Warm and new rows")
    if sum(table[c].sum() for c in ("n_new_user", "n_new_item") if c in table):
        st.caption("Warm rows: the model was fitted on ratings of both the user and the movie. New users and new "
                   "movies had no rating in its training data; every model answers them with the mean plus the known "
                   "bias (and, for new users, how newcomers tend to rate), so their error shows what a split asks of "
                   "cold start.")
        st.plotly_chart(cf.segment_bars(result.segments, "row group"), key="row_groups")
        st.dataframe(**glossed(readable(table[["model"] + [c for c in GROUP_COLUMNS if c in table]].round(4),
                                       default_decimals=4)), hide_index=True)
    else:
        st.caption(f"Every one of the {int(table['n_warm'].iloc[0]):,} test rows is warm on this split: each test "
                   "user and movie has training ratings.")


def _with_outside(dataset, split, results: dict, outside: dict):
    """The comparison with this session's outside models in it, kept for this session only (an
    upload never enters the server's shared cache); recomputed when the models or files change."""
    key = (tuple(r.key for r in results.values()), tuple(outside))  # outside: by name and file content
    memo = st.session_state.get("outside_comparison")
    if memo is None or memo[0] != key:
        with st.spinner("Comparing, with the outside models…"):
            theirs = {content[0]: model for content, model in outside.items()}
            memo = (key, comparison(dataset, split, {**{label: r.model for label, r in results.items()}, **theirs}))
        st.session_state["outside_comparison"] = memo
    return memo[1]


def one_split(dataset, split, found: dict, labels: list[str]) -> None:
    """Intervals by bootstrap over the test users, pairs, segments, users and beyond accuracy."""
    results = {label: result for (label, _), result in found.items()}
    outside = compare_outside.outside(dataset, split, set(labels))
    result = _with_outside(dataset, split, results, outside) if outside else services.comparison(
        tuple(r.key for r in results.values()), dataset, split, {label: r.model for label, r in results.items()})
    stored = pd.DataFrame([{"model": label, **r.metrics, "fit_seconds": r.fit_seconds} for label, r in results.items()])
    panels.numbers(result.models.merge(stored[["model", "fit_seconds"]], on="model", how="left"),
                   "95% intervals by bootstrap over the test users (1,000 seeded resamples): the same users are "
                   "resampled for every model.")
    panels.differences(result.pairs)
    panels.where(result, dataset)
    panels.whom(result, dataset, split)
    panels.beyond(result.models)
    panels.serves(result, dataset, split)
    warm_and_new(stored, result)
    panels.training(found, stored, folds=False)


def over_folds(found: dict) -> None:
    """Means over folds with t-intervals, and the spread of each model's curves."""
    rows = [{"model": label, "split": split.label(), **result.metrics, "fit_seconds": result.fit_seconds}
            for (label, split), result in found.items()]
    table = fold_table(pd.DataFrame(rows))
    panels.numbers(table, "Means over the folds with 95% t-intervals (k - 1 degrees of freedom).")
    panels.differences(fold_pairs(pd.DataFrame(rows)), panels.PAIRED_ON_FOLDS)
    st.info(FOLDS_LEAVE_OUT, icon=":material/info:")
    panels.beyond(table)
    panels.training(found, table, folds=True)


def main() -> None:
    dataset = datasets.open_page("Compare models", "Every number comes from cached artifacts, with its 95% "
                                 "interval; train what is missing with one button.")
    if dataset is None:
        return
    labels, splits = choices(dataset)
    found = panels.gather(dataset, labels, splits)
    if not found:
        if not labels:
            st.info("Choose at least one model.")
        return
    if len(splits) == 1:
        one_split(dataset, splits[0], found, labels)
    else:
        over_folds(found)


main()
