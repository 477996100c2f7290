"""A bounded least-recently-used memo for one worker process: values derived from data that a key fully
names (a catalog rev, a product id, a language), kept while they are used and dropped oldest-first when
there are more than `size`. No locking: under threads a race can only build a value twice."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value kept under `key`, or `build()` kept now."""
        items = self._items
        found = items.get(key)
        try:
            if found is None:
                found = items[key] = build()
                while len(items) > self.size:
                    items.popitem(last=False)
            else:
                items.move_to_end(key)
        except KeyError:  # another thread evicted it meanwhile: nothing is lost
            pass
        return found

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
