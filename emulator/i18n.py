"""Localised names: fixtures carry `{"zh-CN": ..., "en-US": ...}`; `X-TC-Language` picks one per request."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LANGUAGE = "zh-CN"  # Tencent's default when X-TC-Language is absent

Localized = Mapping[str, str]


def pick(names: Localized, language: str) -> str:
    """The name in `language`, else the Chinese one, else any (fixtures may give only one)."""
    if language in names:
        return names[language]
    if DEFAULT_LANGUAGE in names:
        return names[DEFAULT_LANGUAGE]
    return next(iter(names.values()), "")
