"""Compare models: RMSE/MAE bars (with spread over folds), top-10 metrics, curves, fit time."""
import pandas as pd
import streamlit as st

from dashboard import figures, services
from dashboard.tables import readable
from recsys.catalog import DEFAULT_COMPARISON, all_labels
from recsys.errors import ArtifactError, RecsysError
from recsys.evaluate import GROUP_COLUMNS, summarise_folds
from recsys.split import fold_splits


def main() -> None:
    st.title("Compare models")
    st.caption("Every number comes from cached artifacts; train what is missing with one button.")

    dataset = services.current_dataset()
    if dataset is not None:
        default = [m for m in DEFAULT_COMPARISON if m in all_labels()]
        labels = st.multiselect("Models", all_labels(), key=services.persistent("compare_models", default),
                                on_change=services.keep, args=("compare_models",))
        protocol = st.radio("Protocol", ["single split", "folds (mean and spread)"], horizontal=True,
                            key=services.persistent("compare_protocol", "single split"),
                            on_change=services.keep, args=("compare_protocol",))
        if protocol == "single split":
            split_name = st.selectbox("Split", services.split_choices(dataset),
                                      key=services.persistent("compare_split", services.split_choices(dataset)[0]),
                                      on_change=services.keep, args=("compare_split",))
            splits = [services.SPLITS[split_name]]
        else:
            splits = fold_splits(dataset, 5)
            st.caption(f"{len(splits)} folds: " + ", ".join(s.label() for s in splits))

        found, missing, broken = {}, [], []
        for label in labels:
            for split in splits:
                try:
                    result = services.cached_result(dataset, label, split)
                except (ArtifactError, RecsysError) as error:
                    broken.append(f"{label} ({split.label()}): {error}")
                    result = None
                if result is None:
                    missing.append((label, split))
                else:
                    found[(label, split)] = result
        for problem in broken:
            st.error(f"Broken artifact, will be retrained: {problem}")
        if missing:
            st.info(f"{len(missing)} of {len(labels) * len(splits)} runs are not trained yet: "
                    + ", ".join(sorted({label for label, _ in missing})))
            if st.button(f"Train the {len(missing)} missing run(s)", type="primary", key="train_missing",
                         help="They train on the server one after another; this page fills in as they finish."):
                for label, split in missing:
                    _, model_name, config = services.model_key(dataset, label, split)
                    try:
                        services.submit(dataset, model_name, config, split,
                                        retrain=any(b.startswith(f"{label} (") for b in broken), label=label)
                    except RecsysError as error:
                        st.error(f"{label} ({split.label()}) was not started: {error}")
            services.watch_jobs([services.job_key(dataset, *services.model_key(dataset, label, split)[1:], split)
                                 for label, split in missing])
        if found:
            rows = [{"model": label, "split": split.label(), **result.metrics, "fit_seconds": result.fit_seconds}
                    for (label, split), result in found.items()]
            table = pd.DataFrame(rows)
            if len(splits) > 1:
                table = summarise_folds(table)
            metrics = ["model", "rmse", "mae", "precision", "recall", "ndcg", "hit_rate", "map", "coverage", "fit_seconds"]
            spreads = [f"{c}_std" for c in metrics if f"{c}_std" in table]
            shown = table[[c for c in metrics if c in table] + spreads]
            left, right = st.columns(2)
            left.plotly_chart(figures.metric_bars(table))
            right.plotly_chart(figures.top_k_bars(table))
            st.dataframe(readable(shown.round(4), default_decimals=4), hide_index=True)
            services.csv_download(shown, "Download the comparison (CSV)", "model-comparison.csv", key="download_compare")
            cold_rows = sum(table[c].sum() for c in ("n_new_user", "n_new_item") if c in table)
            if len(splits) == 1 and "n_warm" in table:
                st.subheader("Warm and new rows")
                if cold_rows:
                    st.caption("Warm rows: the model was fitted on ratings of both the user and the movie. New users "
                               "and new movies had no rating in its training data; every model answers them with the "
                               "mean plus the known bias (and, for new users, how newcomers tend to rate), so their "
                               "error shows what a split asks of cold start.")
                    st.plotly_chart(figures.group_error_bars(table))
                    st.dataframe(readable(table[["model"] + [c for c in GROUP_COLUMNS if c in table]].round(4),
                                          default_decimals=4), hide_index=True)
                else:
                    st.caption(f"Every one of the {int(table['n_warm'].iloc[0]):,} test rows is warm on this split: "
                               "each test user and movie has training ratings.")
            left, right = st.columns(2)
            histories = {f"{label}" + (f" {split.label()}" if len(splits) > 1 else ""): result.history
                         for (label, split), result in found.items()}
            left.plotly_chart(figures.overlaid_curves(histories))
            right.plotly_chart(figures.fit_time_bars(table))
        elif not missing:
            st.info("Choose at least one model.")


main()
