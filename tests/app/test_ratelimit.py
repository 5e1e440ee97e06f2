"""Rate limits: the limiter on a test clock, and the app's public, objection and regulator paths."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app, ratelimit, store
from app.ratelimit import Rate, RateLimiter, client_key, parse_rate
from blacklist.tokens import issue_token
from config import Settings, load_settings

LISTS = "/api/v1/lists"
ALICE, BOB = "203.0.113.7", "198.51.100.23"


@dataclass
class Clock:
    """Monotonic seconds that move only when the test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("text, rate", [
    ("120/minute", Rate(120, 60)), ("5/hour", Rate(5, 3600)), (" 30 / 10 minutes ", Rate(30, 600)),
    ("1000/DAY", Rate(1000, 86400)), ("2/seconds", Rate(2, 1)), ("off", None), ("0", None), ("", None),
])
def test_rates_are_read_from_their_setting(text: str, rate: Rate | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["120", "120/fortnight", "-1/minute", "0/minute", "5/0hours", "many/hour"])
def test_a_bad_rate_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="N/unit"):
        parse_rate(text)


def test_n_requests_pass_the_next_waits_and_the_allowance_comes_back() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60), clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a") == pytest.approx(20.0)  # one request back every 60/3 seconds
    assert limiter.hit("b") == 0.0
    clock.now += 19.5
    assert limiter.hit("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.hit("a") == 0.0 and limiter.hit("a") > 0
    clock.now += 60
    assert [limiter.hit("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]


def test_a_refused_request_does_not_push_the_wait_further() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(1, 10), clock)
    assert limiter.hit("a") == 0.0
    assert [limiter.hit("a") for _ in range(50)] == [pytest.approx(10.0)] * 50
    clock.now += 10
    assert limiter.hit("a") == 0.0


def test_memory_is_bounded_and_idle_keys_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(2, 60), clock, max_keys=50)
    for n in range(500):
        limiter.hit(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 50
    clock.now += 31  # every key's single request has been paid back (30 s each)
    limiter.hit("10.9.9.9")
    assert len(limiter) == 1


def test_the_lock_lets_exactly_n_through_from_many_threads() -> None:
    limiter = RateLimiter(Rate(100, 60), Clock())
    passed: list[int] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        passed.append(sum(limiter.hit("203.0.113.7") == 0.0 for _ in range(50)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(passed) == 100


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    (None, "unknown"),
])
def test_an_ipv6_client_counts_by_its_64(address: str | None, key: str) -> None:
    assert client_key(address) == key


def test_settings_default_on_and_come_from_the_environment() -> None:
    assert (Settings().rate_limit, Settings().objection_rate_limit) == ("120/minute", "5/hour")
    loaded = load_settings({"GONGXIN_RATE_LIMIT": "600/minute", "GONGXIN_OBJECTION_RATE_LIMIT": "off"})
    assert (loaded.rate_limit, loaded.objection_rate_limit) == ("600/minute", "off")
    assert parse_rate(load_settings({}).rate_limit) == Rate(120, 60)


@pytest.fixture
def clock() -> Clock:
    """The limiter's clock for the app under test."""
    return Clock()


@pytest.fixture
def limited_app(settings: Settings, clock: Clock) -> Iterator[Flask]:
    """The app with 3 public requests a minute and 2 objections an hour per address, on the test clock."""
    settings = settings.with_overrides(rate_limit="3/minute", objection_rate_limit="2/hour")
    application = create_app(settings)
    ratelimit.init_app(application, settings, clock=clock)
    yield application
    with application.app_context():
        store.engine().dispose()


@pytest.fixture
def limited(limited_app: Flask) -> FlaskClient:
    """A client of the limited app."""
    return limited_app.test_client()


def get(client: FlaskClient, path: str, address: str = ALICE, **headers: str) -> int:
    """GET from this client address; the status code."""
    return client.get(path, environ_base={"REMOTE_ADDR": address}, headers=headers).status_code


def test_the_fourth_request_in_a_minute_is_429_with_retry_after(limited: FlaskClient) -> None:
    assert [get(limited, LISTS) for _ in range(3)] == [200, 200, 200]
    response = limited.get(LISTS, environ_base={"REMOTE_ADDR": ALICE})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "20"
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and "20 秒" in error["message"]
    assert get(limited, "/api/v1/search?q=星河") == 429  # every public endpoint shares the address's allowance


def test_another_address_is_not_affected(limited: FlaskClient) -> None:
    assert [get(limited, LISTS) for _ in range(4)][-1] == 429
    assert [get(limited, LISTS, BOB) for _ in range(3)] == [200, 200, 200]
    assert get(limited, LISTS, "203.0.113.8") == 200


def test_x_forwarded_for_is_not_trusted(limited: FlaskClient) -> None:
    statuses = [get(limited, LISTS, **{"X-Forwarded-For": f"192.0.2.{n}"}) for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_window_recovers_on_the_clock(limited: FlaskClient, clock: Clock) -> None:
    assert [get(limited, LISTS) for _ in range(4)] == [200, 200, 200, 429]
    clock.now += 19
    assert get(limited, LISTS) == 429
    clock.now += 1
    assert [get(limited, LISTS) for _ in range(2)] == [200, 429]
    clock.now += 60
    assert [get(limited, LISTS) for _ in range(4)] == [200, 200, 200, 429]


def test_regulator_endpoints_and_health_are_not_limited(limited: FlaskClient, limited_app: Flask) -> None:
    with limited_app.app_context():
        secret = issue_token(store.session(), "sz-samr", "深圳市市场监督管理局", ["abnormal"], "4403", "测试")[1]
        store.session().commit()
    auth = {"Authorization": f"Bearer {secret}"}
    assert {get(limited, "/api/v1/regulator/objections", **auth) for _ in range(10)} == {200}
    assert {get(limited, "/api/v1/regulator/listings/4242", **auth) for _ in range(10)} == {404}
    assert {get(limited, "/healthz") for _ in range(5)} <= {200, 503}
    assert get(limited, LISTS) == 200  # none of the above counted against the public allowance


def test_objections_have_their_own_stricter_limit(limited: FlaskClient, clock: Clock) -> None:
    path = "/api/v1/entities/914403001922038216/objections"
    body = {"target_type": "list_entry", "target_id": 1, "text": "请予核实"}
    posts = [limited.post(path, json=body, environ_base={"REMOTE_ADDR": ALICE}) for _ in range(3)]
    assert [p.status_code for p in posts] == [404, 404, 429]  # no such entity, but each attempt counts
    assert posts[2].headers["Retry-After"] == "1800"
    assert [get(limited, LISTS) for _ in range(3)] == [200, 200, 200]  # reads keep their own allowance
    assert limited.post(path, json=body, environ_base={"REMOTE_ADDR": BOB}).status_code == 404
    clock.now += 1800
    assert limited.post(path, json=body, environ_base={"REMOTE_ADDR": ALICE}).status_code == 404


def test_a_limit_set_off_lets_everything_through(settings: Settings) -> None:
    app = create_app(settings.with_overrides(rate_limit="off"))
    client = app.test_client()
    assert {get(client, LISTS) for _ in range(200)} == {200}
    with app.app_context():
        store.engine().dispose()


def test_a_bad_setting_fails_at_startup(settings: Settings) -> None:
    with pytest.raises(ValueError, match="GONGXIN|N/unit"):
        create_app(settings.with_overrides(rate_limit="lots"))
