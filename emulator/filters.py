"""`Filters` for the Describe* actions: AND across filters, OR across the values of one filter.

Each action declares the filter names it accepts as a mapping name -> compiler; a compiler turns the
filter's values into a predicate on one item. Helpers cover the common kinds: exact match on one or many
values of the item, case-insensitive substring match (fuzzy names), integers, booleans and time bounds.
`tag:<key>` filters are handled here for every item type that has tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from emulator import apierrors
from emulator.errors import ApiError

T = TypeVar("T")
Predicate = Callable[[T], bool]
Compiler = Callable[[str, list[str]], Predicate[T]]  # (filter name, values) -> predicate


@dataclass(frozen=True)
class FilterSet(Generic[T]):
    compilers: Mapping[str, Compiler[T]]
    unknown_filter: Callable[[str], ApiError]
    tags: Callable[[T], Mapping[str, str]] | None = None  # enables `tag:<key>`
    max_filters: int = 10
    max_values: int = 5

    def compile(self, filters: Sequence[Mapping[str, Any]]) -> Predicate[T]:
        """One predicate for the whole `Filters` list (params already validated Name and Values)."""
        if len(filters) > self.max_filters:
            raise apierrors.too_many("Filters", self.max_filters)
        predicates: list[Predicate[T]] = []
        for index, entry in enumerate(filters):
            name: str = entry["Name"]
            values: list[str] = entry["Values"]
            if not values:
                raise apierrors.missing_parameter(f"Filters.{index}.Values")
            if len(values) > self.max_values:
                raise apierrors.too_many(
                    f"Filters.{index}.Values", self.max_values, "InvalidFilterValue.LimitExceeded"
                )
            predicates.append(self._compile_one(name, values))
        if not predicates:
            return _always
        if len(predicates) == 1:
            return predicates[0]
        return lambda item: all(predicate(item) for predicate in predicates)

    def _compile_one(self, name: str, values: list[str]) -> Predicate[T]:
        compiler = self.compilers.get(name)
        if compiler is not None:
            return compiler(name, values)
        if self.tags is not None and name.startswith("tag:") and len(name) > 4:
            return _tag_value(self.tags, name[4:], set(values))
        raise self.unknown_filter(name)


def _always(item: Any) -> bool:
    return True


def _tag_value(tags: Callable[[T], Mapping[str, str]], key: str, wanted: set[str]) -> Predicate[T]:
    return lambda item: tags(item).get(key) in wanted


def exact(get: Callable[[T], str]) -> Compiler[T]:
    """The item's single value equals one of the filter values."""

    def compile_(name: str, values: list[str]) -> Predicate[T]:
        wanted = set(values)
        return lambda item: get(item) in wanted

    return compile_


def exact_any(get: Callable[[T], Iterable[str]]) -> Compiler[T]:
    """One of the item's values equals one of the filter values."""

    def compile_(name: str, values: list[str]) -> Predicate[T]:
        wanted = set(values)
        return lambda item: any(value in wanted for value in get(item))

    return compile_


def fuzzy(get: Callable[[T], str]) -> Compiler[T]:
    """One of the filter values is a case-insensitive substring of the item's value."""

    def compile_(name: str, values: list[str]) -> Predicate[T]:
        wanted = [value.lower() for value in values]
        return lambda item: any(value in get(item).lower() for value in wanted)

    return compile_


def integer(get: Callable[[T], int]) -> Compiler[T]:
    def compile_(name: str, values: list[str]) -> Predicate[T]:
        try:
            wanted = {int(value) for value in values}
        except ValueError as exc:
            raise _bad_value(name, values, "integers", "整数") from exc
        return lambda item: get(item) in wanted

    return compile_


def boolean(get: Callable[[T], bool]) -> Compiler[T]:
    def compile_(name: str, values: list[str]) -> Predicate[T]:
        wanted: set[bool] = set()
        for value in values:
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise _bad_value(name, values, "true or false", "true 或 false")
            wanted.add(lowered in ("true", "1"))
        return lambda item: get(item) in wanted

    return compile_


def never(name: str, values: list[str]) -> Predicate[Any]:
    """A documented filter on something the emulator never has (dedicated hosts, IPv6, ...)."""
    return lambda item: False


def time_bound(get: Callable[[T], str], *, at_least: bool, parse: Callable[[str], str]) -> Compiler[T]:
    """`creation-start-time` / `creation-end-time`: compare normalised time strings."""

    def compile_(name: str, values: list[str]) -> Predicate[T]:
        bounds = [parse(value) for value in values]
        if at_least:
            return lambda item: any(get(item) >= bound for bound in bounds)
        return lambda item: any(get(item) <= bound for bound in bounds)

    return compile_


def _bad_value(name: str, values: list[str], expected_en: str, expected_zh: str) -> ApiError:
    return apierrors.invalid_value(
        f"The values `{values}` of filter `{name}` are invalid: expected {expected_en}.",
        f"过滤条件`{name}`的取值`{values}`不合法，应为{expected_zh}。",
        "InvalidFilterValue",
    )


# ---------------------------------------------------------------- paging


def page_bounds(
    params: Mapping[str, Any], *, default_limit: int = 20, max_limit: int = 100
) -> tuple[int, int]:
    """(offset, limit) from integer `Offset`/`Limit` parameters, with Tencent's defaults and bounds."""
    offset = params.get("Offset", 0)
    limit = params.get("Limit", default_limit)
    if offset < 0:
        raise apierrors.out_of_range("Offset", offset, 0, 2**31 - 1)
    if not 1 <= limit <= max_limit:
        raise apierrors.out_of_range("Limit", limit, 1, max_limit)
    return offset, limit


def string_page_bounds(
    params: Mapping[str, Any], *, default_limit: int = 20, max_limit: int = 100
) -> tuple[int, int]:
    """The VPC API's `Offset`/`Limit` are strings in its spec: parse them, then apply the usual bounds."""
    parsed: dict[str, int] = {}
    for name in ("Offset", "Limit"):
        if name in params:
            text = str(params[name]).strip()
            if not text.lstrip("-").isdigit():
                raise apierrors.invalid_value(
                    f"The value `{params[name]}` of parameter `{name}` is not an integer.",
                    f"参数`{name}`的取值`{params[name]}`不是整数。",
                    "InvalidParameterValue.Malformed",
                )
            parsed[name] = int(text)
    return page_bounds(parsed, default_limit=default_limit, max_limit=max_limit)
