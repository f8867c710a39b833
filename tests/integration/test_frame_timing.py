"""Frames used for alignment were exposed after the stage settled, checked
against the truth, through the real aravis driver and the real sentio stage
against probevision sim's GigE Vision camera under adversarial timing:

- continuous acquisition with the simulator's leader-delay:MS (the leader
  leaves the camera later than the driver's readout model) and queue:N
  (frames wait in the camera before they are sent) faults;
- the same with the wall clock of the probevision run process stepped back
  and forward mid-run (an LD_PRELOAD shim, clockstep.c, built by the suite:
  only CLOCK_REALTIME moves, as after an NTP step or `date -s`);
- software-trigger acquisition with leader delays.

The simulator writes --truth-log FILE, a CSV with a header and one row per
frame: its block id, exposure start and end on the host monotonic clock,
the stage position and `settled` (1: the stage had settled for the whole
exposure). The journal records each point's frame_id. For every point, the
frame it was aligned on must be `settled`.

Runs in a private network namespace (one GigE Vision camera per address):
through tests/netns-run when it exists, else `unshare -n` directly (root).
Exit 77 (skip) without Aravis, or when the simulator or the journal lacks
what the check needs (it says what)."""
import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pvtest import BIN, check, main, points, recorded, workdir
from test_station_e2e import Simulator, built_with_aravis, free_port

SKIP = 77
POINTS = 12
CLOCKSTEP = sys.argv[1] if len(sys.argv) > 1 else ""


def in_private_netns():
    """Re-executes this script in a private network namespace (through
    tests/netns-run, which sets PV_NETNS=1) unless it already runs in one."""
    if os.environ.get("PV_NETNS") == "1":
        return
    script = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    wrapper = os.path.join(os.environ.get("PV_SOURCE_DIR", "."), "tests", "netns-run")
    if os.access(wrapper, os.X_OK):
        sys.exit(subprocess.run([wrapper] + script).returncode)
    if shutil.which("unshare") and os.geteuid() == 0:
        env = dict(os.environ, PV_NETNS="1")
        cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + script
        sys.exit(subprocess.run(cmd, env=env).returncode)
    print("skipped: needs root (unshare -n) or tests/netns-run for a private network")
    sys.exit(SKIP)


def missing_parts():
    """What the check needs that this tree does not have yet."""
    missing = []
    h = subprocess.run([BIN, "help"], capture_output=True, text=True)
    h2 = subprocess.run([BIN, "sim", "--help"], capture_output=True, text=True, timeout=30)
    if "--truth-log" not in h.stdout + h.stderr + h2.stdout + h2.stderr:
        missing.append("probevision sim --truth-log FILE (per-frame truth CSV)")
    d = workdir()
    db = os.path.join(d, "probe.db")
    subprocess.run([BIN, "run", "--points", "1", "--speed", "0", "--db", db], cwd=d,
                   capture_output=True, text=True, timeout=120)
    try:
        con = sqlite3.connect(db)
        cols = [r[1] for r in con.execute("PRAGMA table_info(points)")]
        con.close()
    except sqlite3.Error:
        cols = []
    if "frame_id" not in cols:
        missing.append("a frame_id column in the journal's points table")
    shutil.rmtree(d, ignore_errors=True)
    return missing


def truth_rows(path):
    """block id -> the last truth row for it (block ids are 16-bit and may
    repeat in a long run; a run here is far shorter than 65535 frames)."""
    check(os.path.exists(path), f"no truth log at {path}")
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            bid = row.get("block_id") or row.get("frame_id")
            check(bid is not None, f"truth log {path}: no block_id column ({list(row)})")
            rows[int(bid)] = row
    return rows


def settled(row):
    return str(row.get("settled", "")).strip() in ("1", "true", "yes")


