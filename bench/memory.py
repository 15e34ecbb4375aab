"""Peak resident memory of another process (the server) over one measured operation.

Linux keeps the peak in /proc/<pid>/status `VmHWM`; writing "5" to /proc/<pid>/clear_refs resets it to the
current RSS (Linux 4.0+, needs the right to write there: same user or root). When the reset works, VmHWM
after the operation is the exact peak of that operation. A sampler thread (VmRSS every 10 ms) runs
alongside as a fallback and a cross-check, since a short spike can slip between samples but not past VmHWM.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType


def _status_kib(pid: int, field: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # "VmRSS:   123456 kB"
    return None


def rss_mib(pid: int) -> float | None:
    kib = _status_kib(pid, "VmRSS")
    return kib / 1024.0 if kib is not None else None


@dataclass
class MemoryPeak:
    baseline_mib: float | None = None
    peak_mib: float | None = None
    method: str = "unavailable"  # "VmHWM" (exact) or "VmRSS sampled every 10 ms"


class PeakMemoryWatch:
    """`with PeakMemoryWatch(pid) as watch: ...` then read `watch.result`."""

    def __init__(self, pid: int, interval_s: float = 0.01) -> None:
        self._pid = pid
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._sampled_kib = 0
        self._hwm_reset = False
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.result = MemoryPeak()

    def _sample(self) -> None:
        while not self._stop.is_set():
            kib = _status_kib(self._pid, "VmRSS")
            if kib is not None:
                self._sampled_kib = max(self._sampled_kib, kib)
            self._stop.wait(self._interval_s)

    def __enter__(self) -> PeakMemoryWatch:
        self.result.baseline_mib = rss_mib(self._pid)
        try:
            Path(f"/proc/{self._pid}/clear_refs").write_text("5")
            self._hwm_reset = True
        except OSError:
            self._hwm_reset = False
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        hwm = _status_kib(self._pid, "VmHWM") if self._hwm_reset else None
        if hwm is not None:
            self.result.peak_mib = max(hwm, self._sampled_kib) / 1024.0
            self.result.method = "VmHWM"
        elif self._sampled_kib:
            self.result.peak_mib = self._sampled_kib / 1024.0
            self.result.method = "VmRSS sampled every 10 ms"
