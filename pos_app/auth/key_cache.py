"""API keys verified a moment ago, kept in the app process for a few seconds.

Every API request presents its key; looking it up is a transaction of its own (a read
and a commit) before the request's work begins. A key seen within VERIFIED_FOR is taken
from here instead. The cost is a bound on revocation: the process that revokes a key
forgets it at once, other app workers within VERIFIED_FOR. `last_used_at` is still
written when a key is looked up again, at most once a minute (`TOUCH_EVERY`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from pos_app.auth.service import ApiKey, sha256_hex

VERIFIED_FOR = 5.0  # seconds
MOST_KEYS = 1024  # a shop has a handful; the bound keeps made-up keys from growing it


class VerifiedKeys:
    def __init__(
        self,
        *,
        seconds: float = VERIFIED_FOR,
        most: int = MOST_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._most = most
        self._clock = clock
        self._keys: OrderedDict[str, tuple[float, ApiKey]] = OrderedDict()

    def get(self, key: str) -> ApiKey | None:
        """The key's record if it was verified less than `seconds` ago."""
        digest = sha256_hex(key)
        found = self._keys.get(digest)
        if found is None:
            return None
        verified_at, api_key = found
        if self._clock() - verified_at >= self._seconds:
            del self._keys[digest]
            return None
        return api_key

    def put(self, key: str, api_key: ApiKey) -> None:
        digest = sha256_hex(key)
        self._keys.pop(digest, None)
        self._keys[digest] = (self._clock(), api_key)
        while len(self._keys) > self._most:
            self._keys.popitem(last=False)

    def forget(self, prefix: str) -> None:
        """A revoked key: refused from the next request on, in this process."""
        for digest in [d for d, (_, k) in self._keys.items() if k.prefix == prefix]:
            del self._keys[digest]
