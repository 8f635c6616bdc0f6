"""The one request layer: the CLI, a page and the bench resolve the same words to the same model."""
import re

import pytest

from recsys.cli import main
from recsys.data.split import Split
from recsys.models import sizing
from recsys.work import request


@pytest.fixture()
def small_threshold(monkeypatch):
    """ml-100k counts as a large set: the blend is its recommender-net half there (per-size settings)."""
    monkeypatch.setattr(sizing, "LARGE_RATINGS", 50_000)


def test_resolve_applies_the_per_size_settings_under_the_overrides(ml100k, small_threshold):
    resolved = request.resolve(ml100k, "blend", Split("official", name="u1"), {"part_epochs": 1})
    assert resolved.config.components == ("bayes-fm",) and resolved.config.part_epochs == 1
    assert "bayes-fm part alone" in resolved.size_note and "16 Gibbs iterations" in resolved.size_note
    assert request.resolve(ml100k, "blend", Split("official", name="u1"), {"part_epochs": 1}).key == resolved.key
    with_all_parts = request.resolve(ml100k, "blend", Split("official", name="u1"),
                                     {"part_epochs": 1, "components": ("recommender-net", "item-knn")})
    assert with_all_parts.key != resolved.key  # an override beats the per-size setting
    assert request.cost(ml100k, resolved).bytes > 0
    assert request.resolve(ml100k, "biases", only_known=True, overrides={"factors": 8}).config == \
        request.resolve(ml100k, "biases").config


def test_the_cli_and_a_page_train_the_same_model_for_the_same_words(ml100k, small_threshold, capsys, monkeypatch,
                                                                     tmp_path):
    from dashboard import services

    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    assert main(["train", "--dataset", "ml-100k", "--model", "blend", "--split", "official", "--fold-name", "u1",
                 "--set", "part_epochs=1"]) == 0
    captured = capsys.readouterr()
    assert "at this size: above 50,000 ratings the blend is its bayes-fm part alone" in captured.err
    cli_key = re.search(r"artifact \S*blend-([0-9a-f]{16})", captured.out)[1]
    resolved = request.resolve(ml100k, "blend", Split("official", name="u1"), {"part_epochs": 1})
    assert (resolved.key, resolved.model) == (cli_key, "blend")
    assert services.cached_result(ml100k, "blend", Split("official", name="u1"), {"part_epochs": 1}) is not None


class _Counted:
    """Counts the calls of each resolution step while a request goes through."""

    STEPS = {"per-size settings": ("recsys.work.request", "size_defaults"),
             "config": ("recsys.work.plan", "resolve_config"),
             "artifact key": ("recsys.work.plan", "artifact_key")}

    def __init__(self, monkeypatch) -> None:
        import importlib

        self.calls = {step: 0 for step in self.STEPS}
        for step, (module, name) in self.STEPS.items():
            target = importlib.import_module(module)
            original = getattr(target, name)

            def counted(*args, _original=original, _step=step, **kwargs):
                self.calls[_step] += 1
                return _original(*args, **kwargs)
            monkeypatch.setattr(target, name, counted)


def test_a_request_is_resolved_once_from_the_cli(ml100k, monkeypatch, tmp_path, capsys):
    """Issue 34: dataset, model, split and settings become one frozen value that the CLI, the job
    runner and training pass along; none of them works any step out again."""
    from recsys.work.plan import Plan

    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    counted = _Counted(monkeypatch)
    assert main(["train", "--dataset", "ml-100k", "--model", "biases", "--split", "official", "--fold-name", "u1"]) == 0
    assert counted.calls == {"per-size settings": 1, "config": 1, "artifact key": 1}
    resolved = request.resolve(ml100k, "biases")
    assert isinstance(resolved.plan, Plan) and resolved.cost is resolved.plan.cost  # the cost rides along


def test_a_request_is_resolved_once_from_a_page(movielens_dir, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO, finish_jobs

    from dashboard import resources

    monkeypatch.setenv("RECSYS_ARTIFACTS_DIR", str(tmp_path))
    resources.reset_models()  # nothing trained by an earlier test in this process: biases must be missing
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("app_pages/compare.py").run()
    at.multiselect(key="compare_models").set_value(["biases"]).run()
    counted = _Counted(monkeypatch)
    at.button(key="train_missing").click().run()  # found missing, offered, queued, trained, watched
    finish_jobs(at)
    assert not at.exception
    per_run = {step: n / 2 for step, n in counted.calls.items()}  # the click's run and the run after the job
    assert per_run == {"per-size settings": 1, "config": 1, "artifact key": 1}, counted.calls
    resources.reset_models()
