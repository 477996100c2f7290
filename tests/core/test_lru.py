"""The per-worker LRU behind the catalog memo and the page memo (app.core.lru)."""
from __future__ import annotations

from app.core.lru import LRU


def test_keeps_the_most_recently_used_and_builds_once():
    built = []

    def build(v):
        return lambda: built.append(v) or v

    lru = LRU(2)
    assert lru.get("a", build("A")) == "A" and lru.get("b", build("B")) == "B"
    assert lru.get("a", build("A2")) == "A", "kept: not built again"
    lru.get("c", build("C"))  # b is the least recently used now
    assert len(lru) == 2
    assert lru.get("b", build("B2")) == "B2" and lru.get("a", build("A3")) == "A3"
    assert built == ["A", "B", "C", "B2", "A3"]


def test_a_smaller_size_trims_at_the_next_insert():
    lru = LRU(10)
    for i in range(10):
        lru.get(i, lambda i=i: i)
    lru.size = 3
    lru.get("new", lambda: "n")
    assert len(lru) == 3
