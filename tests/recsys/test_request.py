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
    page_key, model_name, _ = services.model_key(ml100k, "blend", Split("official", name="u1"), {"part_epochs": 1})
    assert (page_key, model_name) == (cli_key, "blend")
    assert services.cached_result(ml100k, "blend", Split("official", name="u1"), {"part_epochs": 1}) is not None
