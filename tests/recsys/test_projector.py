"""Export to the Embedding Projector's format: row counts, header, floats that read back equal."""
import numpy as np
import pandas as pd
import pytest

from recsys.cli import main
from recsys.errors import ConfigError
from recsys.explain.projector import metadata_tsv, projector_tables, vectors_tsv, write_projector
from recsys.models import make_model


@pytest.fixture(scope="module")
def small_mf(ml_small):
    model = make_model("mf", factors=5, epochs=1)
    model.fit(ml_small.ratings)
    return model


def test_movie_vectors_and_metadata_read_back_equal(ml_small, small_mf, tmp_path):
    vectors_path, meta_path = write_projector(ml_small, small_mf, tmp_path / "out")
    vectors = np.loadtxt(vectors_path, delimiter="\t", dtype=np.float32)
    assert vectors.shape == (ml_small.n_items, 5)
    np.testing.assert_array_equal(vectors, small_mf.factors().items.astype(np.float32))
    lines = meta_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "title\tgenres\tyear\tcount\tmean_rating" and len(lines) == ml_small.n_items + 1
    meta = pd.read_csv(meta_path, sep="\t", quoting=3, keep_default_na=False)
    assert meta["title"].tolist() == ml_small.titles(range(ml_small.n_items))
    assert meta["count"].sum() == ml_small.n_ratings
    assert all(len(line.split("\t")) == 5 for line in lines)


def test_user_vectors(ml_small, small_mf):
    vectors, meta = projector_tables(ml_small, small_mf, users=True)
    assert vectors.shape == (ml_small.n_users, 5) and list(meta.columns) == ["user", "count", "mean_rating"]
    assert meta["user"].tolist() == ml_small.user_ids.tolist()


def test_cells_never_split_rows():
    text = metadata_tsv(pd.DataFrame({"title": ["a\tb", "c\nd"], "year": [pd.NA, 1999]}))
    assert text.splitlines() == ["title\tyear", "a b\t", "c d\t1999"]
    assert vectors_tsv(np.array([[0.1, -2.5e-8]], dtype=np.float32)).count("\t") == 1


def test_models_without_factors_are_refused(ml_small):
    model = make_model("global-mean")
    model.fit(ml_small.ratings)
    with pytest.raises(ConfigError, match="has no latent factors to export"):
        projector_tables(ml_small, model)


def test_cli_exports_and_names_its_files(tmp_path, capsys):
    assert main(["factors", "export", "--dataset", "mini", "--model", "mf", "--out", str(tmp_path / "p"), "--users"]) == 0
    out = capsys.readouterr().out
    assert "wrote 4 user vectors of mf" in out and "vectors.tsv" in out
    assert len((tmp_path / "p" / "vectors.tsv").read_text().splitlines()) == 4
    assert main(["factors", "export", "--dataset", "mini", "--model", "ease", "--out", str(tmp_path / "q")]) == 1
    assert "has no latent factors" in capsys.readouterr().err
