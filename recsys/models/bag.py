"""A bag of networks: one model trained from consecutive seeds, its rating predictions averaged.

A blend holds its Keras part this way (`part_networks`): each network early-stops and refits on
its own, and the average of their clipped predictions is one column of the blend. Averaging
networks that differ only in their random start removes part of each one's noise: measured with
recommender-net in the default blend, one network against four gave P1 0.8876 -> 0.8862,
P2 0.8264 -> 0.8225, P3 0.8837 -> 0.8824 (see docs/models.md). The first network draws the
curve and the latent map.
"""
from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from recsys.data.dataset import Ratings
from recsys.models.base import Recommender
from recsys.models.loop import EpochCallback, History
from recsys.models.outputs import Factors


class Bag(Recommender):
    """Several fitted copies of one model, from seeds seed, seed+1, ...; predictions averaged."""

    blendable = False  # only ever a blend's part, never chosen alone

    def __init__(self, members: list[Recommender]) -> None:
        first = members[0]
        self.config_type = type(first.config)
        super().__init__(first.config)
        self.members = members
        self.name = first.name
        self.learns_from_validation = first.learns_from_validation
        for number, member in enumerate(members[1:], start=2):  # each network's own framework file
            member.file_stem = f"{getattr(member, 'file_stem', 'model')}-{number}"

    def _fit(self, train: Ratings, valid: Ratings | None, callbacks: list[EpochCallback],
             stop: threading.Event | None) -> History:
        """The networks in two threads, the even ones here and the odd ones beside, when they can
        fit in threads (the compiled trainer), else one after another; a cached identical network
        is taken as it is. The first network's epochs are the curve."""
        def fit(number: int) -> History:
            member = self.members[number]
            twin = self.cached_part(member.name, member.config) if self.cached_part is not None else None
            if twin is not None and twin.validation_predictions is not None and valid is not None \
                    and len(twin.validation_predictions) == len(valid):
                reused = copy.copy(twin)  # the cached model itself stays as it is
                reused.file_stem = getattr(member, "file_stem", "model")  # saved under this network's name
                self.members[number] = reused
                return History()
            return member.fit(train, valid, callbacks if number == 0 else [], stop)

        def fit_all(numbers: range) -> list[History]:
            done = []
            for number in numbers:
                done.append(fit(number))
                if done[-1].stopped:
                    break
            return done
        if not all(member.fits_in_threads for member in self.members):
            histories = fit_all(range(len(self.members)))
        else:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bag") as beside:
                odd = beside.submit(fit_all, range(1, len(self.members), 2))
                histories = fit_all(range(0, len(self.members), 2)) + odd.result()
        stopped = next((h for h in histories if h.stopped), None)
        if stopped is not None:
            return stopped
        if valid is not None and len(valid):
            self.validation_predictions = np.mean([m.validation_predictions for m in self.members], axis=0)
        return histories[0]

    def prepare_scoring(self) -> None:
        for member in self.members:
            member.prepare_scoring()

    def share_training_data(self, other: Recommender) -> None:
        super().share_training_data(other)
        for member in self.members:
            member.share_training_data(other)

    def _predict_known(self, users, items):
        return np.mean([self.scale.clip(m._predict_known(users, items)) for m in self.members], axis=0)

    def _score_known(self, users):
        return np.mean([m.scores_to_output(m._score_known(users)) for m in self.members], axis=0)

    def scores_to_output(self, scores: np.ndarray) -> np.ndarray:
        return scores  # already the members' averaged outputs

    @property
    def can_fold_in(self) -> bool:
        return all(m.can_fold_in for m in self.members)

    def _fold_in(self, items, ratings):
        return np.mean([m.scores_to_output(m._fold_in(items, ratings)) for m in self.members], axis=0)

    def factors(self) -> Factors | None:
        return self.members[0].factors()

    def _state(self):
        return parts_state(self.members, "m")

    def _load_state(self, arrays):
        load_parts_state(self.members, arrays, "m")

    def _save_extra(self, folder):
        save_parts(self.members, folder)

    def _load_extra(self, folder):
        load_parts(self.members, folder)


def parts_state(parts: list[Recommender], prefix: str) -> dict[str, np.ndarray]:
    """The arrays of a model made of parts: each part's own, its keys prefixed by `prefix` and its
    position (c0_offset, m1_offset, ...)."""
    return {f"{prefix}{number}_{key}": value for number, part in enumerate(parts)
            for key, value in part._state().items()}


def load_parts_state(parts: list[Recommender], arrays: dict[str, np.ndarray], prefix: str) -> None:
    """Hand each part the arrays `parts_state` kept for it."""
    for number, part in enumerate(parts):
        mark = f"{prefix}{number}_"
        part._load_state({k[len(mark):]: v for k, v in arrays.items() if k.startswith(mark)})


def save_parts(parts: list[Recommender], folder: Path) -> None:
    for part in parts:
        part._save_extra(folder)


def load_parts(parts: list[Recommender], folder: Path) -> None:
    """Each part's framework files, checked against its arrays."""
    for part in parts:
        part._load_extra(folder)
        part._check_loaded()
