"""How values read on a page: dates, Beijing times, amounts, regions and highlighted names.

Everything here returns plain text, except ``highlighted`` which returns markup built from
escaped pieces: text from the store is never marked safe as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup, escape

from credit.clock import BEIJING
from credit.identifiers import IdKind, Validation

OPEN_ENDED = date(2099, 12, 31)  # 有效期至 2099-12-31 means "no end" in the national layouts
# GB/T 2260 province-level divisions: the first two digits of a division code.
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}
RUN_STATUS = {"applied": "成功", "failed": "失败", "running": "进行中"}
ID_NAMES = {IdKind.USCC: "统一社会信用代码", IdKind.ORG_CODE: "组织机构代码", IdKind.REG_NO: "注册号"}


def day(value: date | datetime | str | None) -> str:
    """``2024-03-05``; an empty string for nothing."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, date) else str(value)


def validity(start: date | None, end: date | None) -> str:
    """``2024-01-01 至 2029-01-01``, with 长期 for the open-ended end date."""
    if start is None and end is None:
        return ""
    until = "长期" if end is not None and end >= OPEN_ENDED else day(end) or "—"
    return f"{day(start) or '—'} 至 {until}"


def beijing(value: datetime | None) -> str:
    """A stored (naive UTC) time as Beijing time to the minute: ``2026-11-28 09:30``."""
    return "" if value is None else value.replace(tzinfo=timezone.utc).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def age(value: datetime | None, now: datetime) -> str:
    """How long ago, in words: ``3 小时前``, ``2 天前``."""
    if value is None:
        return ""
    seconds = max(int((now - value).total_seconds()), 0)
    for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}前"
    return "刚刚"


def wan(value: Any) -> str:
    """An amount in 万元 as sent (``1.5`` → ``1.5 万元``); text that is not a number stays as it is."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{format(amount.normalize(), 'f')} 万元" if amount.is_finite() else str(value)


def region(code: str | None) -> str:
    """``广东省 440300``; the bare code when the province is unknown."""
    if not code:
        return ""
    province = PROVINCES.get(code[:2])
    return f"{province} {code}" if province else code


def names(value: Any) -> str:
    """A list of names (or a claim's JSON list) joined for reading."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return "；".join(str(v) for v in value if v)
    return "" if value is None else str(value)


def highlighted(name: str, spans: Iterable[tuple[int, int]]) -> Markup:
    """The name with ``<mark>`` around the matched spans; every piece of the name is escaped."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if start < position or start >= end or end > len(name):
            continue  # overlapping or out of range: leave that span plain
        pieces += [escape(name[position:start]), Markup("<mark>{}</mark>").format(name[start:end])]
        position = end
    pieces.append(escape(name[position:]))
    return Markup("").join(pieces)


def identifier_problem(validation: Validation) -> str:
    """Why an identifier cannot be used, in Chinese, from what validation found."""
    shown = validation.value[:40]
    if validation.kind is IdKind.UNKNOWN:
        return (f"“{shown}”不是有效的标识符：统一社会信用代码为 18 位，组织机构代码为 9 位，"
                f"注册号为 15 位，而输入的是 {len(validation.value)} 位。")
    kind = ID_NAMES.get(validation.kind, "标识符")
    position = validation.position
    if position is not None and 0 < position <= len(validation.value):
        extra = "（统一社会信用代码不使用字母 I、O、Z、S、V）" if validation.kind is IdKind.USCC else ""
        return f"{kind}“{shown}”的第 {position} 位字符“{validation.value[position - 1]}”不合规{extra}。"
    return f"{kind}“{shown}”格式不正确（{len(validation.value)} 位）。"


def file_name(path: str | None) -> str:
    """The last part of a path: the pages never show where files live on the server."""
    return "" if not path else path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


# What kind of failure a run's (English, technical) error is, told in Chinese: the first pattern
# found in the message wins. The messages come from ingest.errors and ingest.readers.
RUN_FAILURES = (
    ("missing columns", "文件缺少本来源映射所需的列，整份文件未导入"),
    ("is ambiguous", "文件中有多列对应同一字段，整份文件未导入"),
    ("rows rejected", "拒收的行超过本来源允许的比例，整份文件未导入"),
    ("max_rows", "文件行数超过本来源的上限，整份文件未导入"),
    ("min_rows", "文件行数少于本来源的下限，整份文件未导入"),
    ("cannot be decoded", "文件编码与声明不符，无法读取，整份文件未导入"),
    ("no such file", "文件不存在"),
    ("empty file", "文件为空，没有表头"),
    ("header", "文件表头有误，整份文件未导入"),
    ("not valid JSON", "文件不是有效的 JSON Lines，整份文件未导入"),
    ("not readable", "文件无法按声明的格式读取，整份文件未导入"),
    ("unexpected", "处理时发生内部错误，整份文件未导入，已记录待查"),
)
RUN_FAILURE_OTHER = "文件未能处理，整份文件未导入"


def run_failure(error: str | None) -> str:
    """A failed run's error told in Chinese, by kind; the technical message stays for the details."""
    if not error:
        return ""
    return next((told for pattern, told in RUN_FAILURES if pattern in error), RUN_FAILURE_OTHER)


def run_error(error: str | None, path: str | None) -> str:
    """A failed run's message without the server's directories, cut to a readable length."""
    if not error:
        return ""
    if path:
        error = error.replace(path, file_name(path))
    return error if len(error) <= 300 else error[:300] + "…"
