"""One rollup at a time: a Redis lock with an owner token.

SET key token NX PX ttl takes it; a Lua compare-and-delete releases it and a compare-and-PEXPIRE
extends it, so a run never frees or prolongs a lock another run took after its own expired. While a
pass runs, a daemon thread extends the lock every ttl/3; a worker killed mid-run stops extending and
the lock expires by itself within ttl, after which the next run takes it and repairs what the killed
one left (recomputing is idempotent).

Without REDIS_URL (the embedded demo runs tasks eagerly in one process) the lock is a process-local
one with the same interface.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

LOCK_KEY = "xiangzhi:rollups:lock"
TTL_MS = 120_000

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end
"""

_local_lock = threading.Lock()
_local_owner: dict[str, str] = {}


def _client() -> Any:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)


def acquire(ttl_ms: int = TTL_MS) -> str | None:
    """Take the lock; its owner token, or None when another run holds it."""
    token = secrets.token_hex(16)
    client = _client()
    if client is None:
        with _local_lock:
            if LOCK_KEY in _local_owner:
                return None
            _local_owner[LOCK_KEY] = token
            return token
    return token if client.set(LOCK_KEY, token, nx=True, px=ttl_ms) else None


def extend(token: str, ttl_ms: int = TTL_MS) -> bool:
    """Push the expiry out again, only if `token` still owns the lock."""
    client = _client()
    if client is None:
        return _local_owner.get(LOCK_KEY) == token
    return bool(client.eval(_EXTEND, 1, LOCK_KEY, token, ttl_ms))


def release(token: str) -> bool:
    """Free the lock, only if `token` still owns it."""
    client = _client()
    if client is None:
        with _local_lock:
            if _local_owner.get(LOCK_KEY) == token:
                del _local_owner[LOCK_KEY]
                return True
            return False
    return bool(client.eval(_RELEASE, 1, LOCK_KEY, token))


def holder() -> str | None:
    """The token holding the lock now (None: free)."""
    client = _client()
    if client is None:
        return _local_owner.get(LOCK_KEY)
    value = client.get(LOCK_KEY)
    return value.decode() if value else None


@contextmanager
def held(ttl_ms: int = TTL_MS) -> Iterator[str | None]:
    """Hold the lock for the block, extending it while the block runs. Yields the token, or None
    when the lock is taken (the block should then skip its work)."""
    token = acquire(ttl_ms)
    if token is None:
        yield None
        return
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(ttl_ms / 3000):
            if not extend(token, ttl_ms):
                return

    keeper = threading.Thread(target=keep, name="rollup-lock", daemon=True)
    keeper.start()
    try:
        yield token
    finally:
        stop.set()
        keeper.join(timeout=5)
        release(token)
