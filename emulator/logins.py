"""Login settings for RunInstances and ResetInstance: password complexity per platform, mutual exclusion.

The password is checked and then dropped: nothing stores it and no reply ever carries it. What an instance
remembers is the login *mode*, rendered as Tencent does: `{}` for a password, `{"KeyIds": [...]}` for keys,
`{"KeepImageLogin": "true"}` for the image's own settings.
"""

from __future__ import annotations

from typing import Any

from emulator import apierrors, ids
from emulator.errors import ApiError

SPECIALS = frozenset("()`~!@#$%^&*-+=|{}[]:;',.?/")

# (min length, max length, character classes required)
_LINUX_RULE = (8, 30, 2)
_WINDOWS_RULE = (12, 30, 3)


def check_password(password: str, windows: bool) -> None:
    """Raise InvalidPassword unless `password` meets Tencent's rule for the platform."""
    low, high, classes_needed = _WINDOWS_RULE if windows else _LINUX_RULE
    classes = [
        any(c.islower() and c.isascii() for c in password),
        any(c.isupper() and c.isascii() for c in password),
        any(c.isdigit() and c.isascii() for c in password),
        any(c in SPECIALS for c in password),
    ]
    allowed = all((c.isascii() and c.isalnum()) or c in SPECIALS for c in password)
    if low <= len(password) <= high and allowed and sum(classes) >= classes_needed:
        return
    platform_en, platform_zh = ("Windows", "Windows") if windows else ("Linux", "Linux")
    raise ApiError(
        "InvalidPassword",
        f"The password does not meet the {platform_en} rule: {low} to {high} characters with at least "
        f"{classes_needed} of lowercase letters, uppercase letters, digits and special characters "
        "()`~!@#$%^&*-+=|{}[]:;',.?/.",
        f"密码不符合{platform_zh}实例的要求：长度为 {low} 到 {high} 位，"
        f"且至少包含小写字母、大写字母、数字和特殊符号"
        f"()`~!@#$%^&*-+=|{{}}[]:;',.?/中的 {classes_needed} 项。",
    )


def login_reply(settings: dict[str, Any] | None, *, windows: bool, public_image: bool) -> dict[str, Any]:
    """Validate LoginSettings from a request; return what DescribeInstances will show for it."""
    settings = settings or {}
    given = [
        name for name in ("Password", "KeyIds", "KeepImageLogin") if settings.get(name) not in (None, [])
    ]
    if len(given) > 1:
        raise apierrors.conflict(given)
    if "Password" in given:
        check_password(settings["Password"], windows)
        return {}
    if "KeyIds" in given:
        return {"KeyIds": _key_ids(settings["KeyIds"], windows)}
    if "KeepImageLogin" in given:
        keep = str(settings["KeepImageLogin"]).strip().lower()
        if keep not in ("true", "false"):
            raise apierrors.not_one_of(
                "LoginSettings.KeepImageLogin", settings["KeepImageLogin"], ["true", "false"]
            )
        if keep == "true":
            if public_image:
                raise apierrors.invalid_value(
                    "KeepImageLogin can be true only for custom, shared or imported images.",
                    "仅使用自定义镜像、共享镜像或外部导入镜像时才能指定 KeepImageLogin 为 true。",
                )
            return {"KeepImageLogin": "true"}
    return {}  # no settings: Tencent generates a password and mails it to the owner


def _key_ids(key_ids: list[str], windows: bool) -> list[str]:
    if windows:
        raise ApiError(
            "UnsupportedOperation.KeyPairUnsupportedWindows",
            "Key-pair login is not available to Windows instances.",
            "Windows 实例不支持密钥登录。",
        )
    malformed = [key for key in key_ids if not ids.is_well_formed(ids.KEY_PAIR, key)]
    if malformed:
        raise apierrors.malformed_ids("InvalidKeyPairId.Malformed", "key pair", "密钥对", malformed)
    return list(dict.fromkeys(key_ids))
