"""params/README.md documents every key of the schema."""

from __future__ import annotations

from pydantic import BaseModel

from ftcost_helpers.engine.loading import params_dir
from ftcost_helpers.engine.schema import Params


def leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += leaf_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_schema_key_is_documented():
    readme = (params_dir() / "README.md").read_text(encoding="utf-8")
    missing = [key for key in leaf_keys(Params) if f"`{key}`" not in readme]
    assert not missing, f"undocumented keys in params/README.md: {missing}"
