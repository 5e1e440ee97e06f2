"""JSON request bodies: the size bound, loading through a marshmallow schema, and the field
checks every body shares (bounded, not blank, not in the future)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from credit.clock import beijing_today

MAX_BODY_BYTES = 64 * 1024


class InvalidBody(Exception):
    """A request body that does not fit its schema; names the first field at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


def load_json_body(schema: Schema) -> dict[str, Any]:
    """The JSON body through its schema: 400 when it is not a JSON object, InvalidBody when a field is wrong."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise BadRequest("请求体须为 JSON 对象")
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        name, problems = next(iter(exc.messages_dict.items()))
        text = "；".join(map(str, problems)) if isinstance(problems, list) else str(problems)
        raise InvalidBody(name, text) from exc


def not_future(value: date) -> None:
    """A date that has happened (in Beijing)."""
    if value > beijing_today():
        raise ValidationError("日期不得晚于今天")


def not_blank(value: str) -> None:
    """Text that is more than spaces."""
    if not value.strip():
        raise ValidationError("不得为空")


def bounded_text(limit: int, *, required: bool = False, absent_is_none: bool = True) -> fields.String:
    """Text of 1 to ``limit`` characters, not only spaces; when optional and absent, None (or left out)."""
    checks = [validate.Length(min=1, max=limit), not_blank]
    if required:
        return fields.String(required=True, validate=checks)
    if absent_is_none:
        return fields.String(load_default=None, validate=checks)
    return fields.String(validate=checks)
