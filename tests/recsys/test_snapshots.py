"""Snapshots of the factors while training: their count and shapes, saved with the artifact, and
a projection that keeps distances and does not spin between frames."""
from __future__ import annotations

import numpy as np

from recsys.data.split import Split, validation_split
from recsys.models import make_model
from recsys.models import snapshots as snaps
from recsys.work.training import train


def test_a_keras_run_keeps_a_snapshot_per_epoch_of_its_sampled_movies(ml100k):
    train_part, _ = Split("official", name="u1").apply(ml100k)
    model = make_model("biased-mf", epochs=3, factors=8, patience=5)
    fit_part, valid_part = validation_split(train_part, 0.1, seed=0)
    history = model.fit(fit_part, valid_part)
    fit = [s for s in model.snapshots if s.phase == "fit"]
    refit = [s for s in model.snapshots if s.phase == "refit"]
    assert [s.epoch for s in fit] == [1, 2, 3] and len(refit) == history.best_epoch
    assert all(s.items.shape == (len(model.snapshot_items), 8) and s.items.dtype == np.float16 for s in fit)
    rated = np.unique(fit_part.items)
    assert np.array_equal(model.snapshot_items, rated[:snaps.SNAPSHOT_ITEMS]) or len(rated) > snaps.SNAPSHOT_ITEMS
    assert fit[0].val_rmse is not None and refit[0].val_rmse is None
    final = model.factors().items[model.snapshot_items]
    assert np.allclose(model.snapshots[-1].items, final, atol=1e-2), "the last frame is the trained model"
    assert [log.snapshot for log in history.logs] == model.snapshots, "each epoch's log carries its snapshot"
    assert not make_model("biases").keeps_snapshots and not make_model("deep-mf").keeps_snapshots


def test_procrustes_keeps_distances_and_undoes_a_rotation():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(50, 4))
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    turned = target @ rotation + 3.0
    aligned = snaps.procrustes(turned, target)
    assert np.allclose(aligned, target - target.mean(axis=0), atol=1e-9)
    distances = np.linalg.norm(turned[:, None] - turned[None], axis=-1)
    assert np.allclose(np.linalg.norm(aligned[:, None] - aligned[None], axis=-1), distances)


def test_aligned_frames_share_the_final_projection():
    rng = np.random.default_rng(1)
    final = rng.normal(size=(30, 5))
    frames = [snaps.Snapshot(e, "fit", None, (final * e / 3 @ np.linalg.qr(rng.normal(size=(5, 5)))[0]).astype(np.float16),
                             np.zeros((2, 5), np.float16)) for e in (1, 2, 3)]
    xy = snaps.aligned_frames(frames)
    assert [f.shape for f in xy] == [(30, 2)] * 3
    scaled = snaps.aligned_frames(frames, same_spread=True)
    assert np.allclose(scaled[0], scaled[-1], atol=0.05), "a rotated, shrunk copy lands on the final frame"


def test_snapshots_are_saved_with_the_artifact_and_replayed(ml100k, store):
    split = Split("official", name="u1")
    trained = train(ml100k, "mf", {"epochs": 2, "factors": 4}, split, store=store)
    loaded = train(ml100k, "mf", {"epochs": 2, "factors": 4}, split, store=store)
    assert loaded.loaded and len(loaded.model.snapshots) == len(trained.model.snapshots) >= 2
    assert np.array_equal(loaded.model.snapshot_items, trained.model.snapshot_items)
    assert np.array_equal(loaded.model.snapshots[-1].items, trained.model.snapshots[-1].items)
