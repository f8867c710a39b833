"""The fault matrix: `probevision run` on the built-in simulated station with
each fault injected (--fault, a failing measurement hook, a full journal,
SIGTERM). For each: no crash, every target recorded at most once and none
lost, the right status recorded, the documented exit code.
SIGKILL then --resume is covered by test_resume.py."""
import os
import signal
import subprocess
import time
from pvtest import BIN, check, main, points, recorded, run, runs, workdir

SMALL = ["--speed", "0", "--set", "camera.width=640", "--set", "camera.height=512"]


def pv(d, args, codes, env=None, timeout=120):
    """Runs `probevision run` in d; checks the exit code is one of codes and
    that nothing crashed; returns the CompletedProcess."""
    e = dict(os.environ)
    e.update(env or {})
    r = run(["run"] + SMALL + ["--db", "r.db"] + args, cwd=d, env=e, timeout=timeout)
    tail = r.stderr[-2000:]
    check(r.returncode in codes, f"exit {r.returncode}, want {codes}: {tail}")
    check("Sanitizer" not in r.stderr and "runtime error" not in r.stderr,
          f"sanitizer report: {tail}")
    return r


def once_each(d, n):
    """The journal holds targets 0..n-1, each exactly once, in one run;
    returns the points."""
    pts = points(os.path.join(d, "r.db"))
    idx = [p["idx"] for p in pts]
    check(idx == list(range(n)), f"recorded indices {idx}, want 0..{n - 1} once each")
    check(len(runs(os.path.join(d, "r.db"))) == 1, "more than one run")
    check(all(p["status"] and p["finished_at"] for p in pts), "a point recorded half")
    return pts


def statuses(pts):
    return sorted({p["status"] for p in pts})


def timeout_burst_restarts_stream():
    d = workdir()
    r = pv(d, ["--points", "12", "--fault", "stall:2"], [0])
    check("restarting the stream" in r.stderr, "no stream restart logged")
    check("stall over" in r.stderr, "the stall never ended")
    check(statuses(once_each(d, 12)) == ["ok"], "a point is not ok")


def nodata_frames_are_survived():
    d = workdir()
    r = pv(d, ["--points", "12", "--fault", "nodata:0.3"], [0])
    check("point 0" in r.stderr, "no point logged")
    check(statuses(once_each(d, 12)) == ["ok"], "a point is not ok")


def incomplete_frames_are_counted():
    d = workdir()
    r = pv(d, ["--points", "20", "--fault", "packet-loss:1",
               "--set", "monitor.interval_s=0.1"], [0])
    errors = [int(line.split("camera errors ")[1].split()[0])
              for line in r.stderr.splitlines() if "camera errors " in line]
    check(errors and max(errors) > 0, f"no incomplete frame counted: {errors}")
    check("restarting the stream" not in r.stderr, "incomplete frames escalated")
    check(statuses(once_each(d, 20)) == ["ok"], "a point is not ok")


def disconnect_reopens_camera():
    d = workdir()
    r = pv(d, ["--points", "12", "--fault", "disconnect:1"], [0])
    check("reconnecting: device disconnected" in r.stderr, "no reopen logged")
    check("recovered after" in r.stderr, "no recovery logged")
    check(statuses(once_each(d, 12)) == ["ok"], "a point is not ok")


def stage_errors_are_recorded():
    d = workdir()
    r = pv(d, ["--points", "20", "--fault", "stage-error:0.3", "--set", "stage.retries=0"], [1])
    pts = once_each(d, 20)
    check(statuses(pts) == ["ok", "stage_error"], f"statuses {statuses(pts)}")
    bad = [p for p in pts if p["status"] == "stage_error"]
    check(all("injected fault" in p["error"] for p in bad), "stage error without its cause")
    check("stage_error" in r.stdout, "summary does not count stage errors")


def stage_timeouts_are_retried():
    d = workdir()
    r = pv(d, ["--points", "12", "--fault", "stage-timeout:0.2",
               "--set", "stage.retries=4"], [0])
    check("no reply to the move" in r.stderr and "attempt 1 of 5" in r.stderr,
          "no stage timeout retried")
    check(statuses(once_each(d, 12)) == ["ok"], "a point is not ok")


