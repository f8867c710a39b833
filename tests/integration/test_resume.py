"""A run killed with SIGKILL and continued with --resume records every
target exactly once, in one run; --resume refuses a changed configuration
or target list."""
import os
import signal
import subprocess
import time
from pvtest import BIN, check, main, points, recorded, run, runs, workdir


def sigkill_then_resume_records_each_point_once():
    d = workdir()
    db = os.path.join(d, "r.db")
    # real time: a few points per second, so the kill lands mid-run.
    p = subprocess.Popen([BIN, "run", "--speed", "1", "--points", "40", "--db", "r.db"],
                         cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while recorded(db) < 8 and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    check(p.poll() is None, "run ended before it could be killed")
    p.send_signal(signal.SIGKILL)
    p.wait()
    before = recorded(db)
    check(8 <= before < 40, f"{before} points recorded at the kill")
    check(runs(db)[0]["status"] == "running", "killed run not left 'running'")
    r = run(["run", "--speed", "0", "--points", "40", "--db", "r.db", "--resume"], cwd=d)
    check(r.returncode == 0, f"resume exit {r.returncode}: {r.stderr[-1500:]}")
    rs = runs(db)
    check(len(rs) == 1, f"{len(rs)} runs, want 1")
    check(rs[0]["status"] == "finished", f"run status {rs[0]['status']}")
    pts = points(db)
    check(sorted(p["idx"] for p in pts) == list(range(40)), "targets not recorded exactly once")
    check(all(p["status"] == "ok" for p in pts), "a point is not ok")


def resume_refuses_changed_config_or_targets():
    d = workdir()
    db = os.path.join(d, "r.db")
    p = subprocess.Popen([BIN, "run", "--speed", "1", "--points", "30", "--db", "r.db"],
                         cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while recorded(db) < 2 and time.time() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    n = recorded(db)
    with open(os.path.join(d, "c.ini"), "w") as f:
        f.write("[align]\ntolerance_um = 1.5\n")
    r = run(["run", "--speed", "0", "--points", "30", "--db", "r.db", "--resume",
             "--config", "c.ini"], cwd=d)
    check(r.returncode == 2, f"changed config: exit {r.returncode}")
    check("config" in r.stderr.lower(), f"message does not name the config: {r.stderr[-500:]}")
    r = run(["run", "--speed", "0", "--points", "31", "--db", "r.db", "--resume"], cwd=d)
    check(r.returncode == 2, f"changed targets: exit {r.returncode}")
    check("target" in r.stderr.lower(), f"message does not name the targets: {r.stderr[-500:]}")
    check(recorded(db) == n, "a refused resume changed the journal")
    # --speed is not part of the configuration's identity
    r = run(["run", "--speed", "0", "--points", "30", "--db", "r.db", "--resume"], cwd=d)
    check(r.returncode == 0, f"same config: exit {r.returncode}: {r.stderr[-800:]}")
    check(len(points(db)) == 30, "resumed run incomplete")


main([sigkill_then_resume_records_each_point_once, resume_refuses_changed_config_or_targets])
