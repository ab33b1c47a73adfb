"""Scale benchmark of the whole job, ``si-survey run`` (not a test).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_run.py                      # 10,000, 100,000, 1,000,000
    .venv/bin/python benchmarks/bench_run.py 10000 100000         # other sizes
    .venv/bin/python benchmarks/bench_run.py 100000 --timeout 1200 --py-spy prof.svg
    .venv/bin/python benchmarks/bench_run.py 100000 --keep /tmp/bench   # keep exports and outputs

For each size N, in a temporary folder:

1. simulate a messy Kobo CSV export of N organisations (seed 1) in a
   subprocess; its time is printed but not counted;
2. run ``python -m analysis run --processed P --out R EXPORT`` in a
   subprocess (all formats, French), and measure

   * wall time, and the time of each step, from the time stamps of the
     progress lines the run prints (cleaning, each table, writing);
   * CPU time of the run (user + system, from ``os.wait4``);
   * peak memory: the peak resident set size of the largest single process
     of the run, as the kernel reports it (``ru_maxrss``; the run forks a
     cleaning process and figure workers), and the peaks of the process tree
     sampled every 0.2 s from ``/proc``: summed PSS (pages shared after a fork
     counted once: the memory the run really occupies) and summed RSS (shared
     pages counted in each process: an over-estimate);
   * the load average before and after (the machine is shared: compare CPU
     times, not only wall times, when it is loaded).

Then the growth ratio: time per row at the largest size over time per row at
the smallest (1 = linear; below 1 the fixed costs still dominate).

Targets (issue "Scale and robustness"): 100,000 organisations in under 60 s;
1,000,000 with a peak memory under 12 GB; time growing no faster than
linearly. A run longer than ``--timeout`` (default 1200 s) is stopped with
SIGTERM, after a last ``py-spy dump`` of its stack when py-spy is installed;
the progress lines then say where it spent its time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _tree_memory_kb(pid: int) -> tuple[int, int]:
    """Summed resident and proportional set sizes (kB) of ``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            ppid = int(fields[1])
            rss[int(d)] = int(fields[21]) * resource.getpagesize() // 1024
            children.setdefault(ppid, []).append(int(d))
        except (OSError, IndexError, ValueError):
            continue
    total, pss, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        pss += _pss_kb(p, rss.get(p, 0))
        stack.extend(children.get(p, []))
    return total, pss


