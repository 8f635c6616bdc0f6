"""The artifact store under concurrent use: a retrain replaces the saved model in one step, a
reader racing deletes and re-saves gets a model or "not available" and never a traceback, and a
model deleted on disk is noticed by a stamp check."""
from __future__ import annotations

import threading
import time

import pytest

from recsys.data.split import Split
from recsys.errors import ArtifactError, ArtifactGone
from recsys.work.training import lookup, train

U1 = Split("official", name="u1")


def test_retrain_replaces_the_saved_artifact(ml100k, store):
    first = train(ml100k, "biases", None, U1, store=store)
    again = train(ml100k, "biases", None, U1, store=store, retrain=True)
    assert not again.loaded and again.stamp is not None and again.stamp != first.stamp
    loaded = lookup(ml100k, "biases", None, U1, store)
    assert loaded.stamp == again.stamp == store.stamp("biases", first.key)
    assert loaded.fit_seconds == pytest.approx(again.fit_seconds)
    assert len(store.entries()) == 1 and not [p for p in store.root.iterdir() if p.name.startswith(".")]


def test_readers_racing_deletes_and_resaves_never_see_a_traceback(ml100k, store):
    model = train(ml100k, "biases", None, U1, store=store)
    outcomes: dict[str, int] = {"model": 0, "none": 0}
    problems: list[BaseException] = []
    done = threading.Event()

    def read():
        while not done.is_set():
            try:
                found = lookup(ml100k, "biases", None, U1, store)
            except BaseException as error:  # anything here is a failure of the store
                problems.append(error)
                return
            outcomes["model" if found is not None else "none"] += 1
            time.sleep(0.001)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    for cycle in range(40):
        try:
            store.delete("biases", model.key)
        except ArtifactGone:
            pass
        time.sleep(0.01)
        store.save(model.key, model.model, ml100k, U1, {}, replace=cycle % 2 == 0)
        time.sleep(0.05)
    done.set()
    for thread in readers:
        thread.join()
    assert not problems, problems[:3]
    assert outcomes["model"] > 0


def test_a_reader_of_a_replaced_artifact_gets_old_or_new_whole(ml100k, store):
    first = train(ml100k, "mf", {"epochs": 1, "factors": 4}, U1, store=store)
    stop, problems, stamps = threading.Event(), [], set()

    def read():
        while not stop.is_set():
            try:
                found = lookup(ml100k, "mf", {"epochs": 1, "factors": 4}, U1, store)
                if found is not None:  # None: it kept changing through every retry ("not available now")
                    stamps.add(found.stamp)
            except ArtifactError as error:
                problems.append(error)
            time.sleep(0.001)

    reader = threading.Thread(target=read)
    reader.start()
    saved = {first.stamp}
    for _ in range(15):
        store.save(first.key, first.model, ml100k, U1, {}, replace=True)
        saved.add(store.stamp("mf", first.key))
    stop.set()
    reader.join()
    assert not problems, problems[:3]
    assert stamps and stamps <= saved  # every read was one whole saved version


def test_delete_of_a_missing_artifact_says_it_is_gone(store):
    with pytest.raises(ArtifactGone):
        store.delete("biases", "0123456789abcdef")