class WallStepper:
    """Writes the shim's offset file once the run has recorded some points:
    3 s back after 3 points, then 1 s forward of the truth (a 4 s step
    forward) after 7."""

    def __init__(self, path, db):
        self.path, self.db = path, db
        self.stop = threading.Event()
        self.steps = 0
        self.t = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        plan = [(3, -3_000_000_000), (7, 1_000_000_000)]
        while plan and not self.stop.is_set():
            if recorded(self.db) >= plan[0][0]:
                with open(self.path + ".tmp", "w") as f:
                    f.write(str(plan[0][1]))
                os.replace(self.path + ".tmp", self.path)
                self.steps += 1
                plan.pop(0)
            time.sleep(0.05)


def run_checked(acquisition, faults, step_wall=False):
    d = workdir()
    port = free_port()
    truth = os.path.join(d, "truth.csv")
    sim = Simulator(d, port, list(faults), ["--truth-log", truth])
    db = os.path.join(d, "r.db")
    env = dict(os.environ)
    stepper = None
    if step_wall:
        check(CLOCKSTEP and os.path.exists(CLOCKSTEP), f"clockstep shim missing: {CLOCKSTEP!r}")
        env["LD_PRELOAD"] = CLOCKSTEP
        env["PV_CLOCKSTEP_FILE"] = os.path.join(d, "wall-offset")
        if env.get("ASAN_OPTIONS"):  # the shim comes before the sanitizer's runtime
            env["ASAN_OPTIONS"] += ":verify_asan_link_order=0"
        stepper = WallStepper(env["PV_CLOCKSTEP_FILE"], db)
    args = [BIN, "run", "--camera", "aravis:127.0.0.1", "--stage", f"sentio:127.0.0.1:{port}",
            "--points", str(POINTS), "--db", db, "--set", "camera.width=2048",
            "--set", "camera.height=2048", "--set", f"camera.acquisition={acquisition}",
            "--set", "align.frame_retries=10"]
    try:
        sim.start()
        if stepper:
            stepper.t.start()
        r = subprocess.run(args, cwd=d, env=env, capture_output=True, text=True, timeout=600)
        if stepper:
            stepper.stop.set()
            check(stepper.steps == 2, f"the wall clock was stepped {stepper.steps} times, not 2")
        check(r.returncode in (0, 1), f"exit {r.returncode}: {r.stderr[-2000:]}\nsim: {sim.tail()}")
        check(f"{acquisition} acquisition" in r.stderr, f"not in {acquisition} mode: {r.stderr[-1500:]}")
    finally:
        sim.kill(signal.SIGTERM)
    pts = points(db)
    check(len(pts) == POINTS, f"{len(pts)} points recorded, not {POINTS}")
    ok = [p for p in pts if p["status"] == "ok"]
    check(len(ok) >= POINTS * 0.8, f"statuses {[p['status'] for p in pts]}")
    rows = truth_rows(truth)
    used = [p for p in pts if p.get("frame_id")]
    check(len(used) >= len(ok), f"{len(ok)} ok points but {len(used)} with a frame id")
    for p in used:
        row = rows.get(int(p["frame_id"]))
        check(row is not None, f"point {p['idx']}: frame {p['frame_id']} not in the truth log")
        check(settled(row), f"point {p['idx']}: frame {p['frame_id']} was exposed before the "
              f"stage settled: {row}")
    return pts, r.stderr


def continuous_with_late_leaders_and_queued_frames():
    run_checked("continuous", ["leader-delay:150", "queue:3", "seed:3"])


def continuous_with_wall_clock_steps():
    run_checked("continuous", ["leader-delay:40", "queue:2", "seed:5"], step_wall=True)


def software_trigger_with_late_leaders():
    pts, _ = run_checked("software", ["leader-delay:150", "seed:9"])
    ids = [int(p["frame_id"]) for p in pts if p.get("frame_id")]
    check(len(set(ids)) == len(ids), f"a triggered frame answered two points: {ids}")


if __name__ == "__main__":
    if not built_with_aravis():
        print("skipped: probevision built without Aravis")
        sys.exit(SKIP)
    in_private_netns()
    missing = missing_parts()
    if missing:
        print("skipped: this tree lacks " + "; ".join(missing))
        sys.exit(SKIP)
    main([continuous_with_late_leaders_and_queued_frames, continuous_with_wall_clock_steps,
          software_trigger_with_late_leaders])
