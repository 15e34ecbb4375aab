"""Input rules for the compute API, one function per rule, over plain values (no protobuf, no network).

Each `check_*` function looks at one value and records what is wrong with it in a `Violations` collector,
under the field path it is given (`Placement.Zone`, `InstanceIds[2]`). server/validation.py applies them to
each RPC's request; the server can also call a rule on its own (e.g. `check_password` again once it knows
the image's platform).

Where a limit comes from (Tencent's official API spec, tccli `services/cvm/v20170312/api.json`, and
shared/reference/tencent-cvm-facts.md), with the choice made where sources differ:
- Resource IDs: prefix + "-" + exactly 8 of [0-9a-z] (ins-, img-, sg-, vpc-, subnet-, disk-, skey-).
- Region: `<2 letters>-<letters>[-<letters>]` (ap-guangzhou, ap-shanghai-fsi, na-siliconvalley). A numeric
  last part is rejected on purpose: `ap-guangzhou-3` is a zone, a common slip in the Region field.
  Zone: `<region>-<n>`, and the zone's region must be the request's Region.
- InstanceCount 1..100: the international spec (the Chinese spec allows 500; the service keeps the stricter).
- InstanceName: at most 128 characters on create (RunInstances), at most 60 on update
  (ModifyInstancesAttribute: "不得超过60个字符"). Empty means "default" on create, "unchanged" on update.
- Passwords (LoginSettings.Password): Linux 8-30 characters with at least 2 of the classes [a-z] [A-Z]
  [0-9] and the specials ( ) ` ~ ! @ # $ % ^ & * - + = | { } [ ] : ; ' , . ? /; Windows 12-30 characters
  with at least 3 classes. Other characters are rejected. When the image's platform is unknown the Linux
  rule is applied: every password that fails it also fails the Windows rule. Password, KeyIds and
  KeepImageLogin="true" are mutually exclusive; Windows images take no KeyIds.
- Disks: system disk types LOCAL_BASIC, LOCAL_SSD, CLOUD_BASIC, CLOUD_SSD, CLOUD_PREMIUM, CLOUD_BSSD,
  CLOUD_HSSD, CLOUD_TSSD; data disks also LOCAL_NVME, LOCAL_PRO. Sizes in GiB: system 20..2048 (0 = Tencent's
  default, 50), data 10..32000; at most 21 data disks, at most one of them LOCAL_*. Tencent's exact bounds
  depend on type and zone (DescribeDiskConfigQuota), so these catch what no type allows; Tencent still
  checks the rest.
- Security groups: at most 5 per instance (facts file, ModifyInstancesAttribute).
- ClientToken: at most 64 ASCII characters (`InvalidClientToken.TooLong`).
- Enumerations: InstanceChargeType, InternetChargeType, RenewFlag, prepaid Period: the spec's lists.
- Fuzzy: at most 128 characters (longer than any instance name, ID or IP, so it could never match).
- TenantUuid, ClusterUuid: required, at most 128 characters; their meaning is checked by the server
  (registry lookup, tenant authorization), not here.

Messages never contain a password, and echo other values only shortened (`show`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

# --- limits and value sets --------------------------------------------------------------------------------

ID_PREFIXES = frozenset({"ins", "img", "sg", "vpc", "subnet", "disk", "skey"})
MAX_SCOPE_FIELD_LENGTH = 128
MIN_INSTANCE_COUNT, MAX_INSTANCE_COUNT = 1, 100
MAX_CREATE_NAME_LENGTH = 128
MAX_UPDATE_NAME_LENGTH = 60
MAX_SECURITY_GROUPS = 5
MAX_CLIENT_TOKEN_LENGTH = 64
MAX_FUZZY_LENGTH = 128
SYSTEM_DISK_MIN_GIB, SYSTEM_DISK_MAX_GIB = 20, 2048
DATA_DISK_MIN_GIB, DATA_DISK_MAX_GIB = 10, 32000
MAX_DATA_DISKS = 21
MAX_LOCAL_DATA_DISKS = 1
MAX_PRIVATE_IPS = 20

INSTANCE_CHARGE_TYPES = frozenset({"PREPAID", "POSTPAID_BY_HOUR", "SPOTPAID", "CDHPAID", "CDCPAID"})
INTERNET_CHARGE_TYPES = frozenset(
    {"BANDWIDTH_PREPAID", "TRAFFIC_POSTPAID_BY_HOUR", "BANDWIDTH_POSTPAID_BY_HOUR", "BANDWIDTH_PACKAGE"}
)
RENEW_FLAGS = frozenset(
    {"NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW", "DISABLE_NOTIFY_AND_MANUAL_RENEW"}
)
PREPAID_PERIODS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60})
LOCAL_DISK_TYPES = frozenset({"LOCAL_BASIC", "LOCAL_SSD", "LOCAL_NVME", "LOCAL_PRO"})
CLOUD_DISK_TYPES = frozenset(
    {"CLOUD_BASIC", "CLOUD_PREMIUM", "CLOUD_SSD", "CLOUD_BSSD", "CLOUD_HSSD", "CLOUD_TSSD"}
)
SYSTEM_DISK_TYPES = CLOUD_DISK_TYPES | {"LOCAL_BASIC", "LOCAL_SSD"}
DATA_DISK_TYPES = CLOUD_DISK_TYPES | LOCAL_DISK_TYPES

PASSWORD_SPECIALS = frozenset("()`~!@#$%^&*-+=|{}[]:;',.?/")
Platform = Literal["LINUX", "WINDOWS"]
# (min length, max length, classes required) per platform
PASSWORD_RULES: dict[Platform, tuple[int, int, int]] = {"LINUX": (8, 30, 2), "WINDOWS": (12, 30, 3)}

# Bounded: a region name also travels in the X-TC-Region header (real ones are short: na-siliconvalley).
_REGION = r"[a-z]{2}-[a-z]{1,32}(?:-[a-z]{1,32})?"
REGION_PATTERN = re.compile(rf"^{_REGION}$")
ZONE_PATTERN = re.compile(rf"^(?P<region>{_REGION})-(?P<number>[1-9][0-9]{{0,2}})$")
# Family "." size, e.g. MA2.SMALL8, S5.12XLARGE128, S5se.LARGE8; or CDH_<n>C<n>G for CDHPAID.
INSTANCE_TYPE_PATTERN = re.compile(r"^(?:[A-Za-z0-9]{1,16}\.[A-Za-z0-9]{1,32}|CDH_[0-9]{1,4}C[0-9]{1,5}G)$")


# --- the collector ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One problem with one field. `reason` is an UPPER_SNAKE code (BadRequest.FieldViolation.reason);
    `description` English, `description_cn` Chinese (the localized message, zh-CN)."""

    field: str
    reason: str
    description: str
    description_cn: str


