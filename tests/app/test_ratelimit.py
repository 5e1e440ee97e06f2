"""Rate limits (flask-limiter): the settings, the public, page, objection and exempt paths, 429s, and Redis.

The Redis tests run against the machine's Redis (``GONGXIN_TEST_REDIS_URL``, default
``redis://127.0.0.1:6379/0``) and fail, not skip, when it cannot be reached. Each test counts
under a key prefix of its own and deletes its keys afterwards.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from app import create_app, ratelimit, store
from app.ratelimit import BoundedMemoryStorage, client_key, parse_rate, retry_after
from blacklist.tokens import issue_token
from config import Settings, load_settings

REDIS_URL = os.environ.get("GONGXIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LISTS = "/api/v1/lists"
ALICE, BOB = "203.0.113.7", "198.51.100.23"
OBJECTION = {"target_type": "list_entry", "target_id": 1, "text": "请予核实该企业的列入记录"}
OBJECTIONS = "/api/v1/entities/914403001922038216/objections"


@pytest.mark.parametrize("text, limits", [
    ("120/minute", ["120 per 1 minute"]), ("5/hour", ["5 per 1 hour"]), (" 30 / 10 minutes ", ["30 per 10 minute"]),
    ("1000/DAY", ["1000 per 1 day"]), ("10/second;100/minute", ["10 per 1 second", "100 per 1 minute"]),
    ("off", []), ("0", []), ("", []), ("OFF", []),
])
def test_rates_are_read_from_their_setting(text: str, limits: list[str]) -> None:
    assert [str(item) for item in parse_rate(text)] == limits


@pytest.mark.parametrize("text", ["120", "120/fortnight", "-1/minute", "0/minute", "many/hour"])
def test_a_bad_rate_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(ValueError, match="GONGXIN_OBJECTION_RATE_LIMIT=.*N/unit"):
        parse_rate(text, "GONGXIN_OBJECTION_RATE_LIMIT")


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    (None, "unknown"),
])
def test_an_ipv6_client_counts_by_its_64(address: str | None, key: str) -> None:
    assert client_key(address) == key


@pytest.mark.parametrize("window, seconds", [
    ((0, 0.0, 3, 100.0), 41),   # this window is full: it must end (40 s) and weigh less than 3
    ((0, 0.0, 3, 60.0), 1),     # ... and it just has
    ((6, 45.0, 0, 0.0), 16),    # the last window's 6 weigh 6 × t/60 and must fall below 3: 15 s
    ((6, 45.0, 1, 105.0), 26),  # with 1 in this window they must fall below 2: 25 s, then the next second
    ((3, 10.0, 2, 110.0), 1),   # 3 × 10/60 floors to 0: room now
    ((0, 0.0, 6, 110.0), 81),   # 6 in this window: 50 s to its end, then 30 s for 6 × t/60 to fall below 3
])
def test_retry_after_is_when_the_sliding_window_lets_one_more_in(window: tuple[int, float, int, float],
                                                                 seconds: int) -> None:
    assert retry_after(3, 60, window) == seconds


def test_settings_default_to_memory_and_come_from_the_environment() -> None:
    base = Settings()
    assert (base.rate_limit, base.objection_rate_limit) == ("120/minute", "5/hour")
    assert (base.rate_limit_storage, base.rate_limit_prefix) == ("memory://", "gongxin")
    loaded = load_settings({"GONGXIN_RATE_LIMIT": "600/minute", "GONGXIN_OBJECTION_RATE_LIMIT": "off",
                            "GONGXIN_RATE_LIMIT_STORAGE": "redis://10.1.2.3:6379/2",
                            "GONGXIN_RATE_LIMIT_PREFIX": "gongxin-sz"})
    assert (loaded.rate_limit, loaded.objection_rate_limit) == ("600/minute", "off")
    assert ratelimit.storage_settings(loaded) == ("redis://10.1.2.3:6379/2", {
        "key_prefix": "gongxin-sz", **ratelimit.REDIS_OPTIONS})
    assert ratelimit.storage_settings(load_settings({}))[0] == "gongxin-memory://"


def test_memory_is_bounded_the_nearest_to_expiry_going_first() -> None:
    storage = BoundedMemoryStorage(max_keys=50)
    for n in range(500):
        storage.incr(f"10.0.{n // 256}.{n % 256}", expiry=60 + n)
    assert len(storage.storage) <= 50 and len(storage.expirations) == len(storage.storage)
    assert storage.get("10.0.1.243") == 1  # the newest (last to expire) are kept
    assert storage.get("10.0.0.0") == 0
    storage.incr("10.0.1.243", expiry=60)
    assert storage.get("10.0.1.243") == 2  # a counter that is kept keeps counting
    storage.reset()


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test store with these limit settings (3 public requests a minute, 2 objections an hour)."""
    apps: list[Flask] = []

    def build(**overrides: str) -> Flask:
        limits = {"rate_limit": "3/minute", "objection_rate_limit": "2/hour", **overrides}
        apps.append(create_app(settings.with_overrides(**limits)))
        return apps[-1]

    yield build
    for application in apps:
        with application.app_context():
            store.engine().dispose()


