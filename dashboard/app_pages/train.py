"""Train a model live: pick it and its hyper-parameters, watch the curves grow, stop any time."""
import time
import pandas as pd
import streamlit as st

from dashboard import figures, services
from recsys.catalog import DEFAULT_RATING_MODEL, all_labels, known_parameters, preset
from recsys.errors import ArtifactError, RecsysError
from recsys.models import model_class
from recsys.training import lookup, resolve_config, train

st.title("Train")
st.caption("Fit a model on a split of the chosen dataset. Results are cached: the same settings load at once.")

dataset = services.current_dataset()
if dataset is not None:
    labels = all_labels()
    left, right = st.columns([1, 2])
    with left:
        label = st.selectbox("Model", labels, key=services.persistent("train_model", DEFAULT_RATING_MODEL),
                             on_change=services.keep, args=("train_model",))
        chosen = preset(label)
        cls = model_class(chosen.model)
        st.caption(cls.description)
        defaults = resolve_config(chosen.model, chosen.overrides)
        names = known_parameters(chosen.model)
        overrides = dict(chosen.overrides)
        if "factors" in names:
            overrides["factors"] = st.slider("Factors", 1, 256, int(defaults.factors))
        if "epochs" in names:
            overrides["epochs"] = st.slider("Epochs (at most; early stopping may end sooner)", 1, 200,
                                            int(defaults.epochs))
        if "learning_rate" in names:
            overrides["learning_rate"] = st.select_slider(
                "Learning rate", [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05], float(defaults.learning_rate))
        if "l2" in names:
            overrides["l2"] = st.select_slider("L2 regularisation", [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
                                               float(defaults.l2))
        if "batch_size" in names:
            overrides["batch_size"] = st.select_slider("Batch size", [256, 512, 1024, 2048, 4096, 8192],
                                                       int(defaults.batch_size))
        if "layers" in names:
            text = st.text_input("Dense layers (comma-separated sizes)", ", ".join(map(str, defaults.layers)))
            try:
                overrides["layers"] = tuple(int(v) for v in text.split(",") if v.strip())
            except ValueError:
                st.error("Layers must be whole numbers separated by commas, e.g. 64, 32.")
                st.stop()
        if "reg_user" in names:
            overrides["reg_user"] = overrides["reg_item"] = st.slider("Bias regularisation", 0.0, 50.0, 5.0)
        split_names = services.split_choices(dataset)
        split_name = st.selectbox("Split", split_names, key=services.persistent("train_split", split_names[0]),
                                  on_change=services.keep, args=("train_split",))
        split = services.SPLITS[split_name]
    with right:
        try:
            config = resolve_config(chosen.model, overrides)
        except RecsysError as error:
            st.error(f"These hyper-parameters are not valid: {error}")
            st.stop()
        try:
            cached = lookup(dataset, chosen.model, config, split)
        except ArtifactError as error:
            st.error(f"A cached artifact for these settings is broken: {error}. Retrain to replace it.")
            cached = None
        start_label = "Retrain" if cached is not None else "Start training"
        go, stop_col = st.columns(2)
        start = go.button(start_label, type="primary", key="start_training")
        stop_col.button("Stop", key="stop_training", help="Ends training after the current batch; "
                        "nothing is saved for a stopped run.",
                        on_click=lambda: st.session_state.update(training_stopped=True))
        if st.session_state.pop("training_stopped", False):
            st.warning("Training was stopped. Nothing was saved; the artifact cache is unchanged.")

        if start:
            bar, line, chart = st.progress(0.0), st.empty(), st.empty()
            logs = []

            def redraw(log):
                logs.append(vars(log))
                chart.plotly_chart(figures.training_curves(pd.DataFrame(logs)), key=f"live-{len(logs)}")
            started = time.perf_counter()
            try:
                result = train(dataset, chosen.model, config, split, retrain=True,
                               callbacks=[services.progress_callback(bar, line, redraw)],
                               on_stage=services.stage_caption(line))
            except RecsysError as error:
                st.error(f"Training failed: {error}")
                st.stop()
            services.forget_model(dataset, label, split, overrides)
            st.session_state["last_training"] = result
            bar.progress(1.0, text=f"done in {time.perf_counter() - started:.1f}s")
            chart.empty()
        elif cached is not None:
            st.session_state["last_training"] = cached
            st.info(f"Loaded the cached model for these settings (trained in {cached.fit_seconds:.1f}s). "
                    f"Press “Retrain” to train it again.")

        result = st.session_state.get("last_training")
        if result is not None and (start or cached is not None):
            st.subheader("Finished" if not result.loaded else "Cached result")
            if len(result.history):
                st.plotly_chart(figures.training_curves(result.history), key="final_curves")
            metrics = result.metrics
            cols = st.columns(4)
            for col, name in zip(cols, ("rmse", "mae", "ndcg", "precision")):
                value = metrics.get(name, float("nan"))
                col.metric(f"Test {name.upper() if name in ('rmse', 'mae') else name + '@10'}",
                           "n/a" if pd.isna(value) else f"{value:.4f}")
            new_rows = metrics.get("n_new_user", 0) + metrics.get("n_new_item", 0)
            if new_rows:
                st.caption(figures.group_summary(metrics))
            st.caption(f"Fit {result.fit_seconds:.1f}s · artifact: `{result.path}`" if result.path else
                       "Not saved: " + "; ".join(result.notes))
            for note in result.notes:
                st.warning(note)
