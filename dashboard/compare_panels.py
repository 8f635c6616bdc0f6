"""The Compare page's sections: the runs found and the button for the missing ones, numbers with
their intervals, which differences hold, where the models differ, whom one model helps, and what
the top-10s do beyond accuracy. Each takes what it shows as parameters."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import compare_figures as cf, job_widgets, state
from dashboard import figures, links, services
from dashboard.tables import MISSING, column_help, glossed, readable
from recsys.errors import ArtifactError, RecsysError
from recsys.evaluation import glossary
from recsys.evaluation.compare import Comparison, user_versus
from recsys.evaluation.confidence import holds, verdict
from recsys.evaluation.demographics import KINDS as DEMOGRAPHIC_KINDS, help_by_group
from recsys.evaluation.fairness import FAIRNESS_COLUMNS, miscalibration, user_genre_mix
from recsys.work.request import resolve

BEYOND = {name: glossary.meaning(name) for name in ("coverage", "gini", "arp", "aplt", "novelty", "diversity",
                                                    "factor_diversity", "personalisation")}

#: the beyond-accuracy table's decimals where four would be noise (popularity in ratings, novelty in bits)
BEYOND_FORMATS = {"arp": "%.1f", "novelty": "%.2f"}


def gather(dataset, labels: list[str], splits: list) -> dict:
    """The trained runs of every (model, split), and a button that queues the missing ones."""
    found, missing, broken, refused = {}, [], [], {}
    for label in labels:
        for split in splits:
            try:
                resolved = resolve(dataset, label, split)  # once per run: found, offered and queued by it
            except RecsysError as error:
                st.error(f"{label} ({split.label()}): {error}")
                continue
            try:
                result = services.settings_result(dataset, resolved.plan)
            except (ArtifactError, RecsysError) as error:
                broken.append(f"{label} ({split.label()}): {error}")
                result = None
            if result is not None:
                found[(label, split)] = result
            elif resolved.refusal:
                refused[label] = resolved.refusal
            else:
                missing.append((label, resolved))
    for problem in broken:
        st.error(f"Broken artifact, will be retrained: {problem}")
    for label, reason in refused.items():
        st.warning(f"{label} cannot train on {dataset.name}, so it is left out: {reason}.", icon=":material/block:")
    if missing:
        st.info(f"{len(missing)} of {len(labels) * len(splits)} runs are not trained yet: "
                + ", ".join(sorted({label for label, _ in missing})))
        if st.button(f"Train the {len(missing)} missing run(s)", type="primary", key="train_missing",
                     help="They train on the server one after another; this page fills in as they finish."):
            for label, resolved in missing:
                try:
                    services.submit(dataset, resolved.plan, retrain=any(b.startswith(f"{label} (") for b in broken),
                                    label=label)
                except RecsysError as error:
                    st.error(f"{label} ({resolved.split.label()}) was not started: {error}")
        job_widgets.watch_jobs([services.job_key(dataset, resolved.plan) for _, resolved in missing])
    return found


def with_interval(table: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Each metric as "0.8390 (0.8301 to 0.8482)" for the on-screen table (`MISSING` where n/a)."""
    out = table[["model"]].copy()
    for metric in metrics:
        if metric not in table or table[metric].isna().all():
            continue
        low, high = table.get(f"{metric}_low"), table.get(f"{metric}_high")
        out[cf.METRIC_NAMES.get(metric, metric)] = [
            MISSING if pd.isna(v) else f"{v:.4f}" + ("" if low is None or pd.isna(lo) else f" ({lo:.4f} to {hi:.4f})")
            for v, lo, hi in zip(table[metric], low if low is not None else table[metric],
                                 high if high is not None else table[metric])]
    return out


def numbers(table: pd.DataFrame, interval_note: str) -> None:
    """Error and top-10 bars with their intervals, the table of both, and its CSV."""
    left, right = st.columns(2)
    left.plotly_chart(cf.interval_bars(table, ("rmse", "mae"), "Rating error per model", "error (lower is better)"),
                      key="error_bars")
    right.plotly_chart(cf.interval_bars(table, ("ndcg", "precision", "recall"), "Top-10 quality per model",
                                        "top-10 metric (higher is better)"), key="topk_bars")
    st.caption(interval_note)
    shown = ("rmse", "mae", "ndcg", "precision", "recall")
    st.dataframe(with_interval(table, shown), hide_index=True, column_config=column_help(shown))
    if "rmse" in table and table["rmse"].notna().any() and table["rmse"].isna().any():
        ranking = ", ".join(table.loc[table["rmse"].isna(), "model"].astype(str))
        st.caption(f"{MISSING} under RMSE and MAE: {ranking} rank movies without predicting ratings, so they have "
                   "no rating error; their top-10 numbers compare with everyone's.")
    services.csv_download(table.round(6), "Download the comparison (CSV, with interval bounds)",
                          "model-comparison.csv", key="download_compare")


