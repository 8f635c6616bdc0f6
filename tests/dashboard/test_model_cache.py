"""The server's model cache keeps within its byte budget, evicting the least recently used."""
from types import SimpleNamespace

from recsys.store.model_cache import ModelCache


def _result(megabytes: int):
    return SimpleNamespace(model=SimpleNamespace(memory_bytes=lambda: megabytes << 20))


def test_least_recently_used_models_are_evicted_past_the_budget():
    evicted = []
    cache = ModelCache(budget=100 << 20, on_evict=evicted.append)
    a, b, c = _result(40), _result(40), _result(40)
    cache["a"], cache["b"] = a, b
    assert cache.get("a") is a  # a is now the most recently used
    cache["c"] = c
    assert evicted == ["b"] and "b" not in cache and cache.keys() == ["a", "c"]
    assert cache.used == 80 << 20
    huge = _result(500)
    cache["huge"] = huge  # bigger than the budget on its own: kept alone, the rest evicted
    assert cache.keys() == ["huge"] and evicted == ["b", "a", "c"]
    assert cache.pop("huge") is huge and cache.get("huge") is None
