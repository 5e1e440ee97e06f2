"""Per-address rate limits on the public API and pages, with flask-limiter (DESIGN.md, "Security stance").

What counts: every request to a public page (the ``pages`` blueprint) or under ``/api/v1/``
counts against one allowance per client address (``GONGXIN_RATE_LIMIT``, default
``120/minute``), shared by all those endpoints. Submitting an objection counts against its own,
stricter allowance instead (``GONGXIN_OBJECTION_RATE_LIMIT``, default ``5/hour``). Not limited:
the regulator API (``/api/v1/regulator…``, whose callers hold a token), ``/healthz``,
``/static`` and URLs that match no route. A limit written ``off`` is not applied. Over a limit
the answer is 429 with ``Retry-After``: the JSON error of ``app.errors`` for the API, a Chinese
page for the pages.

The algorithm is limits' sliding window counter: a window's count plus the previous window's,
weighted by how much of it still overlaps, so that no burst at a window's edge doubles the
allowance; ``Retry-After`` is worked out from the same counts (``retry_after``).

Storage (``GONGXIN_RATE_LIMIT_STORAGE``): ``memory://`` by default, counts kept in this process
only, so with several workers or nodes a client may get up to that many times its allowance;
``redis://host:port/db`` shares the counts between every process and node that uses the same
Redis and prefix (``GONGXIN_RATE_LIMIT_PREFIX``). While Redis cannot be reached, each process
counts in its own memory and tries Redis again, less and less often, instead of failing requests.

Memory is bounded: in memory there are two counters per address and allowance (this window and
the previous), each dropped when it expires, and beyond ``MAX_KEYS`` counters those nearest to
expiry go first (their addresses start afresh). In Redis every counter carries a TTL; while
Redis is down, the fallback counts in limits' plain memory storage, which only expires them.

The client address is ``request.remote_addr``, an IPv6 address counting by its /64 (a host
usually holds a whole /64). ``X-Forwarded-For`` is never read, since any client can write it.
Behind a reverse proxy, the deployment wraps the app in werkzeug's ``ProxyFix`` with the number
of trusted hops, which sets ``remote_addr`` from the proxy's header.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, current_app, make_response, request
from flask.typing import ResponseReturnValue
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded, RequestLimit
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage

from config import Settings

MAX_KEYS = 100_000
PUBLIC_PREFIX = "/api/v1/"
REGULATOR_PREFIX = "/api/v1/regulator"
PAGES = "pages"
STRICT_ENDPOINTS = frozenset({"api.submit_objection"})
PUBLIC, OBJECTIONS = "public", "objections"
MEMORY_URI = "gongxin-memory://"  # BoundedMemoryStorage
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+unix"})
# A Redis that hangs must not hang every request: give up quickly and count in memory meanwhile.
REDIS_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
_OFF = frozenset({"", "0", "off", "none", "false", "no"})
_KEY = "gongxin.ratelimit"


class RateLimited(Exception):
    """A client went over a limit; ``retry_after`` is the whole seconds until its next request may pass.

    ``app.errors`` maps it to the API's JSON 429.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class BoundedMemoryStorage(MemoryStorage):
    """limits' memory storage with at most ``max_keys`` counters: when full, those nearest to expiry go."""

    STORAGE_SCHEME = ["gongxin-memory"]  # how limits' storage_from_string finds it

    def __init__(self, uri: str | None = None, max_keys: int = MAX_KEYS, **options: str) -> None:
        super().__init__(uri, **options)
        self.max_keys = max_keys

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count as limits does, first making room when this is a new counter and the storage is full."""
        if key not in self.storage and len(self.storage) >= self.max_keys:
            self._evict()
        return super().incr(key, expiry, amount)

    def _evict(self) -> None:
        # Sorted by expiry the expired come first; dropping at least a tenth pays for the sort.
        now = time.time()
        by_expiry = sorted(list(self.expirations.items()), key=lambda item: item[1])
        expired = sum(1 for _, at in by_expiry if at <= now)
        for key, _ in by_expiry[: max(1, self.max_keys // 10, expired)]:
            self.clear(key)


def parse_rate(text: str, variable: str = "GONGXIN_RATE_LIMIT") -> list[RateLimitItem]:
    """Read ``"120/minute"``, ``"5/hour"``, ``"30/10 minutes"`` or several joined by ``;``; ``off`` is none."""
    cleaned = text.strip().lower()
    if cleaned in _OFF:
        return []
    try:
        items = parse_many(cleaned)
    except ValueError as exc:
        raise ValueError(f"{variable}={text!r}: write N/unit (second, minute, hour, day), e.g. 120/minute, "
                         "or off") from exc
    if any(item.amount < 1 for item in items):
        raise ValueError(f"{variable}={text!r}: write N/unit with N at least 1, e.g. 120/minute, or off")
    return items


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


def limit_scope() -> str | None:
    """Which allowance this request counts against: ``public``, ``objections``, or None (not limited)."""
    if request.endpoint in STRICT_ENDPOINTS:
        return OBJECTIONS
    path = request.path
    regulator = path == REGULATOR_PREFIX or path.startswith(REGULATOR_PREFIX + "/")
    if request.blueprint == PAGES or (path.startswith(PUBLIC_PREFIX) and not regulator):
        return PUBLIC
    return None


def retry_after(amount: int, period: float, window: tuple[int, float, int, float]) -> int:
    """Whole seconds until a sliding window counter lets one more request in.

    ``window`` is what limits' storages report: (previous count, seconds the previous window
    still weighs, current count, seconds the current counter lives). The weighted count is
    ``floor(previous × its weight / period) + current``, and a request passes while it is below
    ``amount``: wait for the previous window's weight to fall far enough, or, when the current
    window alone is full, for it to become the previous one and fall in its turn.
    """
    previous, previous_ttl, current, current_ttl = window
    if current >= amount:
        wait = current_ttl - amount * period / current
    elif previous:
        wait = previous_ttl - (amount - current) * period / previous
    else:
        wait = 0.0
    return max(1, math.floor(wait) + 1)


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Limit the app's public requests as its settings say; a bad limit or storage fails here, at startup."""
    uri, options = storage_settings(settings)
    wanted = ((settings.rate_limit, "GONGXIN_RATE_LIMIT", PUBLIC),
              (settings.objection_rate_limit, "GONGXIN_OBJECTION_RATE_LIMIT", OBJECTIONS))
    limits = [ApplicationLimit(text.strip().lower(), scope=scope, exempt_when=_outside(scope))
              for text, variable, scope in wanted if parse_rate(text, variable)]
    limiter = Limiter(lambda: client_key(request.remote_addr), application_limits=limits,
                      strategy="sliding-window-counter", storage_uri=uri, storage_options=options,
                      in_memory_fallback_enabled=uri != MEMORY_URI, headers_enabled=False)
    limiter.init_app(app)
    app.extensions[_KEY] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    return limiter


