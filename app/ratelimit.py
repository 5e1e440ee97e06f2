"""Per-address rate limits on the public API (DESIGN.md, "Security stance": public reads are rate-limited).

Every request under ``/api/v1/`` counts against its client address, except the regulator API
(``/api/v1/regulator/…``), whose callers are authenticated by token. Submitting an objection counts
against its own, stricter limit instead. Over a limit the answer is 429 with ``Retry-After``.

The algorithm is GCRA, a token bucket kept as one number per address (the theoretical arrival
time): N requests may come at once, then one more every period/N. Memory is bounded: addresses
whose allowance is whole again are forgotten, and beyond ``MAX_KEYS`` the least recently seen go.

Counts live in this process only: with several worker processes or web nodes each keeps its own,
so a client may get up to that many times the limit. A shared store (Redis, say) is the next step.

The client address is ``request.remote_addr``; ``X-Forwarded-For`` is never read, since any client
can write it. Behind a reverse proxy, the deployment wraps the app in werkzeug's ``ProxyFix`` with
the number of trusted hops, which sets ``remote_addr`` from the proxy's header.
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request

from config import Settings

Clock = Callable[[], float]  # seconds, monotonic
MAX_KEYS = 100_000
PUBLIC_PREFIX = "/api/v1/"
REGULATOR_PREFIX = "/api/v1/regulator"
STRICT_ENDPOINTS = frozenset({"api.submit_objection"})
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?")
_OFF = frozenset({"", "0", "off", "none", "false", "no"})
_KEY = "gongxin.ratelimit"
_NS = 1_000_000_000


@dataclass(frozen=True)
class Rate:
    """At most ``count`` requests per ``period`` seconds."""

    count: int
    period: int


class RateLimited(Exception):
    """A client went over a limit; ``retry_after`` is the whole seconds until its next request may pass."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def parse_rate(text: str) -> Rate | None:
    """Read ``"120/minute"``, ``"5/hour"`` or ``"30/10minutes"``; ``"off"`` (or ``0``, or empty) is no limit."""
    cleaned = text.strip().lower()
    if cleaned in _OFF:
        return None
    match = _RATE.fullmatch(cleaned)
    if match is None or int(match.group(1)) < 1 or int(match.group(2) or 1) < 1:
        raise ValueError(f"rate limit {text!r}: write N/unit (second, minute, hour, day), e.g. 120/minute, or off")
    return Rate(int(match.group(1)), int(match.group(2) or 1) * UNITS[match.group(3)])


class RateLimiter:
    """GCRA limiter over string keys; thread-safe, with bounded memory."""

    def __init__(self, rate: Rate, clock: Clock = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self.rate, self._clock, self._max_keys = rate, clock, max_keys
        # Integer nanoseconds: with floats, N × (period / N) can exceed the period and refuse the Nth request.
        self._period = rate.period * _NS
        self._interval = self._period // rate.count
        self._arrival: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one request of ``key``: 0 when it may pass, else the seconds until it would."""
        with self._lock:
            now = int(self._clock() * _NS)
            arrival = max(self._arrival.get(key, now), now) + self._interval
            wait = arrival - self._period - now
            if wait > 0:
                return wait / _NS
            self._arrival[key] = arrival
            self._arrival.move_to_end(key)
            self._evict(now)
            return 0.0

    def __len__(self) -> int:
        return len(self._arrival)

    def _evict(self, now: int) -> None:
        # Least recently seen first. A key whose arrival time has passed has its whole allowance back,
        # so forgetting it changes nothing; past max_keys the coldest goes even so (it starts afresh).
        while self._arrival:
            key, arrival = next(iter(self._arrival.items()))
            if arrival > now and len(self._arrival) <= self._max_keys:
                return
            del self._arrival[key]


@dataclass(frozen=True)
class Limits:
    """One app's limiters; None where a limit is off."""

    public: RateLimiter | None
    objections: RateLimiter | None


def client_key(address: str | None) -> str:
    """What a limit counts against: an IPv4 address, or the /64 of an IPv6 one (a host usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def init_app(app: Flask, settings: Settings, clock: Clock = time.monotonic) -> None:
    """Build the app's limiters from its settings and check each request; called again, it replaces them.

    Tests call it again with a clock of their own to move time without sleeping.
    """
    first = _KEY not in app.extensions
    app.extensions[_KEY] = Limits(_limiter(settings.rate_limit, clock), _limiter(settings.objection_rate_limit, clock))
    if first:
        app.before_request(_check)


def _limiter(setting: str, clock: Clock) -> RateLimiter | None:
    rate = parse_rate(setting)
    return None if rate is None else RateLimiter(rate, clock)


def _check() -> None:
    """Count this request against its limit; RateLimited when it is over."""
    limiter = _limiter_for_request(current_app.extensions[_KEY])
    if limiter is None:
        return
    wait = limiter.hit(client_key(request.remote_addr))
    if wait > 0:
        raise RateLimited(max(1, math.ceil(wait)))


def _limiter_for_request(limits: Limits) -> RateLimiter | None:
    path = request.path
    if not path.startswith(PUBLIC_PREFIX) or path == REGULATOR_PREFIX or path.startswith(REGULATOR_PREFIX + "/"):
        return None
    return limits.objections if request.endpoint in STRICT_ENDPOINTS else limits.public