class Violations:
    """Collects the problems of one request, in the order the rules find them."""

    def __init__(self) -> None:
        self.items: list[Violation] = []

    def add(self, field: str, reason: str, description: str, description_cn: str) -> None:
        self.items.append(Violation(field, reason, description, description_cn))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


def show(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut short so a huge input cannot make a huge error."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def item(field: str, index: int) -> str:
    return f"{field}[{index}]"


# --- generic rules ----------------------------------------------------------------------------------------


def check_required(v: Violations, field: str, value: str) -> bool:
    """Non-empty (after trimming spaces). Returns whether the value is present, so callers can skip the
    rules that only make sense for a present value."""
    if value.strip():
        return True
    v.add(field, "REQUIRED", "is required", "必填")
    return False


def check_max_length(v: Violations, field: str, value: str, maximum: int) -> None:
    if len(value) > maximum:
        v.add(
            field,
            "TOO_LONG",
            f"must be at most {maximum} characters (got {len(value)})",
            f"长度不能超过 {maximum} 个字符（实际 {len(value)} 个）",
        )


def check_scope_field(v: Violations, field: str, value: str) -> None:
    """TenantUuid and ClusterUuid: present and of a sane size."""
    if check_required(v, field, value):
        check_max_length(v, field, value, MAX_SCOPE_FIELD_LENGTH)


def check_range(v: Violations, field: str, value: int, minimum: int | None, maximum: int | None) -> None:
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if minimum is not None and maximum is not None:
            en, cn = f"must be between {minimum} and {maximum}", f"取值范围为 {minimum} 到 {maximum}"
        elif minimum is not None:
            en, cn = f"must be at least {minimum}", f"不能小于 {minimum}"
        else:
            en, cn = f"must be at most {maximum}", f"不能大于 {maximum}"
        v.add(field, "OUT_OF_RANGE", f"{en} (got {value})", f"{cn}（实际为 {value}）")


def check_not_negative(v: Violations, field: str, value: int) -> None:
    if value < 0:
        v.add(field, "OUT_OF_RANGE", f"must not be negative (got {value})", f"不能为负数（实际为 {value}）")


def check_one_of(v: Violations, field: str, value: str, allowed: Collection[str]) -> None:
    """An enumeration value; empty means "not given" and is allowed (callers check required-ness)."""
    if value and value not in allowed:
        choices = ", ".join(sorted(allowed))
        v.add(
            field,
            "UNKNOWN_VALUE",
            f"unknown value {show(value)}; expected one of {choices}",
            f"未知取值 {show(value)}，可选值：{choices}",
        )


# --- identifiers ------------------------------------------------------------------------------------------


def _id_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{prefix}-[0-9a-z]{{8}}$")


_ID_PATTERNS = {prefix: _id_pattern(prefix) for prefix in ID_PREFIXES}


def is_resource_id(value: str, prefix: str) -> bool:
    return bool(_ID_PATTERNS[prefix].match(value))


def check_id_format(v: Violations, field: str, value: str, prefix: str) -> None:
    if not is_resource_id(value, prefix):
        v.add(
            field,
            "INVALID_FORMAT",
            f"{show(value)} is not a valid ID: expected {prefix}- followed by 8 characters of [0-9a-z], "
            f"e.g. {prefix}-2n9bmcww",
            f"{show(value)} 不是有效的 ID：应为 {prefix}- 加 8 位 [0-9a-z] 字符，例如 {prefix}-2n9bmcww",
        )


def check_required_id(v: Violations, field: str, value: str, prefix: str) -> None:
    if check_required(v, field, value):
        check_id_format(v, field, value, prefix)


def check_id_list(
    v: Violations,
    field: str,
    values: Sequence[str],
    prefix: str,
    *,
    required: bool,
    max_items: int | None = None,
) -> None:
    """A list of IDs: present when required, each well formed, no repeats, not too many."""
    if not values:
        if required:
            v.add(field, "REQUIRED", "must contain at least one ID", "至少需要一个 ID")
        return
    if max_items is not None and len(values) > max_items:
        v.add(
            field,
            "TOO_MANY",
            f"at most {max_items} IDs are allowed (got {len(values)})",
            f"最多允许 {max_items} 个 ID（实际 {len(values)} 个）",
        )
    first_seen: dict[str, int] = {}
    for index, value in enumerate(values):
        path = item(field, index)
        if not value.strip():
            v.add(path, "REQUIRED", "must not be empty", "不能为空")
            continue
        check_id_format(v, path, value, prefix)
        if value in first_seen:
            v.add(
                path,
                "DUPLICATE",
                f"repeats {item(field, first_seen[value])}",
                f"与 {item(field, first_seen[value])} 重复",
            )
        else:
            first_seen[value] = index


# --- placement --------------------------------------------------------------------------------------------


def check_region(v: Violations, field: str, region: str, known_regions: Collection[str] | None) -> bool:
    """Required, well formed, and (when the server passes its catalog) one it knows. Returns whether the
    region is usable for checks that depend on it (zones)."""
    if not check_required(v, field, region):
        return False
    if not REGION_PATTERN.match(region):
        hint = ""
        hint_cn = ""
        if ZONE_PATTERN.match(region):
            hint, hint_cn = " (this looks like a zone)", "（这看起来是可用区）"
        v.add(
            field,
            "INVALID_FORMAT",
            f"{show(region)} is not a region name like ap-guangzhou{hint}",
            f"{show(region)} 不是形如 ap-guangzhou 的地域名称{hint_cn}",
        )
        return False
    if known_regions is not None and region not in known_regions:
        v.add(
            field,
            "UNKNOWN_REGION",
            f"region {show(region)} is not available to this cluster",
            f"地域 {show(region)} 对该集群不可用",
        )
        return False
    return True


def check_zone(
    v: Violations,
    field: str,
    zone: str,
    region: str | None,
    known_zones: Collection[str] | None,
) -> None:
    """Required, `<region>-<n>`, inside `region` (when the region itself is valid), and known when the
    server passes the zones of that region."""
    if not check_required(v, field, zone):
        return
    match = ZONE_PATTERN.match(zone)
    if match is None:
        v.add(
            field,
            "INVALID_FORMAT",
            f"{show(zone)} is not a zone name like ap-guangzhou-3",
            f"{show(zone)} 不是形如 ap-guangzhou-3 的可用区名称",
        )
        return
    if region is not None and match.group("region") != region:
        v.add(
            field,
            "NOT_IN_REGION",
            f"zone {show(zone)} is not in region {show(region)}",
            f"可用区 {show(zone)} 不属于地域 {show(region)}",
        )
        return
    if known_zones is not None and zone not in known_zones:
        v.add(
            field,
            "UNKNOWN_ZONE",
            f"zone {show(zone)} is not available in this region",
            f"可用区 {show(zone)} 在该地域不可用",
        )


# --- create / update values -------------------------------------------------------------------------------


def check_instance_type(v: Violations, field: str, value: str) -> None:
    if check_required(v, field, value) and not INSTANCE_TYPE_PATTERN.match(value):
        v.add(
            field,
            "INVALID_FORMAT",
            f"{show(value)} is not an instance type like MA2.SMALL8 or S5.LARGE8",
            f"{show(value)} 不是形如 MA2.SMALL8 或 S5.LARGE8 的实例机型",
        )


def check_instance_count(v: Violations, field: str, value: int) -> None:
    check_range(v, field, value, MIN_INSTANCE_COUNT, MAX_INSTANCE_COUNT)


def check_client_token(v: Violations, field: str, value: str) -> None:
    check_max_length(v, field, value, MAX_CLIENT_TOKEN_LENGTH)
    if value and not (value.isascii() and value.isprintable()):
        v.add(
            field,
            "INVALID_FORMAT",
            "must contain printable ASCII characters only",
            "只能包含可打印的 ASCII 字符",
        )


def check_prepaid_period(v: Violations, field: str, value: int) -> None:
    if value not in PREPAID_PERIODS:
        periods = ", ".join(str(p) for p in sorted(PREPAID_PERIODS))
        v.add(
            field,
            "UNKNOWN_VALUE",
            f"must be one of {periods} (months; got {value})",
            f"取值必须为 {periods}（月；实际为 {value}）",
        )


def check_disk(
    v: Violations, field: str, disk_type: str, size: int, *, system: bool, size_required: bool
) -> None:
    """One disk: a known type for its role, and a size inside the role's range (0 = default when allowed)."""
    check_one_of(v, f"{field}.DiskType", disk_type, SYSTEM_DISK_TYPES if system else DATA_DISK_TYPES)
    minimum, maximum = (
        (SYSTEM_DISK_MIN_GIB, SYSTEM_DISK_MAX_GIB) if system else (DATA_DISK_MIN_GIB, DATA_DISK_MAX_GIB)
    )
    if size == 0 and not size_required:
        return
    if size == 0:
        v.add(
            f"{field}.DiskSize",
            "REQUIRED",
            f"is required, in GiB ({minimum} to {maximum})",
            f"必填，单位 GiB（{minimum} 到 {maximum}）",
        )
        return
    check_range(v, f"{field}.DiskSize", size, minimum, maximum)


def check_data_disk_counts(v: Violations, field: str, disk_types: Sequence[str]) -> None:
    if len(disk_types) > MAX_DATA_DISKS:
        v.add(
            field,
            "TOO_MANY",
            f"at most {MAX_DATA_DISKS} data disks are allowed (got {len(disk_types)})",
            f"最多允许 {MAX_DATA_DISKS} 块数据盘（实际 {len(disk_types)} 块）",
        )
    # Only explicit local types count: the spec's default for an unset type (LOCAL_BASIC) depends on what
    # the zone stocks, and rejecting what Tencent might accept is worse than letting Tencent decide.
    local = sum(1 for disk_type in disk_types if disk_type in LOCAL_DISK_TYPES)
    if local > MAX_LOCAL_DATA_DISKS:
        v.add(
            field,
            "TOO_MANY",
            f"at most {MAX_LOCAL_DATA_DISKS} local data disk (LOCAL_*) is allowed (got {local})",
            f"最多允许 {MAX_LOCAL_DATA_DISKS} 块本地数据盘（LOCAL_*，实际 {local} 块）",
        )


def check_ipv4(v: Violations, field: str, value: str) -> None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        v.add(
            field,
            "INVALID_FORMAT",
            f"{show(value)} is not an IPv4 address",
            f"{show(value)} 不是 IPv4 地址",
        )


# --- login settings ---------------------------------------------------------------------------------------


def platform_of(image_platform: str | None) -> Platform | None:
    """The password platform from an image's `Platform` or `OsName` ("Windows", "CentOS", ...)."""
    if not image_platform:
        return None
    return "WINDOWS" if "windows" in image_platform.lower() else "LINUX"


def check_password(v: Violations, field: str, password: str, platform: Platform | None) -> None:
    """Tencent's password rules for `platform` (Linux when unknown). Never puts the password in a message."""
    if not password:
        return
    rule: Platform = platform or "LINUX"
    minimum, maximum, classes_needed = PASSWORD_RULES[rule]
    name = "Windows" if rule == "WINDOWS" else "Linux"
    allowed = "letters, digits and ( ) ` ~ ! @ # $ % ^ & * - + = | { } [ ] : ; ' , . ? /"
    bad_characters = any(not (c.isascii() and (c.isalnum() or c in PASSWORD_SPECIALS)) for c in password)
    classes = sum(
        (
            any(c.isascii() and c.islower() for c in password),
            any(c.isascii() and c.isupper() for c in password),
            any(c.isascii() and c.isdigit() for c in password),
            any(c in PASSWORD_SPECIALS for c in password),
        )
    )
    if not minimum <= len(password) <= maximum or classes < classes_needed or bad_characters:
        v.add(
            field,
            "WEAK_PASSWORD",
            f"does not meet the {name} password rules: {minimum} to {maximum} characters, only {allowed}, "
            f"with at least {classes_needed} of: lowercase, uppercase, digits, special characters",
            f"不符合{name}密码规则：{minimum} 到 {maximum} 位，只能包含字母、数字和特殊符号 "
            f"( ) ` ~ ! @ # $ % ^ & * - + = | {{ }} [ ] : ; ' , . ? /，且至少包含小写字母、大写字母、数字、"
            f"特殊符号中的 {classes_needed} 类",
        )


def check_keep_image_login(v: Violations, field: str, value: str) -> None:
    if value and value not in ("true", "false"):
        v.add(
            field,
            "UNKNOWN_VALUE",
            f'must be "true" or "false" (got {show(value)})',
            f'取值必须为 "true" 或 "false"（实际为 {show(value)}）',
        )


def check_login_exclusive(
    v: Violations, field: str, *, password: bool, key_ids: bool, keep_image_login: bool
) -> None:
    """Password, KeyIds and KeepImageLogin="true" are mutually exclusive."""
    given = [
        name
        for name, present in (
            ("Password", password),
            ("KeyIds", key_ids),
            ("KeepImageLogin", keep_image_login),
        )
        if present
    ]
    if len(given) > 1:
        names = " and ".join(given)
        v.add(
            field,
            "CONFLICT",
            f"{names} cannot be given together: choose one way to log in",
            f"{'、'.join(given)} 不能同时指定：只能选择一种登录方式",
        )


def check_key_ids_platform(
    v: Violations, field: str, key_ids: Sequence[str], platform: Platform | None
) -> None:
    if key_ids and platform == "WINDOWS":
        v.add(
            field,
            "NOT_SUPPORTED",
            "Windows images do not support key pairs; use a Password",
            "Windows 镜像不支持密钥登录，请使用密码",
        )
