"""A JSON document read into a pydantic model, refused with where it is wrong: the line and
column of malformed JSON, or the dotted path of each field that breaks the model
(`Rules.0.Expiration.Days: ...`). Price files and lifecycle documents are read this way."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def load_document(
    model: type[Model], text: str, name: str, error: type[ValueError] = ValueError
) -> Model:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{name}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise error(f"{name}: {problems}") from None