@pytest.fixture
def limited(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of an app with 3 public requests a minute and 2 objections an hour per address."""
    return make_app().test_client()


def get(client: FlaskClient, path: str, address: str = ALICE, **headers: str) -> int:
    """GET from this client address; the status code."""
    return client.get(path, environ_base={"REMOTE_ADDR": address}, headers=headers).status_code


def object_to(client: FlaskClient, address: str = ALICE) -> int:
    """Submit an objection from this address; the status code."""
    return client.post(OBJECTIONS, json=OBJECTION, environ_base={"REMOTE_ADDR": address}).status_code


def test_the_fourth_request_in_a_minute_is_429_with_retry_after(limited: FlaskClient) -> None:
    assert [get(limited, LISTS) for _ in range(3)] == [200, 200, 200]
    response = limited.get(LISTS, environ_base={"REMOTE_ADDR": ALICE})
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert response.get_json() == {"error": {"code": "rate_limited", "message": f"请求过于频繁，请 {wait} 秒后再试"}}
    assert get(limited, "/api/v1/search?q=星河") == 429  # every public endpoint shares the address's allowance


def test_the_public_pages_share_the_allowance_and_get_a_chinese_page(limited: FlaskClient) -> None:
    assert [get(limited, path) for path in ("/lists", LISTS, "/")] == [200, 200, 200]
    response = limited.get("/lists", environ_base={"REMOTE_ADDR": ALICE})
    assert response.status_code == 429 and response.mimetype == "text/html"
    wait = response.headers["Retry-After"]
    page = response.get_data(as_text=True)
    assert "请求过于频繁" in page and f"请 {wait} 秒后再试" in page
    assert get(limited, LISTS) == 429


def test_another_address_is_not_affected_but_the_same_64_is(limited: FlaskClient) -> None:
    assert [get(limited, LISTS) for _ in range(4)][-1] == 429
    assert [get(limited, LISTS, BOB) for _ in range(3)] == [200, 200, 200]
    assert get(limited, LISTS, "203.0.113.8") == 200
    assert [get(limited, LISTS, f"2001:db8:7:7::{n}") for n in range(1, 5)] == [200, 200, 200, 429]
    assert get(limited, LISTS, "2001:db8:7:8::1") == 200


def test_x_forwarded_for_is_not_trusted(limited: FlaskClient) -> None:
    statuses = [get(limited, LISTS, **{"X-Forwarded-For": f"192.0.2.{n}", "X-Real-IP": f"192.0.2.{n}"})
                for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_regulator_api_health_and_static_are_not_limited(limited: FlaskClient, settings: Settings) -> None:
    with limited.application.app_context():
        secret = issue_token(store.session(), "sz-samr", "深圳市市场监督管理局", ["abnormal"], "4403", "测试")[1]
        store.session().commit()
    auth = {"Authorization": f"Bearer {secret}"}
    assert {get(limited, "/api/v1/regulator/objections", **auth) for _ in range(10)} == {200}
    assert {get(limited, "/api/v1/regulator/listings/4242", **auth) for _ in range(10)} == {404}
    assert {get(limited, "/healthz") for _ in range(10)} <= {200, 503}
    assert {get(limited, "/static/gongxin.css") for _ in range(10)} == {200}
    assert [get(limited, LISTS) for _ in range(4)] == [200, 200, 200, 429]  # none of the above counted


def test_objections_have_their_own_stricter_limit(limited: FlaskClient) -> None:
    assert [object_to(limited) for _ in range(3)] == [404, 404, 429]  # no such entity, but each attempt counts
    response = limited.post(OBJECTIONS, json=OBJECTION, environ_base={"REMOTE_ADDR": ALICE})
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 3600
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert [get(limited, LISTS) for _ in range(3)] == [200, 200, 200]  # reads keep their own allowance
    assert object_to(limited, BOB) == 404


def test_the_allowance_comes_back_after_retry_after(make_app: Callable[..., Flask]) -> None:
    client = make_app(rate_limit="2/2 seconds").test_client()
    while True:  # start at the beginning of a window, so the two requests fall in one
        if time.time() % 2 < 0.5:
            break
        time.sleep(0.05)
    assert [get(client, LISTS) for _ in range(2)] == [200, 200]
    response = client.get(LISTS, environ_base={"REMOTE_ADDR": ALICE})
    assert response.status_code == 429
    time.sleep(int(response.headers["Retry-After"]))
    assert get(client, LISTS) == 200


def test_a_limit_set_off_lets_everything_through(make_app: Callable[..., Flask]) -> None:
    client = make_app(rate_limit="off", objection_rate_limit="off").test_client()
    assert {get(client, LISTS) for _ in range(150)} == {200}
    assert {object_to(client) for _ in range(10)} == {404}


def test_the_defaults_allow_120_a_minute(settings: Settings) -> None:
    app = create_app(settings)
    (limiter,) = app.extensions["limiter"]
    assert isinstance(limiter.storage, BoundedMemoryStorage) and limiter.storage.max_keys == ratelimit.MAX_KEYS
    client = app.test_client()
    assert [get(client, LISTS) for _ in range(121)].count(200) == 120
    with app.app_context():
        store.engine().dispose()


@pytest.mark.parametrize("overrides, message", [
    ({"rate_limit": "lots"}, "GONGXIN_RATE_LIMIT="),
    ({"objection_rate_limit": "0/hour"}, "GONGXIN_OBJECTION_RATE_LIMIT="),
    ({"rate_limit_storage": "memcached://127.0.0.1:11211"}, "GONGXIN_RATE_LIMIT_STORAGE="),
])
def test_a_bad_setting_fails_at_startup(settings: Settings, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        create_app(settings.with_overrides(**overrides))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the machine's Redis, its keys deleted afterwards; fails without Redis."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable ({exc}): the shared rate limits must be tested on it")
    prefix = f"gongxin-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def redis_keys(prefix: str) -> list[str]:
    """The keys under this prefix in the test Redis."""
    with redis.Redis.from_url(REDIS_URL) as client:
        return [key.decode() for key in client.scan_iter(match=f"{prefix}:*")]


def test_two_apps_on_one_redis_share_the_count(make_app: Callable[..., Flask], redis_prefix: str) -> None:
    first, second = (make_app(rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix).test_client()
                     for _ in range(2))
    assert [get(first, LISTS), get(second, LISTS), get(first, "/lists")] == [200, 200, 200]
    response = second.get(LISTS, environ_base={"REMOTE_ADDR": ALICE})
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
    assert get(first, LISTS) == 429
    assert [get(second, LISTS, BOB), get(first, LISTS, BOB)] == [200, 200]
    assert any(ALICE in key for key in redis_keys(redis_prefix))


def test_objections_are_counted_in_redis_too(make_app: Callable[..., Flask], redis_prefix: str) -> None:
    first, second = (make_app(rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix).test_client()
                     for _ in range(2))
    assert [object_to(first), object_to(second), object_to(first)] == [404, 404, 429]
    assert object_to(second) == 429
    assert get(second, LISTS) == 200


def test_another_prefix_counts_apart(make_app: Callable[..., Flask], redis_prefix: str) -> None:
    first = make_app(rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix).test_client()
    other = make_app(rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix + "-other").test_client()
    try:
        assert [get(first, LISTS) for _ in range(4)] == [200, 200, 200, 429]
        assert [get(other, LISTS) for _ in range(3)] == [200, 200, 200]
    finally:
        with redis.Redis.from_url(REDIS_URL) as client:
            for key in client.scan_iter(match=f"{redis_prefix}-other:*"):
                client.delete(key)


def test_a_redis_that_is_down_does_not_take_the_site_down(make_app: Callable[..., Flask]) -> None:
    # Nothing listens on port 1: every process counts in its own memory until Redis is back.
    client = make_app(rate_limit_storage="redis://127.0.0.1:1/0").test_client()
    assert [get(client, LISTS) for _ in range(4)] == [200, 200, 200, 429]
    assert get(client, "/healthz") in (200, 503)