#: how the pairs are tested, by protocol
PAIRED_ON_USERS = ("Each pair is scored on the same test users: the interval resamples users once for both models; "
                   "the p-value comes from swapping users' results between the two models (a paired permutation "
                   "test), adjusted with Holm's method over the pairs of each metric.")
PAIRED_ON_FOLDS = ("Each pair is scored on the same folds: the mean of the per-fold differences with its t-interval "
                   "and a paired t-test (k - 1 degrees of freedom, so only a difference that holds on every fold "
                   "shows), adjusted with Holm's method over the pairs of each metric.")


def differences(pairs: pd.DataFrame, how: str = PAIRED_ON_USERS) -> None:
    """A forest plot of every pair per metric, how many differences hold, and a sentence each."""
    st.subheader("Which differences hold")
    if pairs.empty:
        st.caption("Choose two or more models to compare them pair by pair.")
        return
    held = pairs.apply(holds, axis=1)
    metrics = list(dict.fromkeys(pairs["metric"]))
    for column, metric in zip(st.columns(len(metrics)), metrics):
        mask = pairs["metric"] == metric
        column.plotly_chart(cf.forest(pairs[mask], held[mask], metric), key=f"forest_{metric}")
    st.caption(f"{how} Green: the difference holds (interval clear of 0 and p < 0.05): {int(held.sum())} of "
               f"{len(held)} here.")
    with st.expander(f"Every pair in words ({len(held)})", expanded=len(held) <= 6):
        for (_, row), ok in zip(pairs.iterrows(), held):
            st.markdown((":green[:material/check_circle:] " if ok else ":gray[:material/remove:] ") + verdict(row))


#: what a dataset without demographics is told
NO_DEMOGRAPHICS = ("{name} has no demographics, so its users cannot be grouped by age, gender or occupation "
                   "(ml-100k has them, in u.user).")


def where(result: Comparison, dataset) -> None:
    """Errors by segment: users by activity (and age, gender, occupation where the data has
    them), movies by popularity, genre, warm and new rows."""
    st.subheader("Where the models differ")
    people = [k for k in DEMOGRAPHIC_KINDS if (result.segments["kind"] == k).any()]
    kinds = ["user activity", *people, "movie popularity", "primary genre", "row group"]
    kind = st.radio("Segment by", kinds, horizontal=True, key=state.persistent("compare_segment", kinds[0]),
                    on_change=state.keep, args=("compare_segment",))
    left, right = st.columns(2)
    left.plotly_chart(cf.segment_bars(result.segments, kind, "rmse"), key="segment_rmse")
    if kind == "user activity" or kind in people:
        right.plotly_chart(cf.segment_bars(result.segments, kind, "ndcg"), key="segment_ndcg")
    else:
        right.caption("NDCG@10 is a number per user, so it is split by groups of users only. Activity is the user's "
                      "number of training ratings; popularity quarters split the movies by training ratings.")
    if not people:
        st.caption(NO_DEMOGRAPHICS.format(name=dataset.name))


