"""500 points at 2448 x 2048 with --speed 0: RSS sampled from outside grows
by at most 1 MB from the 20% mark to the end; peak RSS at most 96 MB.
Progress is read from the journal so the 20% mark is the 100th point."""
import os
import subprocess
import threading
import time
from pvtest import BIN, check, main, recorded, rss_kb, workdir

POINTS = int(os.environ.get("PV_MEMORY_POINTS", "500"))


def memory_is_flat_over_500_points():
    d = workdir()
    db = os.path.join(d, "r.db")
    p = subprocess.Popen([BIN, "run", "--speed", "0", "--points", str(POINTS), "--db", "r.db"],
                         cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples = []  # (points recorded, rss kB)
    err = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t.start()
    while p.poll() is None:
        kb = rss_kb(p.pid)
        if kb is not None:
            samples.append((recorded(db), kb))
        time.sleep(0.2)
    t.join()
    check(p.returncode == 0, f"exit {p.returncode}: {err[0][-1500:]}")
    check(len(samples) > 20, f"only {len(samples)} samples")
    mark = POINTS // 5
    at_mark = [kb for n, kb in samples if n >= mark]
    check(at_mark, "no sample after the 20% mark")
    drift_kb = max(at_mark) - at_mark[0]
    peak_kb = max(kb for _, kb in samples)
    with open(os.path.join(d, "status"), "w"):
        pass
    print(f"     points {POINTS}, samples {len(samples)}, RSS at 20% {at_mark[0]/1024:.1f} MB, "
          f"end {at_mark[-1]/1024:.1f} MB, max growth after 20% {drift_kb/1024:.2f} MB, "
          f"peak {peak_kb/1024:.1f} MB")
    check(drift_kb <= 1024, f"RSS grew {drift_kb} kB after the 20% mark")
    check(peak_kb <= 96 * 1024, f"peak RSS {peak_kb/1024:.1f} MB > 96 MB")


main([memory_is_flat_over_500_points])
