"""Tune a model: an Optuna search over the ranges its settings declare, run on the server (it goes
on when the page is left), live, with the best settings saved as `<model>@tuned` for every page."""
import pandas as pd
import streamlit as st

from dashboard import compare_figures as cf, datasets, privacy, resources, state
from dashboard import services
from dashboard.tables import readable
from recsys.errors import RecsysError
from recsys.work import tuning
from recsys.work.catalog import DEFAULT_FACTOR_MODEL, builtin_labels
from recsys.work.request import resolve
from recsys.work.job_view import DONE, FAILED, STOPPED
from recsys.work.tuning_jobs import StudyView

TUNABLE = builtin_labels()


def controls(dataset) -> tuple[str, object, int, float | None]:
    """The model, the split, the number of trials and a time limit."""
    c1, c2, c3, c4 = st.columns([2, 2, 1, 1])
    label = c1.selectbox("Model", TUNABLE, key=state.persistent("tune_model", DEFAULT_FACTOR_MODEL),
                         on_change=state.keep, args=("tune_model",))
    split_names = services.split_choices(dataset)
    split_name = c2.selectbox("Split", split_names, key=state.persistent("tune_split", split_names[0]),
                              on_change=state.keep, args=("tune_split",))
    trials = c3.number_input("Trials", 2, 200, key=state.persistent("tune_trials", 20), on_change=state.keep,
                             args=("tune_trials",))
    minutes = c4.number_input("Minutes at most", 1, 240, key=state.persistent("tune_minutes", 10),
                              on_change=state.keep, args=("tune_minutes",))
    try:
        searched = tuning.space(label)
    except RecsysError as error:
        st.info(str(error))
        st.stop()
    split = services.SPLITS[split_name]
    metric = tuning.default_metric(label).upper()
    st.caption(f"Searches {', '.join(searched) or 'nothing'} ({metric} on a held-out 10% of the training part: the "
               "test part is never read). Trials that train in epochs report each epoch, and the hopeless ones are "
               f"stopped early. The defaults are scored on the same 10%; the best trial must beat them, or "
               f"{label}@tuned keeps the defaults.")
    defaults = resolve(dataset, label, split).config
    st.dataframe(pd.DataFrame(tuning.space_rows(searched, {n: getattr(defaults, n) for n in searched})),
                 hide_index=True)
    return label, split, int(trials), float(minutes) * 60


def trials_table(view: StudyView) -> pd.DataFrame:
    """One row per finished trial: number, state, score, seconds and its settings."""
    rows = [{"trial": r.number, "state": r.state, "value": r.value, "seconds": r.seconds, **r.params}
            for r in view.reports]
    return pd.DataFrame(rows)


def live(key: str) -> None:
    """The study as it runs: progress, best so far, the trials; reruns the page when it ends."""
    view = resources.tuning_runner().get(key)
    if view is None:
        return
    if not view.active and st.session_state.get("_tune_live") == key:
        st.session_state.pop("_tune_live")
        st.rerun()
    show(view)


def show(view: StudyView) -> None:
    st.progress(min(len(view.reports) / max(view.trials, 1), 1.0), text=f"{view.label}: {view.describe()}")
    table = trials_table(view)
    if len(table):
        st.plotly_chart(cf.best_so_far(table, view.metric), key=f"best_{len(table)}_{view.state}")
        st.dataframe(readable(table.round(5), default_decimals=4), hide_index=True)
    if view.state == FAILED:
        st.error(f"The study failed: {view.error}")
    if view.state in (DONE, STOPPED) and view.record is not None:
        verdict(view)
        if st.button(f"Open {view.tuned} on Train", key="open_tuned"):
            state.choose("train_model", view.tuned)
            st.switch_page("app_pages/train.py")
        extras(view)


def verdict(view: StudyView) -> None:
    """Defaults against tuned, on validation (which chose) and test (which checks), and what that means."""
    record, metric = view.record, view.metric.upper()
    st.dataframe(pd.DataFrame([
        {"settings": f"defaults ({view.label})", f"validation {metric}": record.default_value,
         f"test {metric}": view.test_scores.get(view.label)},
        {"settings": record.label + (" (= defaults)" if record.kept_defaults else ""), f"validation {metric}":
         record.value, f"test {metric}": view.test_scores.get(record.label)}]).round(4),
        hide_index=True)
    said = tuning.outcome(record, view.test_scores)
    getattr(st, said.tone)(said.sentence + f" Every page and command accepts {record.label} as a model.")


def extras(view: StudyView) -> None:
    """Optuna's parallel coordinates and parameter importances, once there are enough trials."""
    import optuna

    complete = [t for t in view.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 5:
        st.caption("Parallel coordinates and parameter importances appear from five finished trials.")
        return
    left, right = st.columns(2)
    left.plotly_chart(optuna.visualization.plot_parallel_coordinate(view.study), key="parallel")
    try:
        right.plotly_chart(optuna.visualization.plot_param_importances(view.study), key="importances")
    except (RuntimeError, ValueError) as error:
        right.caption(f"No importances yet: {error}")


def main() -> None:
    dataset = datasets.open_page("Tune", "Search a model's settings with Optuna over the ranges the model declares; "
                                 "the best become a model of their own, e.g. biased-mf@tuned.")
    if dataset is None:
        return
    if privacy.is_private(dataset):
        st.info("Tuning runs on the built-in datasets: a study is kept on the server, and your upload is not.")
        return
    label, split, trials, seconds = controls(dataset)
    runner = resources.tuning_runner()
    key = tuning.study_name(dataset, label, split, tuning.default_metric(label))
    view = runner.get(key)
    go, stop = st.columns(2)
    if go.button("Start tuning", type="primary", key="start_tuning", disabled=view is not None and view.active):
        try:
            view = runner.submit(dataset, label, split, trials=trials, timeout=seconds, owner=privacy.session_id())
        except RecsysError as error:
            st.error(f"Tuning was not started: {error}")
    stop.button("Stop", key="stop_tuning", disabled=view is None or not view.active, on_click=runner.stop,
                args=(key,), help="Ends the study after the running trial; its finished trials are kept.")
    if view is not None and view.active:
        st.session_state["_tune_live"] = key
        st.fragment(live, run_every=1.0)(key)
    elif view is not None:
        show(view)


main()