HOOK_IF_2 = 'if [ "$PV_INDEX" = 2 ]; then {}; fi; echo fine'


def crashing_hook_fails_its_point():
    d = workdir()
    pv(d, ["--points", "5", "--set", "measure.command=" + HOOK_IF_2.format("kill -SEGV $$")], [1])
    pts = once_each(d, 5)
    check(pts[2]["status"] == "measure_failed", f"point 2: {pts[2]['status']}")
    check("signal 11" in pts[2]["error"], f"point 2 error: {pts[2]['error']}")
    check(all(p["status"] == "ok" for i, p in enumerate(pts) if i != 2), "another point failed")


def hanging_hook_is_killed():
    d = workdir()
    pv(d, ["--points", "5", "--set", "measure.command=" + HOOK_IF_2.format("sleep 30"),
           "--set", "measure.timeout_s=0.5"], [1], timeout=25)
    pts = once_each(d, 5)
    check(pts[2]["status"] == "measure_failed", f"point 2: {pts[2]['status']}")
    check("timed out" in pts[2]["error"], f"point 2 error: {pts[2]['error']}")
    check(all(p["status"] == "ok" for i, p in enumerate(pts) if i != 2), "another point failed")


def journal_full_stops_then_resumes():
    d = workdir()
    db = os.path.join(d, "r.db")
    r = pv(d, ["--points", "60"], [3], env={"PV_JOURNAL_MAX_PAGES": "4"})
    check("r.db" in r.stderr and "full" in r.stderr, f"error does not name the journal: "
          f"{r.stderr[-1000:]}")
    before = points(db)
    n = len(before)
    check(0 < n < 60, f"{n} points before the disk was full")
    once_each(d, n)
    check(runs(db)[0]["status"] == "running", "stopped run not left 'running'")
    pv(d, ["--points", "60", "--resume"], [0])
    after = points(db)
    check(after[:n] == before, "a point recorded before the failure changed")
    once_each(d, 60)
    check(runs(db)[0]["status"] == "finished", "resumed run not finished")


def sigterm_stops_cleanly_then_resumes():
    d = workdir()
    db = os.path.join(d, "r.db")
    args = [BIN, "run", "--speed", "1", "--set", "camera.width=640",
            "--set", "camera.height=512", "--points", "30", "--db", "r.db"]
    p = subprocess.Popen(args, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    try:
        deadline = time.time() + 60
        while recorded(db) < 3 and time.time() < deadline and p.poll() is None:
            time.sleep(0.05)
        check(p.poll() is None, "run ended before SIGTERM")
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 1, f"exit {p.returncode} after SIGTERM, want 1: {err[-1000:]}")
    check("Sanitizer" not in err and "runtime error" not in err, "sanitizer report")
    check("interrupted" in err, "no interruption logged")
    n = recorded(db)
    check(0 < n < 30, f"{n} points at SIGTERM")
    once_each(d, n)
    check(runs(db)[0]["status"] == "running", "interrupted run not left 'running'")
    pv(d, ["--points", "30", "--resume"], [0])
    once_each(d, 30)
    check(runs(db)[0]["status"] == "finished", "resumed run not finished")


def bad_fault_spec_is_a_usage_error():
    d = workdir()
    r = pv(d, ["--points", "2", "--fault", "meltdown:1"], [2])
    check("meltdown" in r.stderr, f"message does not name the fault: {r.stderr[-500:]}")
    check(not os.path.exists(os.path.join(d, "r.db")), "journal created on bad input")


if __name__ == "__main__":
    main([timeout_burst_restarts_stream, nodata_frames_are_survived,
          incomplete_frames_are_counted, disconnect_reopens_camera,
          stage_errors_are_recorded, stage_timeouts_are_retried,
          crashing_hook_fails_its_point, hanging_hook_is_killed,
          journal_full_stops_then_resumes, sigterm_stops_cleanly_then_resumes,
          bad_fault_spec_is_a_usage_error])
