"""Reading processes from /proc for the benchmarks: a process tree, its resident memory, and the CPU
time it has used (its own, plus that of the children it has already reaped, so a short-lived
child still counts once it has exited)."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Children, grandchildren, ... of a process."""
    out = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            out += [child, *descendants(child)]
    return out


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime: the process's own CPU and that of its reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # after the command: state(0) ppid ... utime(11) stime(12) cutime(13) cstime(14)
    return sum(int(f) for f in fields[11:15])


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU seconds used so far by the processes under `roots` (themselves included). A child that
    exited and was reaped is in its parent's cutime/cstime; a live one is read itself: nothing is
    counted twice, and a difference of two readings is the CPU the trees used in between, as long
    as the roots live on."""
    ticks = 0
    for root in roots:
        for pid in [root, *descendants(root)]:
            ticks += cpu_ticks(pid)
    return ticks / CLK_TCK


class RssSampler(threading.Thread):
    """Largest resident set of any process under each named root, sampled every 0.2 s."""

    def __init__(self, pids: dict[str, int]):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak: dict[str, int] = {name: 0 for name in pids}
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            for name, pid in self.pids.items():
                for p in [pid, *descendants(pid)]:
                    self.peak[name] = max(self.peak[name], rss_kib(p))
            time.sleep(0.2)
