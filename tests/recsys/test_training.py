import threading

import pytest

from recsys.data.readers import mini_dataset
from recsys.data.split import Split
from recsys.errors import ConfigError
from recsys.work.training import ProgressPrinter, lookup, train


def test_callbacks_receive_every_epoch_and_stop_saves_nothing(store, ml100k):
    logs, stages = [], []
    result = train(ml100k, "biased-mf", {"epochs": 3, "factors": 8, "patience": 10},
                   split=Split("official", name="u1"), store=store, callbacks=[logs.append], on_stage=stages.append)
    assert stages == ["fitting", "evaluating", "saving"]
    fitted = [log for log in logs if log.phase == "fit"]
    assert [log.epoch for log in fitted] == [1, 2, 3]
    assert all(log.val_rmse is not None and log.seconds > 0 for log in fitted)
    refits = [log for log in logs if log.phase == "refit"]
    assert [log.epoch for log in refits] == list(range(1, len(refits) + 1)) and len(refits) >= 1
    assert result.path is not None and result.metrics["rmse"] < 1.2
    stop = threading.Event()
    stopped = train(ml100k, "biased-mf", {"epochs": 30, "factors": 8}, split=Split("official", name="u2"),
                    store=store, callbacks=[lambda log: stop.set()], stop=stop, on_stage=stages.append)
    assert stages[3:] == ["fitting"], "a stopped run is neither evaluated nor saved"
    assert stopped.stopped and stopped.path is None and "nothing was saved" in stopped.notes[0]
    assert lookup(ml100k, "biased-mf", {"epochs": 30, "factors": 8}, Split("official", name="u2"), store) is None
    assert len(store.entries()) == 1


def test_bad_config_is_refused_before_any_work(store):
    with pytest.raises(ConfigError, match="epochs must be"):
        train(mini_dataset(), "mf", {"epochs": -1}, store=store)
    with pytest.raises(ConfigError, match="unknown model"):
        train(mini_dataset(), "svd", store=store)


def test_progress_printer_estimates_time_left():
    from recsys.models import EpochLog

    lines = []
    printer = ProgressPrinter("mf", write=lines.append)
    printer(EpochLog(1, 4, 0.5, 0.6, 0.9, 0.1))
    assert "epoch 1/4" in lines[0] and "val_rmse 0.9000" in lines[0] and "left" in lines[0]
