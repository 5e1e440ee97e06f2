"""What a registration status (登记状态) says about whether an entity still operates."""

from __future__ import annotations

import functools

# 登记状态 words that mean the entity no longer operates (注销 deregistered, 吊销 licence revoked,
# 撤销 registration cancelled, 迁出 moved out of this registry, 歇业 and 责令关闭 closed).
INACTIVE_MARKS = ("注销", "吊销", "撤销", "迁出", "歇业", "责令关闭")


@functools.lru_cache(maxsize=1024)
def is_operating(status: str | None) -> bool:
    """Whether a status means the entity still operates (an unknown status counts as operating)."""
    return not any(mark in (status or "") for mark in INACTIVE_MARKS)


def is_deregistered(status: str | None) -> bool:
    """Whether the status says 注销 (deregistered), which ends every abnormal listing."""
    return "注销" in (status or "")
