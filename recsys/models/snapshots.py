"""Snapshots of a model's factors while it trains, so a face can show the latent map moving.

After each epoch a model that keeps snapshots (`Recommender.keeps_snapshots`) records its movie
vectors (and user vectors) for a stated sample: the `SNAPSHOT_ITEMS` most-rated movies and the
`SNAPSHOT_USERS` most active users of its training data, as float16, with the epoch, the phase
(fit or refit) and the validation RMSE. They ride on the epoch logs (the live view), stay on the
model, and are saved with its artifact as `snapshots.npz` (a cached model replays its training).

`aligned_frames` projects them for a picture: one PCA fitted on the final frame, and each earlier
frame first rotated onto the final one by orthogonal Procrustes (a rotation or reflection only,
so distances within a frame are kept), so the map does not spin or flip between frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.data.dataset import Ratings

SNAPSHOT_ITEMS = 2000
SNAPSHOT_USERS = 1000
FILE = "snapshots.npz"


@dataclass(frozen=True)
class Snapshot:
    """One epoch's sampled factors."""

    epoch: int
    phase: str
    val_rmse: float | None
    items: np.ndarray  # (sampled movies x factors), float16
    users: np.ndarray  # (sampled users x factors), float16
    item_index: np.ndarray | None = None  # which movies the rows are (shared by a run's snapshots)

    @property
    def nbytes(self) -> int:
        return int(self.items.nbytes + self.users.nbytes)


def sample(train: Ratings, items: int = SNAPSHOT_ITEMS, users: int = SNAPSHOT_USERS) -> tuple[np.ndarray, np.ndarray]:
    """The movies and users a run snapshots: the most rated and the most active (sorted indices)."""
    item_counts = np.bincount(train.items, minlength=train.n_items)
    user_counts = np.bincount(train.users, minlength=train.n_users)
    top_items = np.argsort(-item_counts, kind="stable")[:min(items, int((item_counts > 0).sum()))]
    top_users = np.argsort(-user_counts, kind="stable")[:min(users, int((user_counts > 0).sum()))]
    return np.sort(top_items), np.sort(top_users)


def cost(n_items: int, n_users: int, factors: int, epochs: int) -> int:
    """Bytes the snapshots of a run hold at most (the fit and the refit phase, float16)."""
    return (min(n_items, SNAPSHOT_ITEMS) + min(n_users, SNAPSHOT_USERS)) * factors * 2 * epochs


def take(epoch: int, phase: str, val_rmse: float | None, item_vectors: np.ndarray, user_vectors: np.ndarray,
         items: np.ndarray, users: np.ndarray) -> Snapshot:
    """A snapshot of the sampled rows of the two factor tables."""
    return Snapshot(epoch, phase, val_rmse, np.asarray(item_vectors)[items].astype(np.float16),
                    np.asarray(user_vectors)[users].astype(np.float16), items)


def save(folder: Path, snapshots: list[Snapshot], items: np.ndarray, users: np.ndarray) -> None:
    """Write the snapshots beside the model, as plain numeric and text arrays."""
    if not snapshots:
        return
    np.savez(folder / FILE, items=np.stack([s.items for s in snapshots]), users=np.stack([s.users for s in snapshots]),
             epochs=np.array([s.epoch for s in snapshots]), phases=np.array([s.phase for s in snapshots]),
             val_rmse=np.array([np.nan if s.val_rmse is None else s.val_rmse for s in snapshots]),
             item_index=items, user_index=users)


def load(folder: Path) -> tuple[list[Snapshot], np.ndarray, np.ndarray]:
    """The snapshots saved with an artifact (none when it has no file)."""
    path = folder / FILE
    if not path.exists():
        return [], np.zeros(0, int), np.zeros(0, int)
    with np.load(path, allow_pickle=False) as data:
        item_index = data["item_index"]
        frames = [Snapshot(int(e), str(p), None if np.isnan(v) else float(v), i, u, item_index)
                  for e, p, v, i, u in zip(data["epochs"], data["phases"], data["val_rmse"], data["items"],
                                           data["users"])]
        return frames, item_index, data["user_index"]


def procrustes(frame: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`frame` (centred) rotated or reflected to lie as close as it can to `target` (centred):
    X R with R = U V^T from the SVD of X^T Y. R is orthogonal, so distances are kept."""
    x = frame - frame.mean(axis=0)
    y = target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(x.T @ y)
    return x @ (u @ vt)


def aligned_frames(snapshots: list[Snapshot], dims: int = 2, same_spread: bool = False) -> list[np.ndarray]:
    """Each snapshot's movies in `dims` coordinates of one PCA fitted on the last snapshot, each
    earlier frame aligned to the last by Procrustes first. With `same_spread`, each frame is also
    scaled to the last frame's spread (early vectors are tiny: this shows their arrangement)."""
    final = snapshots[-1].items.astype(np.float64)
    centred = final - final.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:dims].T
    frames = [procrustes(s.items.astype(np.float64), final) @ axes for s in snapshots]
    if same_spread:
        target = np.sqrt(np.mean(np.sum(frames[-1] ** 2, axis=1)))
        frames = [f * (target / spread) if (spread := np.sqrt(np.mean(np.sum(f ** 2, axis=1)))) > 0 else f
                  for f in frames]
    return frames
