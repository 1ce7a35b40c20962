"""Watching a sandbox from outside: its processes' memory and CPU time added up, and the
processes that outlive it hunted down by the token in their environment."""

import os
import signal
import time
from pathlib import Path

__all__ = ["Watchdog", "kill_marked"]


class Watchdog:
    """Adds up the memory and CPU time of all of a sandbox's processes, twice a second, and
    stops the sandbox when the total passes the limits (``RLIMIT_AS`` and ``RLIMIT_CPU`` bind
    per process only: forked children would each get the full amount)."""

    def __init__(self, token, limits, kill, interval=0.5):
        self.mark = f"BACKPROP_KIT_SANDBOX={token}".encode()
        self.limits, self.kill, self.interval = limits, kill, interval
        self.ours, self.others = set(), set()
        self.stop, self.reason = False, ""
        self.own_namespace = os.readlink("/proc/self/ns/pid")
        self.namespace = None
        self.tick = os.sysconf("SC_CLK_TCK")

    def run(self):
        while not self.stop:
            time.sleep(self.interval)
            rss, cpu, count = self.measure()
            mb = rss / 2**20
            if mb > self.limits.memory_mb:
                self.reason = (
                    f"the notebook's {count} processes used {mb:.0f} MB of memory in all, "
                    f"over the {self.limits.memory_mb} MB limit"
                )
            elif cpu > self.limits.cpu_seconds:
                self.reason = (
                    f"the notebook's processes used {cpu:.0f} s of CPU time in all, over the "
                    f"{self.limits.cpu_seconds} s limit"
                )
            if self.reason:
                self.stop = True
                self.kill()

    def measure(self):
        """(bytes, CPU seconds, processes) of the sandbox's processes: those carrying the token,
        and any other in the PID namespace they live in. Memory is the proportional set size:
        pages shared after a fork count once, split among sharers."""
        rss = cpu = count = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or pid in self.others:
                continue
            try:
                if pid not in self.ours:
                    env = Path(f"/proc/{pid}/environ").read_bytes()
                    namespace = os.readlink(f"/proc/{pid}/ns/pid")
                    if self.mark in env.split(b"\0"):
                        self.ours.add(pid)
                        if namespace != self.own_namespace:
                            self.namespace = namespace  # the sandbox's own
                    elif self.namespace and namespace == self.namespace:
                        self.ours.add(pid)  # started with a cleared environment, still inside
                    else:
                        self.others.add(pid)
                        continue
                pss = _field_kb(Path(f"/proc/{pid}/smaps_rollup").read_text(), "Pss:")
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, ValueError, IndexError):
                self.ours.discard(pid)
                continue
            rss += pss * 1024
            cpu += (int(fields[11]) + int(fields[12])) / self.tick
            count += 1
        return rss, cpu, count


def _field_kb(text, name):
    for line in text.splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    raise ValueError(f"no {name} line")


def kill_marked(token):
    """Kill every process whose environment carries ``BACKPROP_KIT_SANDBOX=token``."""
    mark = f"BACKPROP_KIT_SANDBOX={token}".encode()
    killed = 0
    for _ in range(3):
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                env = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if mark in env.split(b"\0"):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
        time.sleep(0.05)
    return killed
