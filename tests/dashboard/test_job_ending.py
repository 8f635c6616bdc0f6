"""A job that ends while a person clicks another page's link must not send them back: the page
that watched the job reruns itself only when no run of another page is already asked for."""
from types import SimpleNamespace

from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from dashboard import job_widgets


def test_a_job_ending_keeps_a_click_on_another_page(monkeypatch):
    requests = ScriptRequests()
    ctx = SimpleNamespace(script_requests=requests, page_script_hash="recommendations")
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda: ctx)
    assert not job_widgets.asked_for_another_page()  # nothing pending: the page reruns itself
    requests.request_rerun(RerunData(page_script_hash="recommendations"))  # a tick on this very page
    assert not job_widgets.asked_for_another_page()
    requests.request_rerun(RerunData(page_script_hash="mini-demo"))  # the click on Mini demo
    assert job_widgets.asked_for_another_page()
    # why: Streamlit folds pending runs into one of the page named last, so st.rerun() here would win
    requests.request_rerun(RerunData(page_script_hash="recommendations"))
    assert requests._rerun_data.page_script_hash == "recommendations"


def test_outside_a_script_run_nothing_is_pending(monkeypatch):
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda: None)
    assert not job_widgets.asked_for_another_page()


def test_two_jobs_of_one_model_read_apart_in_the_jobs_panel():
    """The lessons' als with and without its penalty were two identical lines in the sidebar."""
    from dashboard.services import job_label

    assert job_label("als", None) == "als"
    assert job_label("als", {"reg": 0.5}) == "als (reg 0.5)" != job_label("als", {"reg": 0.0})
