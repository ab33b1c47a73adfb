"""Benchmark of the fieldwork commands: monitor.html (time, page size, load time in Chromium) and
review.xlsx (time) at 5,000 submissions (not a test).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_fieldwork.py            # 5,000 submissions
    .venv/bin/python benchmarks/bench_fieldwork.py 5000 20000 # chosen sizes

For each size, simulated fieldwork (20 enumerators, 2 fabricators, 1 speeder, 1 "don't know",
30 days) is written as a Kobo CSV export with its allocation; then, in a fresh process,
``write_monitor`` reads the export, runs every check and writes the page (``seconds``: wall
time, imports excluded; ``checks_seconds``: :func:`run_checks` alone). ``page_kb`` is the size
of monitor.html; ``chromium_seconds`` the wall time of ``chromium --headless --dump-dom`` on
it (process start included; ``load_ms`` is the page's own load time measured by the
browser, ``performance.timing.loadEventEnd - navigationStart``). ``review_seconds``: the
same export through ``si-survey review`` (read, every check, the workbook written). Targets
(issue 17): monitor and review each under 10 s at 5,000.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from analysis.fieldwork._monitor import read_raw, write_monitor
from analysis.fieldwork._checks import run_checks
from analysis.fieldwork._review import review
export, alloc, out = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
page = write_monitor([export], targets=alloc, out_dir=out)
t1 = time.perf_counter()
raw = read_raw([export])
t2 = time.perf_counter()
flags = run_checks(raw)
t3 = time.perf_counter()
review([export], out + "/review")
t4 = time.perf_counter()
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": round(t1 - t0, 2), "read_seconds": round(t2 - t1, 2),
                  "checks_seconds": round(t3 - t2, 2), "flags": len(flags),
                  "review_seconds": round(t4 - t3, 2),
                  "peak_rss_mb": round(ru.ru_maxrss / 1024, 1), "page": str(page)}))
"""

_LOAD_JS = ("<script>window.addEventListener('load',function(){setTimeout(function(){var t=performance.timing;"
            "document.getElementById('js-status').setAttribute('data-load-ms',t.loadEventEnd-t.navigationStart);"
            "},0);});</script></body>")


def chromium_load(page: Path) -> dict:
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).exists():
        return {"chromium_seconds": None, "load_ms": None}
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _LOAD_JS), encoding="utf-8")
    with tempfile.TemporaryDirectory() as prof:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={prof}", "--virtual-time-budget=2000", "--dump-dom", probe.as_uri()]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        sec = time.perf_counter() - t0
    import re

    m = re.search(r'data-load-ms="(\d+)"', res.stdout)
    ok = ">ok</div>" in res.stdout
    return {"chromium_seconds": round(sec, 2), "load_ms": int(m.group(1)) if m else None, "js_ok": ok}


def run(n: int) -> dict:
    from analysis.simulate._fieldwork import simulate_fieldwork

    with tempfile.TemporaryDirectory() as tmp:
        fw = simulate_fieldwork(n, seed=1, enumerators=20, fabricators=2, speeders=1, dont_know=1, days=30)
        paths = fw.write(tmp)
        res = subprocess.run([sys.executable, "-c", _CHILD, str(paths["export"]), str(paths["allocation"]),
                              str(Path(tmp) / "monitor")], capture_output=True, text=True)
        if res.returncode != 0:
            return {"n": n, "error": res.stderr.strip().splitlines()[-1] if res.stderr else "failed"}
        out = json.loads(res.stdout.strip().splitlines()[-1])
        page = Path(out.pop("page"))
        out = {"n": n, **out, "page_kb": round(page.stat().st_size / 1024, 1), **chromium_load(page)}
        return out


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [5_000]
    for n in sizes:
        print(json.dumps(run(n)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
