#!/usr/bin/env python3
"""Acquisition modes over GigE Vision: software trigger against continuous.

    python3 bench/bench_acquisition.py [--bin build/probevision] [--points 30]
                                       [--fps 16]

Runs the same points twice through the real protocols, in a private network
namespace (tests/netns-run): `probevision sim` serves its GigE Vision camera
and SENTIO stage on 127.0.0.1 and writes its truth log; `probevision run
--camera aravis:127.0.0.1 --stage sentio:...` steps through the simulated
wafer's dies in real time, once with camera.acquisition=continuous and once
with software. For each mode it prints the wall time per point, the frames
the camera sent and the megabytes that crossed the wire per point (from the
truth log: one line per frame sent), the frames matched per point, and the
smallest time between a settle and the start of the exposure of the frame
used (the journal's exposure_margin_ms); then the ratios software /
continuous. Both runs are in this script, on this machine, one after the
other. Stdlib only.
"""
import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, "..", "tests", "netns-run")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_mode(binary, mode, points, fps):
    d = tempfile.mkdtemp(prefix="pv-bench-acq-")
    port = 35555
    truth = os.path.join(d, "truth.csv")
    db = os.path.join(d, "r.db")
    script = (
        f"{binary} sim --address 127.0.0.1 --stage-port {port} --truth-log {truth} "
        f"> {d}/sim.log 2>&1 & sim=$!; "
        f"for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; "
        f"sleep 0.1; done; "
        f"{binary} run --camera aravis:127.0.0.1 --stage sentio:127.0.0.1:{port} "
        f"--points {points} --db {db} --set camera.acquisition={mode} "
        f"--set camera.fps={fps} > {d}/run.out 2> {d}/run.log; rc=$?; "
        f"kill $sim; wait $sim; exit $rc")
    t0 = time.monotonic()
    p = subprocess.run([NETNS, "bash", "-c", script], cwd=d)
    wall = time.monotonic() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"{mode}: run failed (exit {p.returncode}); see {d}/run.log")
    with open(truth) as f:
        frames = sum(1 for line in f) - 1
    con = sqlite3.connect(db)
    rows = con.execute("SELECT status, iterations, exposure_margin_ms, started_at, finished_at "
                       "FROM points").fetchall()
    con.close()
    ok = sum(1 for r in rows if r[0] == "ok")
    matched = sum(r[1] or 0 for r in rows)
    margins = [r[2] for r in rows if r[2] is not None]
    run_s = None
    out = open(os.path.join(d, "run.out")).read()
    for line in out.splitlines():
        if " points in " in line:
            run_s = float(line.split(" points in ")[1].split(" s")[0])
    payload_mb = 2448 * 2048 / 1e6
    return {"mode": mode, "points": len(rows), "ok": ok, "run_s": run_s or wall,
            "frames": frames, "mb": frames * payload_mb, "matched": matched,
            "min_margin_ms": min(margins) if margins else float("nan")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "probevision"))
    ap.add_argument("--points", type=int, default=30)
    ap.add_argument("--fps", type=float, default=16)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    res = [one_mode(binary, m, a.points, a.fps) for m in ("continuous", "software")]
    print(f"{a.points} points, 2448x2048 BayerBG8, camera.fps {a.fps:g}, real time, "
          "through Aravis and SENTIO on loopback")
    print("| mode | ok | s/point | frames sent/point | MB sent/point | frames matched/point "
          "| min settle-to-exposure ms |")
    print("|---|---|---|---|---|---|---|")
    for r in res:
        n = max(r["points"], 1)
        print(f"| {r['mode']} | {r['ok']}/{r['points']} | {r['run_s'] / n:.3f} | "
              f"{r['frames'] / n:.1f} | {r['mb'] / n:.1f} | {r['matched'] / n:.2f} | "
              f"{r['min_margin_ms']:.2f} |")
    c, s = res
    print(f"software / continuous: time per point x{s['run_s'] / c['run_s']:.2f}, "
          f"frames sent x{s['frames'] / max(c['frames'], 1):.3f}")


if __name__ == "__main__":
    main()
