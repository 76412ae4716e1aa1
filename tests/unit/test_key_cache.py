"""Verified API keys kept for a few seconds: no lookup per request, revocation bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from pos_app.auth.key_cache import VerifiedKeys
from pos_app.auth.service import ApiKey


def api_key(prefix: str) -> ApiKey:
    return ApiKey(
        id=1,
        name="till",
        prefix=prefix,
        scopes=["sales:write"],
        stores=["yangon-1"],
        created_by="user:admin",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        revoked_at=None,
        last_used_at=None,
    )


def test_a_key_is_kept_for_its_seconds_then_looked_up_again() -> None:
    now = [100.0]
    cache = VerifiedKeys(seconds=5, clock=lambda: now[0])
    cache.put("pos_aaaaaaaa_secret", api_key("aaaaaaaa"))
    assert cache.get("pos_aaaaaaaa_secret") == api_key("aaaaaaaa")
    assert cache.get("pos_aaaaaaaa_other") is None  # the whole key must match, not the prefix
    now[0] += 4.9
    assert cache.get("pos_aaaaaaaa_secret") is not None
    now[0] += 0.1
    assert cache.get("pos_aaaaaaaa_secret") is None


def test_a_revoked_key_is_forgotten_at_once_and_the_cache_is_bounded() -> None:
    cache = VerifiedKeys(most=2)
    cache.put("pos_aaaaaaaa_one", api_key("aaaaaaaa"))
    cache.put("pos_bbbbbbbb_two", api_key("bbbbbbbb"))
    cache.forget("aaaaaaaa")
    assert cache.get("pos_aaaaaaaa_one") is None
    assert cache.get("pos_bbbbbbbb_two") is not None
    cache.put("pos_cccccccc_three", api_key("cccccccc"))
    cache.put("pos_dddddddd_four", api_key("dddddddd"))
    assert cache.get("pos_bbbbbbbb_two") is None  # the oldest went first
    assert cache.get("pos_dddddddd_four") is not None
