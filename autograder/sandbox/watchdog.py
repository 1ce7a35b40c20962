"""Watching a sandbox from outside: its processes' memory and CPU time added up, and the
processes that outlive it hunted down by the token in their environment, or, for a warm
slot's child, by its PID namespace."""

import os
import signal
import time
from pathlib import Path

__all__ = ["Watchdog", "kill_marked", "kill_namespace", "namespace_processes"]


class Watchdog:
    """Adds up the memory and CPU time of all of a sandbox's processes, twice a second, and
    stops the sandbox when the total passes the limits (``RLIMIT_AS`` and ``RLIMIT_CPU`` bind
    per process only: forked children would each get the full amount).

    The sandbox's processes are those carrying ``token`` in their environment and any other in
    their PID namespace; given ``namespace`` (a warm slot's child, "pid:[inode]"), exactly the
    processes in that namespace."""

    def __init__(self, token, limits, kill, interval=0.5, namespace=None):
        self.mark = f"BACKPROP_KIT_SANDBOX={token}".encode()
        self.limits, self.kill, self.interval = limits, kill, interval
        self.ours, self.others = set(), set()
        self.stop, self.reason = False, ""
        self.own_namespace = os.readlink("/proc/self/ns/pid")
        self.given = namespace
        self.namespace = namespace
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
                    namespace = os.readlink(f"/proc/{pid}/ns/pid")
                    env = b"" if self.given else Path(f"/proc/{pid}/environ").read_bytes()
                    if self.given and namespace == self.given:
                        self.ours.add(pid)
                    elif self.mark in env.split(b"\0"):
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


def namespace_processes(namespace):
    """The pids (host numbering) of every process in the PID namespace ``namespace``."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") == namespace:
                    found.append(int(pid))
            except OSError:
                continue
    return found


def kill_namespace(namespace, patience=1.0):
    """SIGKILL every process in the PID namespace ``namespace`` until none is left (or
    ``patience`` seconds pass); return how many signals were sent.

    Its pid 1 goes first: the kernel then kills the rest of the namespace with it."""
    killed, pause, end = 0, 0.001, time.monotonic() + patience
    while pids := namespace_processes(namespace):
        for pid in sorted(pids, key=_depth):
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        if time.monotonic() > end:
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    return killed


def _depth(pid):
    """A process's pid inside its own namespace (the last of its NSpid line): pid 1 sorts first."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return 1 << 30
