"""Saving and loading a model, in one place and out of the model interface: every model's shared
arrays (shape, scale, the fallback, what it was fitted on) in `state.npz` read as plain arrays (no Python objects),
its own arrays through its `_state` / `_load_state` hooks, framework files (Keras' native
`.keras`) through `_save_extra` / `_load_extra`, and its snapshots. Checksums and atomic
folders are the store's (`recsys.store.artifacts`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from recsys.data.dataset import RatingScale
from recsys.errors import ArtifactError
from recsys.models import snapshots
from recsys.models.base import Recommender
from recsys.models.config import ModelConfig


def save_model(model: Recommender, folder: Path) -> None:
    """Write a fitted model's arrays (state.npz, plain arrays only), its snapshots and any framework files
    (e.g. model.keras) into `folder`."""
    model._require_fitted()
    mu, b_user, b_item = model._fallback  # type: ignore[misc]
    arrays = {"shape": np.array([model.n_users, model.n_items]),
              "scale": np.array([model.scale.low, model.scale.high, model.scale.step]),
              "fallback_mu": np.array([mu]), "fallback_user": b_user, "fallback_item": b_item,
              "seen_indptr": model._seen_indptr, "seen_indices": model._seen_indices,
              "item_known": model._item_known, "fallback_newcomer": np.array([model._newcomer]),
              **({"validation_predictions": model.validation_predictions}
                 if model.validation_predictions is not None else {}), **{f"model_{k}": v for k, v in model._state().items()}}
    np.savez(folder / "state.npz", **arrays)
    snapshots.save(folder, model.snapshots, model.snapshot_items, model.snapshot_users)
    model._save_extra(folder)



def load_model(cls: type[Recommender], folder: Path, config: ModelConfig) -> Recommender:
    """Rebuild a fitted model from `save_model`'s output; `ArtifactError` if anything is off."""
    model = cls(config)
    try:
        with np.load(folder / "state.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as error:
        raise ArtifactError(f"{folder / 'state.npz'} is unreadable: {error}") from None
    try:
        model.n_users, model.n_items = (int(v) for v in arrays["shape"])
        model.scale = RatingScale(*(float(v) for v in arrays["scale"]))
        model._fallback = (float(arrays["fallback_mu"][0]), arrays["fallback_user"], arrays["fallback_item"])
        model._seen_indptr, model._seen_indices = arrays["seen_indptr"], arrays["seen_indices"]
        model._item_known = arrays["item_known"].astype(bool)
        model._newcomer = float(arrays["fallback_newcomer"][0])
        model.validation_predictions = arrays.get("validation_predictions")
        model._load_state({k[6:]: v for k, v in arrays.items() if k.startswith("model_")})
        model._load_extra(folder)
        model.snapshots, model.snapshot_items, model.snapshot_users = snapshots.load(folder)
    except (KeyError, ValueError, IndexError, OSError, EOFError) as error:
        raise ArtifactError(f"{folder} holds an incomplete or inconsistent model: {error}") from None
    model._check_loaded()
    return model
