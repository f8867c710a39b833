#!/usr/bin/env python3
"""Soak: one simulated hour of probing at 16 FPS, as fast as the machine allows.

    python3 bench/soak.py [--bin build/probevision] [--hours 1] [--fps 16]
                          [--width W --height H] [--points N] [--short]

A simulated hour is hours * 3600 s * fps camera frames (57,600 for one hour at
16 FPS). The script runs `probevision run --speed 0` on the built-in simulated
station (camera and stage in-process, the camera renders as fast as it can),
with many more targets than needed, reads the camera's frame counter from the
monitor line on stderr (`frames N (x fps)`, every second) and the recorded
points from the `point K ...` log lines, and sends SIGTERM once BOTH
thresholds are passed: at least `frames` camera frames and at least `points`
points. SIGTERM finishes the current point, leaves the run resumable and
exits 1 (documented in `probevision run`).

RSS is sampled from outside (/proc/PID/status VmRSS, every 0.5 s). The 20%
mark is the first sample at or after 20% of the frame target.

Pass criteria (exit 0 only when all hold; exit 1 otherwise):
  * the camera counted at least the frame target and at least the point
    target was recorded before SIGTERM;
  * probevision exited 1 after SIGTERM (0 if it ran out of targets would
    mean the frame target was not reached: a failure), within 120 s;
  * drift = max RSS after the 20% mark minus RSS at the mark <= 1 MB;
  * no point lost: the journal holds exactly the target indices
    0..done-1 once each (done = points reported by probevision), and no
    other row.
Prints frames, points, RSS at 20% and at the end, drift, peak, points lost.
Stdlib only. `--short` is the CI version (640x512, 5,000 frames, 200 points).
"""
import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

MONITOR_RE = re.compile(r"\bframes (\d+) \(([\d.]+) fps\) dropped (\d+)")
POINT_RE = re.compile(r"\] point (\d+) \S+: (\w+)")
SUMMARY_RE = re.compile(r"run (\d+): (\d+) points in ([\d.]+) s, (\d+) frames matched")
DRIFT_LIMIT_KB = 1024
SIGTERM_GRACE_S = 120


def proc_status(pid):
    """(VmRSS, VmHWM) of pid in kB, or None once the process is gone."""
    rss = hwm = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return None if rss is None else (rss, hwm)


