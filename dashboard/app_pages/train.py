"""Train a model live: pick it and its hyper-parameters, watch the curves grow, stop any time.
Training runs as a server-side job: leave the page, come back, and the curves have moved on."""
import pandas as pd
import streamlit as st

from dashboard import datasets, figures, job_widgets, learning_view, privacy, resources, services, settings_form, state
from recsys.budget import human_bytes, model_budget, server_budget
from recsys.errors import ArtifactError, ConfigError, RecsysError
from recsys.work import request
from recsys.work.catalog import DEFAULT_RATING_MODEL, all_labels, blend_parts, missing_views
from recsys.work.job_view import DONE, FAILED, STOPPED
from recsys.work.request import TrainResult


def live_training(key: str, curve_note: str, dataset, step: str = "epoch") -> None:
    """The running job's progress and curves, redrawn every second; the page reruns at its end."""
    view = resources.job_runner().get(key)
    if view is None or not view.active:
        st.rerun()
    job_widgets.job_progress(view)
    if curve_note and view.logs:
        st.caption(curve_note)
    if view.logs:
        left, right = st.columns(2)
        with left:
            st.plotly_chart(figures.training_curves(pd.DataFrame([vars(log) for log in view.logs]), step),
                            key="live_curves")
        with right:
            learning_view.live_map(dataset, view.logs[-1].snapshot, step)


#: below this many ratings a trained model's numbers carry a warning
TOO_FEW_RATINGS = 1_000


def show_result(result: TrainResult, trained_here: bool, dataset) -> None:
    """Curves, test metrics, the row-group summary and where the model was saved."""
    if trained_here:
        st.subheader("Finished")
    else:
        st.subheader("Cached result")
        st.info(f"Loaded the cached model for these settings (trained in {result.fit_seconds:.1f}s). "
                "Press “Retrain” to train it again.")
    if len(result.history):
        st.plotly_chart(figures.training_curves(result.history, result.model.curve_step(result.model.config)),
                        key="final_curves")
        if result.model.curve_note:
            st.caption(result.model.curve_note.split(";")[0].rstrip(".") + ".")
    metrics = result.metrics
    for col, name in zip(st.columns(4), ("rmse", "mae", "ndcg", "precision")):
        value = metrics.get(name, float("nan"))
        col.metric(f"Test {name.upper() if name in ('rmse', 'mae') else name + '@10'}",
                   "n/a" if pd.isna(value) else f"{value:.4f}")
    if metrics.get("n_new_user", 0) + metrics.get("n_new_item", 0):
        st.caption(figures.group_summary(metrics))
    where = ("kept with this session's upload (private; deleted when the session ends)" if privacy.is_private(dataset)
             else "saved in the shared artifact store")
    st.caption(f"Fit {result.fit_seconds:.1f}s · {where} as `{result.key}`" if result.path else
               "Not saved: " + "; ".join(result.notes))
    if dataset.n_ratings < TOO_FEW_RATINGS:
        st.warning(f"Trained on very little data ({dataset.n_ratings:,} ratings): a model needs thousands of "
                   "ratings to learn tastes, so these numbers mean little and the test part is a handful of rows.")
    for note in result.notes:
        st.warning(note)
    learning_view.watch(dataset, result.model, result.model.name)


def main() -> None:
    st.title("Train")
    st.caption("Fit a model on a split of the chosen dataset. Results are cached: the same settings load at once.")

    dataset = datasets.current_dataset()
    if dataset is not None:
        labels = all_labels()
        left, right = st.columns([1, 2])
        with left:
            label = st.selectbox("Model", labels, key=state.persistent("train_model", DEFAULT_RATING_MODEL),
                                 on_change=state.keep, args=("train_model",))
            chosen = request.resolve(dataset, label)  # the preset with this dataset's per-size settings
            scaled = bool(chosen.size_note)
            st.caption(chosen.description)
            lacking = missing_views(label)
            if lacking is not None:
                st.caption(f":material/info: {label} has {lacking.views}: {lacking.why}.")
                st.button(f"Open {lacking.instead} instead", key="train_instead", icon=":material/scatter_plot:",
                          on_click=state.choose, args=("train_model", lacking.instead),
                          help=f"{lacking.instead} learns movie vectors you can watch move, epoch by epoch.")
            if scaled:
                st.caption(f"At this size: {chosen.size_note}.")
            defaults = chosen.config
            overrides = dict(chosen.overrides)
            def kept(widget, text: str, name: str, default, **options):
                """A hyper-parameter widget whose value is kept per model across pages and reruns."""
                key = f"train_{label}_{name}" + ("_large" if scaled else "")
                return widget(text, key=state.persistent(key, default), on_change=state.keep, args=(key,),
                              **options)

            try:
                overrides.update(settings_form.render(settings_form.controls(defaults, blend_parts()), kept))
            except ConfigError as error:
                st.error(str(error))
                st.stop()
            split_names = services.split_choices(dataset)
            split_name = st.selectbox("Split", split_names, key=state.persistent("train_split", split_names[0]),
                                      on_change=state.keep, args=("train_split",))
            split = services.SPLITS[split_name]
        with right:
            try:
                resolved = request.resolve(dataset, label, split, overrides)
            except RecsysError as error:
                st.error(f"These hyper-parameters are not valid: {error}")
                st.stop()
            cost, refused = resolved.cost, resolved.refusal
            if refused:
                st.warning(f"{label} cannot train on {dataset.name}: {refused}.", icon=":material/block:")
            else:
                st.caption(f"Estimated cost on {dataset.n_ratings:,} ratings: {cost.describe()}. The budget is "
                           f"{human_bytes(model_budget())} per training and {human_bytes(server_budget())} for all "
                           "of this server's trainings together.")
            runner = resources.job_runner()
            key = services.job_key(dataset, resolved.plan)
            view = runner.get(key)
            try:
                cached = services.settings_result(dataset, resolved.plan)
            except ArtifactError as error:
                st.error(f"A cached artifact for these settings is broken: {error}. Retrain to replace it.")
                cached = None
            active = view is not None and view.active
            go, stop_col = st.columns(2)
            if go.button("Retrain" if cached is not None else "Start training", type="primary", key="start_training",
                         disabled=active or bool(refused and cached is None),
                         help="Training runs on the server: you can visit other pages and come back."):
                try:
                    services.submit(dataset, resolved.plan, retrain=cached is not None, label=label)
                except RecsysError as error:
                    st.error(f"Training was not started: {error}")
                else:
                    st.rerun()  # draw the page again with the job running
            stop_col.button("Stop", key="stop_training", disabled=not active, on_click=runner.stop, args=(key,),
                            help="Ends training after the current batch; nothing is saved for a stopped run.")
            if active:
                st.fragment(live_training, run_every=1.0)(key, chosen.curve_note, dataset, chosen.curve_step)
            else:
                if view is not None and view.state in (FAILED, STOPPED) and job_widgets.is_mine(view):
                    job_widgets.show_ended(view)
                fresh = view is not None and view.state == DONE and view.result is not None
                result = view.result if fresh else cached
                if result is not None:
                    show_result(result, trained_here=fresh and not result.loaded, dataset=dataset)


main()