def storage_settings(settings: Settings) -> tuple[str, dict[str, str | int | float]]:
    """The limits storage URI and options: bounded memory, or Redis with the deployment's key prefix."""
    uri = settings.rate_limit_storage.strip() or "memory://"
    scheme = urlsplit(uri).scheme
    if scheme == "memory":
        return MEMORY_URI, {"max_keys": MAX_KEYS}
    if scheme in REDIS_SCHEMES:
        return uri, {"key_prefix": settings.rate_limit_prefix, **REDIS_OPTIONS}
    raise ValueError(f"GONGXIN_RATE_LIMIT_STORAGE={uri!r}: write memory:// or redis://host:port/db")


def _outside(scope: str) -> Callable[[], bool]:
    """Whether a request is exempt from the allowance of ``scope``: it counts against another, or none."""
    return lambda: limit_scope() != scope


def _too_many_requests(exc: RateLimitExceeded) -> ResponseReturnValue:
    """429 with Retry-After: a Chinese page for the pages, else the API's JSON error (``app.errors``)."""
    wait = _wait(current_app.extensions[_KEY].current_limit)
    if request.blueprint != PAGES:
        return current_app.handle_user_exception(RateLimited(wait))  # the one mapping to the JSON 429
    from app.pages.errors import error_page  # not at the top: app.errors imports this module

    response = make_response(error_page(429, "请求过于频繁", f"您的请求过于频繁，请 {wait} 秒后再试。"))
    response.headers["Retry-After"] = str(wait)
    return response


def _wait(breached: RequestLimit | None) -> int:
    if breached is None:
        return 1
    item = breached.limit
    window = breached.limiter.storage.get_sliding_window(breached.key, item.get_expiry())  # type: ignore[attr-defined]
    return retry_after(item.amount, item.get_expiry(), window)
