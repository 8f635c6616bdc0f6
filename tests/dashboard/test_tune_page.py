"""The Tune page: a study runs on the server, its trials appear, and its best settings become a
model the Train page (and every other) accepts."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from recsys.work import tuned
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")


def test_a_study_runs_as_a_job_and_its_best_settings_open_on_train(movielens_dir):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/tune.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="tune_model").set_value("biases").run()
    assert any("Searches reg_user, reg_item" in c.value for c in at.caption)
    space = next(d.value for d in at.dataframe if "searched" in d.value)  # the ranges, shown before the study starts
    assert list(space["setting"]) == ["reg_user", "reg_item"] and (space["searched"].str.contains(" to ")).all()
    at.number_input(key="tune_trials").set_value(3).run()
    at.button(key="start_tuning").click().run()
    from dashboard.resources import tuning_runner

    studies = tuning_runner().studies()
    assert studies and studies[0].label == "biases"
    finished = tuning_runner().wait(studies[0].key, timeout=240)
    assert finished.state == "done" and len(finished.reports) == 3, finished
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    said = [m.value for m in (*at.success, *at.warning, *at.info) if "biases@tuned" in m.value]
    assert said and "Every page and command accepts biases@tuned" in said[0]
    versus = next(d.value for d in at.dataframe if "validation RMSE" in d.value)  # validation and test side by side
    assert list(versus.columns) == ["settings", "validation RMSE", "test RMSE"] and versus.notna().all().all()
    table = next(d.value for d in at.dataframe if "trial" in d.value)
    assert list(table["trial"]) == [0, 1, 2] and {"reg_user", "reg_item", "value"} <= set(table.columns)
    assert set(finished.test_scores) == {"biases", "biases@tuned"}
    record = tuned.get("biases@tuned")
    assert record.kept_defaults or record.overrides.keys() >= {"reg_user", "reg_item"}
    at.button(key="open_tuned").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="train_model").value == "biases@tuned"
    assert any(b.key == "start_training" and b.label == "Retrain" for b in at.button), "the tuned settings' model " \
        "was trained once, for its test score, and Train finds it"