def whom(result: Comparison, dataset, split) -> None:
    """One rating model's users against another's; a clicked user opens on Recommendations."""
    raters = [label for label, s in result.scored.items() if s.sums.n is not None]
    if len(raters) < 2:
        return
    st.subheader("Whom does a model help?")
    c1, c2 = st.columns(2)
    a = c1.selectbox("Model a", raters, index=0, key="versus_a")
    b = c2.selectbox("Model b", raters, index=len(raters) - 1, key="versus_b")
    frame = user_versus(result.scored[a], result.scored[b], dataset.user_ids)
    event = st.plotly_chart(cf.user_versus(frame, a, b), key="versus", on_select="rerun", selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
        getattr(getattr(event, "selection", None), "points", []) or []
    if points:
        data = points[0].get("customdata")
        user_id = (data.get("0") if isinstance(data, dict) else data[0]) if data is not None else None
        if user_id is not None:
            st.caption(f"User {user_id}'s top-10 by either model, on this split:")
            left, right = st.columns(2)
            links.user_link(dataset, a, split, user_id, "Compare models", services.RECOMMEND_SPLITS, left)
            links.user_link(dataset, b, split, user_id, "Compare models", services.RECOMMEND_SPLITS, right)
    better = int((frame["change"] < 0).sum())
    st.caption(f"{b} lowers the error of {better:,} of {len(frame):,} test users and raises or keeps it for the rest. "
               "Click a user to open their recommendations.")
    groups = help_by_group(frame, dataset)
    if groups.empty:
        st.caption(NO_DEMOGRAPHICS.format(name=dataset.name))
        return
    st.markdown(f"**By group: the mean change of a user's RMSE from {a} to {b}** (below 0: {b} helps the group)")
    shown = groups.assign(mean_change=[f"{v:+.4f} ({lo:+.4f} to {hi:+.4f})" for v, lo, hi in
                                       zip(groups["mean_change"], groups["mean_change_low"], groups["mean_change_high"])],
                          helped=(groups["helped"] * 100).round(0).astype(int).astype(str) + "%")
    st.dataframe(shown[["kind", "group", "users", "mean_change", "helped"]].rename(columns={
        "mean_change": "mean change (95% interval)", "helped": f"users {b} helps"}), hide_index=True)


def serves(result: Comparison, dataset, split) -> None:
    """Popularity bias (PopRSP, PopREO) and genre calibration with their intervals, and one user's
    two genre mixes."""
    table = result.models
    measures = tuple(m for m in FAIRNESS_COLUMNS if m in table and table[m].notna().any())
    if not measures:
        return
    st.subheader("Whom the lists serve: popular against long-tail movies, and each user's genres")
    st.plotly_chart(cf.interval_bars(table, measures, "Popularity bias and miscalibration", "lower is fairer"),
                    key="fairness_bars")
    st.dataframe(with_interval(table, measures), hide_index=True, column_config=column_help(measures))
    st.caption("Popular movies: the most-rated movies that together hold 80% of the training ratings; the long tail "
               "is every other movie. " + " ".join(f"**{glossary.label(m)}**: {glossary.meaning(m)}." for m in measures)
               + " Intervals: bootstrap over users.")
    rankers = [label for label, s in result.scored.items() if len(s.lists)]
    if not rankers:
        return
    left, right = st.columns(2)
    model = left.selectbox("Model", rankers, key="calibration_model")
    scored = result.scored[model]
    users = dataset.user_ids[scored.sums.ranked_users]
    picked = right.selectbox("User", users, key="calibration_user")
    row = int(np.flatnonzero(users == picked)[0])
    train, _ = split.apply(dataset)
    mix = user_genre_mix(int(scored.sums.ranked_users[row]), scored.lists[row], train, list(dataset.items["genres"]))
    p, q = mix["watched"].to_numpy()[None, :], mix["recommended"].to_numpy()[None, :]
    st.plotly_chart(cf.genre_mix(mix, picked, model, float(miscalibration(p, q)[0]) if len(mix) else float("nan")),
                    key="genre_mix")


def beyond(table: pd.DataFrame) -> None:
    """What the top-10s do beyond accuracy: one measure as bars, all of them in a table."""
    st.subheader("Beyond accuracy: the top-10 lists themselves")
    measures = [m for m in BEYOND if m in table and table[m].notna().any()]
    measure = st.selectbox("Measure", measures, format_func=lambda m: f"{glossary.label(m)}: {BEYOND[m]}",
                           key=state.persistent("compare_beyond", measures[0]), on_change=state.keep,
                           args=("compare_beyond",))
    st.plotly_chart(cf.beyond_bars(table, measure, BEYOND[measure]), key="beyond_bars")
    shown = glossed(readable(table[["model", *measures]].round(4), default_decimals=4))
    for name in measures:  # one number of decimals per column (0.077 beside 0.0037 read as different precisions)
        label = glossary.label(name)
        if pd.api.types.is_float_dtype(shown["data"][label]):
            shown["column_config"][label] = st.column_config.NumberColumn(
                label, help=glossary.meaning(name), format=BEYOND_FORMATS.get(name, "%.4f"))
    st.dataframe(**shown, hide_index=True)
    if any(shown["data"][glossary.label(name)].dtype == object for name in measures):
        st.caption(f"{MISSING}: the model has no such number (vector diversity needs the movies' latent vectors).")


def training(found: dict, table: pd.DataFrame, folds: bool) -> None:
    """The validation curves overlaid, and the fit times."""
    left, right = st.columns(2)
    histories = {f"{label}" + (f" {split.label()}" if folds else ""): result.history
                 for (label, split), result in found.items()}
    left.plotly_chart(figures.overlaid_curves(histories))
    right.plotly_chart(figures.fit_time_bars(table))