class Progress:
    """What stderr has told so far (filled by the reader thread)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.frames = 0
        self.fps = 0.0
        self.dropped = 0
        self.points = 0
        self.statuses = {}
        self.errors = 0
        self.tail = []

    def feed(self, line):
        with self.lock:
            m = MONITOR_RE.search(line)
            if m:
                self.frames, self.fps, self.dropped = int(m[1]), float(m[2]), int(m[3])
            m = POINT_RE.search(line)
            if m:
                self.points += 1
                self.statuses[m[2]] = self.statuses.get(m[2], 0) + 1
            if "[ERROR]" in line:
                self.errors += 1
            self.tail = (self.tail + [line.rstrip()])[-20:]

    def snapshot(self):
        with self.lock:
            return self.frames, self.points


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.environ.get("PV_BIN", "build/probevision"))
    ap.add_argument("--hours", type=float, default=1.0, help="simulated hours (default 1)")
    ap.add_argument("--fps", type=float, default=16.0, help="simulated frame rate (default 16)")
    ap.add_argument("--frames", type=int, help="frame target (default hours*3600*fps)")
    ap.add_argument("--points", type=int, help="point target (default 1000)")
    ap.add_argument("--width", type=int, help="frame width (default 2448, short 640)")
    ap.add_argument("--height", type=int, help="frame height (default 2048, short 512)")
    ap.add_argument("--short", action="store_true",
                    help="CI version: 640x512, 5,000 frames, 200 points")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if a.short:
        a.width = a.width or 640
        a.height = a.height or 512
        a.frames = a.frames or 5000
        a.points = a.points or 200
    a.width = a.width or 2448
    a.height = a.height or 2048
    a.frames = a.frames or int(round(a.hours * 3600 * a.fps))
    a.points = a.points or 1000
    return a


def journal_check(db, done):
    """(rows, lost, extra, duplicated, statuses, run status) of the journal."""
    con = sqlite3.connect(db)
    runs = con.execute("SELECT id, status FROM runs").fetchall()
    idx = [r[0] for r in con.execute("SELECT idx FROM points ORDER BY idx")]
    dup = [r[0] for r in con.execute(
        "SELECT idx FROM points GROUP BY run_id, idx HAVING count(*) > 1")]
    st = dict(con.execute("SELECT status, count(*) FROM points GROUP BY status").fetchall())
    con.close()
    have = set(idx)
    expected = set(range(done))
    return (len(idx), sorted(expected - have), sorted(have - expected), dup, st,
            runs[-1][1] if runs else None, len(runs))


def soak(a, work):
    db = os.path.join(work, "soak.db")
    # Enough targets that the run cannot end before the frame target: every
    # point matches at least one camera frame.
    targets = max(a.points, a.frames)
    cmd = [os.path.abspath(a.bin), "run", "--speed", "0", "--points", str(targets),
           "--db", db, "--set", "monitor.interval_s=1",
           "--set", f"camera.width={a.width}", "--set", f"camera.height={a.height}",
           "--set", f"monitor.incident_dir={work}"]
    print(f"soak: {a.frames} frames ({a.frames / a.fps / 3600:.2f} simulated h at {a.fps:g} fps), "
          f">= {a.points} points, "
          f"{a.width}x{a.height}, {a.bin}", flush=True)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    prog = Progress()
    out = []
    readers = [threading.Thread(target=lambda: [prog.feed(l) for l in p.stderr]),
               threading.Thread(target=lambda: out.append(p.stdout.read()))]
    for t in readers:
        t.start()
    samples = []  # (seconds, frames, rss kB)
    hwm = 0
    term_at = None
    next_report = t0 + 60
    while p.poll() is None:
        now = time.monotonic()
        frames, points = prog.snapshot()
        st = proc_status(p.pid)
        if st is not None:
            samples.append((now - t0, frames, st[0]))
            hwm = max(hwm, st[1] or 0)
        if term_at is None and frames >= a.frames and points >= a.points:
            term_at = now
            p.send_signal(signal.SIGTERM)
        if term_at is not None and now - term_at > SIGTERM_GRACE_S:
            p.kill()
            break
        if now >= next_report:
            next_report += 60
            print(f"  {now - t0:6.0f} s: frames {frames}, points {points}, "
                  f"RSS {samples[-1][2] / 1024 if samples else 0:.1f} MB", flush=True)
        time.sleep(0.5)
    p.wait()
    for t in readers:
        t.join()
    return p.returncode, time.monotonic() - t0, term_at, samples, hwm, prog, out[0], db


def main():
    a = parse_args()
    if not os.access(a.bin, os.X_OK):
        print(f"soak: {a.bin} is not an executable (build it, or pass --bin)")
        return 2
    work = tempfile.mkdtemp(prefix="pv-soak-")
    try:
        rc, wall, term_at, samples, hwm, prog, out, db = soak(a, work)
        return verdict(a, rc, wall, term_at, samples, hwm, prog, out, db)
    finally:
        if a.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def verdict(a, rc, wall, term_at, samples, hwm, prog, out, db):
    failures = []
    m = SUMMARY_RE.search(out)
    done = int(m[2]) if m else prog.points
    matched = int(m[4]) if m else -1
    if not m:
        failures.append("no run summary on stdout")
    if term_at is None:
        failures.append(f"probevision exited {rc} before the targets were reached")
    elif rc != 1:
        failures.append(f"exit {rc} after SIGTERM (expected 1: interrupted, resumable)")
    if prog.frames < a.frames:
        failures.append(f"only {prog.frames} of {a.frames} frames")
    if done < a.points:
        failures.append(f"only {done} of {a.points} points")

    mark = next((i for i, s in enumerate(samples) if s[1] >= a.frames * 0.2), None)
    if mark is None:
        failures.append("no RSS sample after the 20% mark")
        rss_mark = rss_end = drift = 0
    else:
        rss_mark = samples[mark][2]
        rss_end = samples[-1][2]
        drift = max(s[2] for s in samples[mark:]) - rss_mark
        if drift > DRIFT_LIMIT_KB:
            failures.append(f"RSS drift {drift} kB > {DRIFT_LIMIT_KB} kB")
    peak = max([hwm] + [s[2] for s in samples])

    rows, lost, extra, dup, statuses, run_status, nruns = journal_check(db, done)
    if lost or extra or dup or rows != done or nruns != 1:
        failures.append(f"journal: {rows} rows for {done} points, lost {lost[:10]}, "
                        f"unexpected {extra[:10]}, twice {dup[:10]}, runs {nruns}")

    mb = 1024.0
    print(f"frames        {prog.frames} camera frames ({matched} matched, {prog.dropped} dropped"
          f" by the pool), target {a.frames}")
    print(f"points        {done} recorded ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}),"
          f" target {a.points}; run status '{run_status}', exit {rc}")
    print(f"wall time     {wall:.0f} s ({prog.frames / wall if wall else 0:.1f} frames/s,"
          f" {done / wall if wall else 0:.1f} points/s), {a.width}x{a.height}")
    print(f"RSS at 20%    {rss_mark / mb:.1f} MB")
    print(f"RSS at end    {rss_end / mb:.1f} MB")
    print(f"drift         {drift / mb:+.2f} MB (max after the 20% mark minus the mark; limit 1 MB)")
    print(f"peak          {peak / mb:.1f} MB (VmHWM), {len(samples)} samples")
    print(f"points lost   {len(lost) + len(dup)} (missing {len(lost)}, twice {len(dup)},"
          f" unexpected {len(extra)})")
    print(f"log errors    {prog.errors}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        print("last stderr lines:\n  " + "\n  ".join(prog.tail))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
