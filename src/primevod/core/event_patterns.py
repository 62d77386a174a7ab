"""Event patterns (the EventBridge rules role): a JSON pattern that an event matches or not.
Pure.

A pattern mirrors the event's shape; each leaf is a list of accepted values or matchers:

    {"type": ["asset.failed"], "data": {"error": {"code": [{"prefix": "source."}]}}}

Matchers: a plain value (equality), {"prefix": "x"}, {"suffix": "x"}, {"anything-but": [..]},
{"exists": true|false}, {"numeric": [">", 0, "<=", 5]}. Every key of the pattern must match
(AND); within a list any entry may match (OR). The event is matched as
{"type", "asset_id", "created_at", "data"} where data is the event's payload."""

from __future__ import annotations

from typing import Any

_NUMERIC = {
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
_MISSING = object()


class PatternError(ValueError):
    pass


def validate_pattern(pattern: Any, path: str = "") -> None:
    """Raise PatternError with the offending path when the pattern is malformed."""
    if not isinstance(pattern, dict) or not pattern:
        raise PatternError(f"{path or 'pattern'}: must be a non-empty JSON object")
    for key, rule in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(rule, dict):
            validate_pattern(rule, where)
        elif isinstance(rule, list):
            if not rule:
                raise PatternError(f"{where}: an empty list matches nothing")
            for entry in rule:
                if isinstance(entry, dict):
                    _validate_matcher(entry, where)
                elif isinstance(entry, list):
                    raise PatternError(f"{where}: nested lists are not allowed")
        else:
            raise PatternError(f"{where}: must be a list of values or an object")


def _validate_matcher(matcher: dict[str, Any], where: str) -> None:
    if len(matcher) != 1:
        raise PatternError(f"{where}: a matcher has exactly one key")
    ((kind, arg),) = matcher.items()
    if kind in ("prefix", "suffix"):
        if not isinstance(arg, str):
            raise PatternError(f"{where}: {kind} takes a string")
    elif kind == "anything-but":
        if not isinstance(arg, (list, str, int, float)):
            raise PatternError(f"{where}: anything-but takes a value or a list")
    elif kind == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"{where}: exists takes true or false")
    elif kind == "numeric":
        if not isinstance(arg, list) or len(arg) not in (2, 4):
            raise PatternError(f"{where}: numeric takes [op, n] or [op, n, op, n]")
        for op, n in zip(arg[::2], arg[1::2], strict=True):
            if op not in _NUMERIC or isinstance(n, bool) or not isinstance(n, (int, float)):
                raise PatternError(f"{where}: bad numeric condition {op!r} {n!r}")
    else:
        raise PatternError(f"{where}: unknown matcher {kind!r}")


def matches(pattern: dict[str, Any] | None, event: dict[str, Any]) -> bool:
    if not pattern:
        return True
    return _match_object(pattern, event)


def _match_object(pattern: dict[str, Any], value: Any) -> bool:
    for key, rule in pattern.items():
        field = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if isinstance(rule, dict):
            if field is _MISSING or not _match_object(rule, field):
                return False
        elif not any(_match_leaf(entry, field) for entry in rule):
            return False
    return True


def _match_leaf(entry: Any, field: Any) -> bool:
    if isinstance(entry, dict):
        ((kind, arg),) = entry.items()
        if kind == "exists":
            return (field is not _MISSING) == arg
        if field is _MISSING:
            return False
        if kind == "prefix":
            return isinstance(field, str) and field.startswith(arg)
        if kind == "suffix":
            return isinstance(field, str) and field.endswith(arg)
        if kind == "anything-but":
            excluded = arg if isinstance(arg, list) else [arg]
            values = field if isinstance(field, list) else [field]
            return all(v not in excluded for v in values)
        if kind == "numeric":
            if isinstance(field, bool) or not isinstance(field, (int, float)):
                return False
            return all(_NUMERIC[op](field, n) for op, n in zip(arg[::2], arg[1::2], strict=True))
        return False
    if field is _MISSING:
        return False
    if isinstance(field, list):  # an array field matches when any element does
        return entry in field
    return bool(entry == field)
