"""Instance-ID batches: Tencent takes at most 100 IDs per call, callers may send more.

A batch never half-succeeds silently: every chunk is attempted, and if any failed, the error raised names
the IDs that failed (and why) and the IDs on which the action was applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from server.compute.errors import ServiceError

TENCENT_MAX_IDS = 100  # per call, for Start/Stop/Terminate/ModifyInstancesAttribute/DescribeInstances


def unique_ids(*groups: Iterable[str]) -> list[str]:
    """The union of ID lists, first occurrence order kept, blanks dropped."""
    seen: dict[str, None] = {}
    for group in groups:
        for instance_id in group:
            if instance_id:
                seen.setdefault(instance_id, None)
    return list(seen)


def chunks(ids: Sequence[str], size: int = TENCENT_MAX_IDS) -> list[list[str]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


def shorten_ids(ids: Sequence[str], limit: int = 20) -> str:
    """IDs for a message: the first `limit`, then how many more, so a 1,000-ID batch stays one line."""
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown} and {len(ids) - limit} more"


def apply_in_batches(ids: Sequence[str], action: str, apply: Callable[[list[str]], None]) -> None:
    """Call `apply` on each chunk of at most 100 IDs; raise one error describing any partial failure."""
    succeeded: list[str] = []
    failures: list[tuple[list[str], ServiceError]] = []
    for chunk in chunks(ids):
        try:
            apply(chunk)
        except ServiceError as error:
            failures.append((chunk, error))
        else:
            succeeded.extend(chunk)
    if not failures:
        return
    first_error = failures[0][1]
    if len(failures) == 1 and not succeeded:
        raise first_error  # nothing partial to report: the plain error says it all
    failed = [instance_id for chunk, _ in failures for instance_id in chunk]
    why = "; ".join(f"[{shorten_ids(chunk, 5)}]: {error.message}" for chunk, error in failures)
    why_cn = "; ".join(f"[{shorten_ids(chunk, 5)}]：{error.message_cn}" for chunk, error in failures)
    applied = shorten_ids(succeeded) if succeeded else "none"
    raise first_error.with_context(
        f"{action} failed for {len(failed)} of {len(ids)} instances ({why}); applied to: {applied}",
        f"{action} 对 {len(ids)} 个实例中的 {len(failed)} 个失败（{why_cn}）；"
        f"已成功：{applied if succeeded else '无'}",
        failed_instance_ids=",".join(failed),
        succeeded_instance_ids=",".join(succeeded),
    )
