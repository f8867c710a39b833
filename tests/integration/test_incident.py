"""Incident reports from the real binary on the simulated station: a camera
that stops sending (sim.fault_nodata) makes the worker restart the stream,
and the monitor writes incident-*.md with the classified cause into
monitor.incident_dir, saying which clock its timeout is on and the point in
progress at the incident; a stage that always fails gives stage-error
reports; `probevision report` writes a run report naming the run's points,
creating --out DIR when missing, or says why it cannot (exit 2)."""
import glob
import os
import re

import pvtest
from pvtest import check


def incident_files(d):
    return sorted(glob.glob(os.path.join(d, "incident-*.md")))


def test_camera_timeout_incident():
    wd = pvtest.workdir()
    r = pvtest.run(["run", "--speed", "0", "--points", "8", "--db", "r.db",
                    "--set", "sim.fault_nodata=0.6", "--set", "camera.timeout_ms=20",
                    "--set", "monitor.incident_dir=inc"], wd, timeout=120)
    check(r.returncode in (0, 1), f"exit {r.returncode}: {r.stderr[-2000:]}")
    files = incident_files(os.path.join(wd, "inc"))
    check(files, "no incident-*.md in monitor.incident_dir: " + r.stderr[-2000:])
    text = open(files[0]).read()
    check("timeout: the camera stopped sending frames" in text, "cause not classified")
    check("stream restarted" in text, "what was done is missing")
    # --speed 0: the simulated camera's 20 ms are simulated time, not 20 real ms
    check("no frame within 20 ms of simulated time (x0: as fast as possible)" in text,
          "the timeout's clock is not named: " + text[:600])
    check(re.search(r"^- point at the incident: \d+ of 8 done", text, re.M),
          "no point in progress at the incident")
    check(re.search(r"^- point when this report was written: \d+ of 8 done", text, re.M),
          "no point in progress when written")
    for section in ("## Summary", "## Timeline", "## Memory", "## Threads"):
        check(section in text, f"{section} missing")
    check(re.search(r"camera\(\d+\)", text), "thread list without the camera thread")
    svg = files[0][:-3] + "-memory.svg"
    check(os.path.exists(svg), "memory plot missing")
    s = open(svg).read().strip()
    check(s.startswith("<svg") and s.endswith("</svg>"), "SVG not well-formed")

    out = os.path.join(wd, "rep")
    os.mkdir(out)
    r = pvtest.run(["report", "--db", "r.db", "--out", "rep"], wd, timeout=60)
    check(r.returncode == 0, f"report exit {r.returncode}: {r.stderr}")
    rep = open(os.path.join(out, "report-run1.md")).read()
    pts = pvtest.points(os.path.join(wd, "r.db"))
    check(len(pts) == 8, f"{len(pts)} points recorded")
    for p in pts:
        check(f"| {p['idx']} | {p['name']} | {p['status']} |" in rep,
              f"point {p['idx']} missing from the report")
    check(os.path.exists(os.path.join(out, "report-run1-residual.svg")), "residual plot missing")


def test_stage_error_incident_and_failed_points():
    wd = pvtest.workdir()
    r = pvtest.run(["run", "--speed", "0", "--points", "2", "--db", "r.db",
                    "--set", "sim.fault_stage_error=1.0", "--set", "monitor.incident_dir=."],
                   wd, timeout=120)
    check(r.returncode == 1, f"exit {r.returncode}: {r.stderr[-2000:]}")
    files = incident_files(wd)
    check(files, "no incident report for the stage errors")
    text = "".join(open(f).read() for f in files)
    check("stage failure: a move failed after every retry" in text, "cause not classified")
    r = pvtest.run(["report", "--db", "r.db", "--run", "1"], wd, timeout=60)
    check(r.returncode == 0, f"report exit {r.returncode}: {r.stderr}")
    rep = open(os.path.join(wd, "report-run1.md")).read()
    failed = rep.split("## Failed points")[1].split("##")[0]
    check(failed.count("stage_error") == 2, "failed points table incomplete")
    r = pvtest.run(["report", "--db", "r.db", "--run", "7"], wd, timeout=60)
    check(r.returncode == 2 and "no run 7" in r.stderr, "unknown run not refused")


def test_fault_option_incident():
    """Uses the in-process --fault option when this build has it."""
    wd = pvtest.workdir()
    h = pvtest.run(["run", "--help"], wd, timeout=30)
    if "--fault" not in h.stdout:
        print("skip: probevision run has no --fault option")
        return
    r = pvtest.run(["run", "--speed", "0", "--points", "20", "--db", "r.db",
                    "--fault", "stall:2", "--set", "camera.timeout_ms=100",
                    "--set", "monitor.incident_dir=."], wd, timeout=180)
    check(r.returncode in (0, 1), f"exit {r.returncode}: {r.stderr[-2000:]}")
    files = incident_files(wd)
    check(files, "no incident report for --fault stall:2: " + r.stderr[-2000:])
    check("timeout: the camera stopped sending frames" in open(files[0]).read(),
          "stall not classified as a timeout")


def test_report_out_dir():
    """--out DIR is created with its parents; one that cannot be created is
    an error naming the path and the reason, on a line of its own (exit 2)."""
    wd = pvtest.workdir()
    r = pvtest.run(["run", "--speed", "0", "--points", "2", "--db", "r.db"], wd, timeout=120)
    check(r.returncode == 0, f"run exit {r.returncode}: {r.stderr[-2000:]}")
    r = pvtest.run(["report", "--db", "r.db", "--out", "new/a/b"], wd, timeout=60)
    check(r.returncode == 0, f"report exit {r.returncode}: {r.stderr}")
    for name in ("report-run1.md", "report-run1-residual.svg"):
        check(os.path.exists(os.path.join(wd, "new", "a", "b", name)), f"{name} not written")
    open(os.path.join(wd, "plain"), "w").close()
    r = pvtest.run(["report", "--db", "r.db", "--out", "plain/sub"], wd, timeout=60)
    check(r.returncode == 2, f"exit {r.returncode} for an --out under a file")
    check(r.stderr.endswith("\n"), f"message without a newline: {r.stderr!r}")
    check("plain/sub" in r.stderr and "Not a directory" in r.stderr,
          f"message does not say where and why: {r.stderr!r}")
    check(not os.path.exists(os.path.join(wd, "report-run1.md")), "report written elsewhere")


if __name__ == "__main__":
    pvtest.main([test_camera_timeout_incident, test_stage_error_incident_and_failed_points,
                 test_fault_option_incident, test_report_out_dir])
