"""Settings objects passed as `settings=`, `labels=` or `noise_settings=`."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

Settings = TypeVar("Settings")


def settings_argument(
    value: object, kind: type[Settings], what: str = "settings", **overrides: object
) -> Settings:
    """A settings object of type `kind` (its defaults for `None`), with `overrides`
    applied to its fields.

    **Arguments:**

    - `value`: `None` or an instance of `kind`.
    - `kind`: the settings class, a frozen dataclass.
    - `what`: the argument's name, for messages.
    - `**overrides`: field values to replace.

    **Returns:**

    The settings, checked again by `kind` after the overrides.

    **Raises:**

    - `TypeError`: `value` is not a `kind` (a dict, say), or an override names no
      field of `kind`. The message names the fields.
    """
    fields = [f.name for f in dataclasses.fields(kind)]
    if value is None:
        value = kind()
    elif not isinstance(value, kind):
        raise TypeError(
            f"{what} must be a {kind.__name__}, got {type(value).__name__} "
            f"{str(value)[:80]}; write {what}={kind.__name__}(...) with fields from "
            f"{', '.join(fields)}"
        )
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise TypeError(
            f"{', '.join(map(repr, unknown))} is not a field of {kind.__name__}; its fields "
            f"are {', '.join(fields)}"
        )
    return dataclasses.replace(value, **overrides) if overrides else value
