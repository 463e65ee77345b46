"""Typed readers for settings from the environment; a bad value fails loudly at start-up."""

import os


class EnvError(ValueError):
    """An environment variable has a value its setting cannot take; fix or unset it."""


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise EnvError(f"{name}={raw!r}: use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EnvError(f"{name}={raw!r}: expected a whole number") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise EnvError(f"{name}={value}: expected a number from {lo} to {hi}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_float(name: str, default: float, lo: float | None = None, hi: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise EnvError(f"{name}={raw!r}: expected a number") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise EnvError(f"{name}={value}: expected a number from {lo} to {hi}")
    return value