def _pss_kb(pid: int, default: int) -> int:
    """Proportional set size (kB) of ``pid``: pages shared after a fork counted once over the tree."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return default


class _Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kb, self.peak_pss_kb = pid, every, 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            rss, pss = _tree_memory_kb(self.pid)
            self.peak_kb = max(self.peak_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}


def simulate(n: int, out: Path) -> tuple[Path, float]:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analysis", "simulate", "--n", str(n), "--seed", "1", "--out", str(out)],
                   check=True, env=_env(), stdout=subprocess.DEVNULL, cwd=ROOT)
    return out / "si_survey_kobo.csv", time.perf_counter() - t0


def _py_spy() -> str | None:
    exe = Path(sys.executable).parent / "py-spy"
    return str(exe) if exe.exists() else shutil.which("py-spy")


def run_once(export: Path, work: Path, timeout: float, py_spy_out: str | None = None) -> dict:
    """One ``si-survey run`` in a subprocess; wall, CPU, peak memory and step times."""
    processed, reports = work / "processed", work / "reports"
    cmd = [sys.executable, "-m", "analysis", "run", "--processed", str(processed), "--out", str(reports), str(export)]
    spy = _py_spy()
    if py_spy_out and spy:
        cmd = [spy, "record", "--rate", "20", "--nonblocking", "-o", py_spy_out, "--"] + cmd
    load_before = _load()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = _Sampler(proc.pid)
    sampler.start()
    steps: list[tuple[float, str]] = []
    stdout_lines: list[str] = []

    def read_err():
        for line in proc.stderr:
            steps.append((time.perf_counter() - t0, line.rstrip()))

    def read_out():
        stdout_lines.extend(proc.stdout)

    readers = [threading.Thread(target=read_err, daemon=True), threading.Thread(target=read_out, daemon=True)]
    for r in readers:
        r.start()
    timed_out = False
    last_stack = ""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > timeout:
            timed_out = True
            if spy:
                try:
                    last_stack = subprocess.run([spy, "dump", "--pid", str(proc.pid)], capture_output=True,
                                                text=True, timeout=60).stdout
                except (OSError, subprocess.SubprocessError):
                    last_stack = ""
            proc.send_signal(signal.SIGTERM)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop()
    for r in readers:
        r.join(timeout=5)
    # step durations: time from one progress line to the next
    durations = []
    for (t, msg), nxt in zip(steps, steps[1:] + [(wall, "end")]):
        if msg.startswith("[si-survey]"):
            durations.append({"step": msg.removeprefix("[si-survey] "), "start": round(t, 2),
                              "seconds": round(nxt[0] - t, 2)})
    return {
        "exit": proc.returncode,
        "timed_out": timed_out,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_gb": usage.ru_maxrss / 1024**2,
        "tree_peak_rss_gb": sampler.peak_kb / 1024**2,
        "tree_peak_pss_gb": sampler.peak_pss_kb / 1024**2,
        "load_before": load_before,
        "load_after": _load(),
        "steps": durations,
        "last_stack": last_stack,
        "stderr_tail": [m for _, m in steps[-15:]],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds allowed for one run (default 1200)")
    ap.add_argument("--keep", type=Path, help="keep exports and outputs in this folder")
    ap.add_argument("--py-spy", dest="py_spy", help="record a py-spy flame graph (SVG) of the largest run here")
    ap.add_argument("--json", type=Path, help="also write the measurements as JSON")
    ap.add_argument("--exports", type=Path,
                    help="reuse exports simulated earlier: DIR/n<N>/si_survey_kobo.csv (seed 1), when present")
    args = ap.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_run_"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; load average {_load()}; python {sys.version.split()[0]}")
    results = []
    try:
        for n in sorted(args.sizes):
            folder = base / f"n{n}"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            reuse = args.exports / f"n{n}" / "si_survey_kobo.csv" if args.exports else None
            if reuse is not None and reuse.is_file():
                export, t_sim = reuse, float("nan")
            else:
                export, t_sim = simulate(n, folder / "raw")
            size_mb = export.stat().st_size / 1e6
            print(f"\nN = {n:,}: export simulated in {t_sim:.1f} s ({size_mb:.0f} MB), not counted")
            spy_out = args.py_spy if (args.py_spy and n == max(args.sizes)) else None
            r = run_once(export, folder, args.timeout, spy_out)
            r.update(n=n, simulate_s=t_sim, export_mb=size_mb)
            results.append(r)
            state = "TIMED OUT" if r["timed_out"] else ("ok" if r["exit"] == 0 else f"exit {r['exit']}")
            print(f"  run: {state}; wall {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s, "
                  f"peak RSS of one process {r['maxrss_gb']:.2f} GB; process tree sampled: "
                  f"PSS {r['tree_peak_pss_gb']:.2f} GB, RSS {r['tree_peak_rss_gb']:.2f} GB; "
                  f"load {r['load_before']} -> {r['load_after']}")
            for s in sorted(r["steps"], key=lambda s: -s["seconds"])[:8]:
                print(f"    {s['seconds']:8.1f} s  {s['step']}")
            if r["exit"] != 0:
                print("  last messages:\n    " + "\n    ".join(r["stderr_tail"]))
            if r["last_stack"]:
                print("  stack when stopped:\n" + r["last_stack"])
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    done = [r for r in results if r["exit"] == 0]
    if len(done) >= 2:
        lo, hi = done[0], done[-1]
        for key in ("wall_s", "cpu_s"):
            ratio = (hi[key] / hi["n"]) / (lo[key] / lo["n"])
            print(f"\ngrowth ratio ({key[:-2]} per row, {hi['n']:,} vs {lo['n']:,}): {ratio:.2f} "
                  "(1 = linear, < 1 = sublinear)")
    for r in results:
        if r["n"] == 100_000 and r["exit"] == 0:
            print(f"target 100,000 in < 60 s: wall {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s")
        if r["n"] == 1_000_000 and r["exit"] == 0:
            print(f"target 1,000,000 peak memory < 12 GB: {max(r['maxrss_gb'], r['tree_peak_pss_gb']):.2f} GB "
                  "(the larger of one process's peak RSS and the tree's peak PSS)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if all(r["exit"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
