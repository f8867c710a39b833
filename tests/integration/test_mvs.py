"""probevision grab and run through the mvs driver (Hikvision MVS SDK) against
the suite's fake libMvCameraControl.so (PV_FAKE_MVS, tests/camera/fake_mvs),
loaded through the driver's real dlopen path: clean, with scripted faults
(NODATA bursts, a lost device, a slow FreeImageBuffer), by serial and IP, and
with no library at all. The fake writes its buffer accounting to
FAKE_MVS_REPORT; every GetImageBuffer must have been matched by exactly one
FreeImageBuffer."""
import json
import os
import re

from pvtest import check, main, points, run, runs, workdir

FAKE = os.environ.get("PV_FAKE_MVS", "")


def env_with(d, faults=None, library=FAKE, **extra):
    env = dict(os.environ)
    for k in ("FAKE_MVS_FAULTS", "FAKE_MVS_NO_TRIGGER", "PV_MVS_LIBRARY"):
        env.pop(k, None)
    if library:
        env["PV_MVS_LIBRARY"] = library
    else:  # Meson points LD_LIBRARY_PATH at the fake: the soname would load it
        env.pop("LD_LIBRARY_PATH", None)
    env["FAKE_MVS_REPORT"] = os.path.join(d, "fake_mvs.txt")
    if faults:
        env["FAKE_MVS_FAULTS"] = faults
    env.update(extra)
    return env


def report(d):
    """The fake's counters as a dict; checks the buffer accounting."""
    with open(os.path.join(d, "fake_mvs.txt")) as f:
        rep = {k: int(v) for k, v in (kv.split("=") for kv in f.read().split())}
    check(rep["gets"] > 0, f"no frame handed out: {rep}")
    check(rep["gets"] == rep["frees"] and rep["bad_frees"] == 0 and rep["leaked"] == 0,
          f"GetImageBuffer/FreeImageBuffer do not pair: {rep}")
    return rep


def grab(d, args, env):
    r = run(["grab", "--json"] + args, cwd=d, env=env, timeout=300)
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode in (0, 1) else None
    return r, out


def grab_clean_software_and_continuous():
    d = workdir()
    r, out = grab(d, ["--camera", "mvs", "--frames", "20"], env_with(d))
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}")
    check(out["frames"] >= 20 and out["complete"] == out["frames"] and out["timeouts"] == 0,
          f"{out}")
    check("mvs: opened MV-CA050-FAKE FAKE0001" in r.stderr, "no open line")
    check("software acquisition" in r.stderr, "auto did not choose the software trigger")
    rep = report(d)
    check(rep["triggers"] >= 20, f"software mode fired {rep['triggers']} triggers")
    for spec in ("mvs:FAKE0001", "mvs:192.168.10.20"):
        r, out = grab(d, ["--camera", spec, "--frames", "15", "--set",
                          "camera.acquisition=continuous"], env_with(d))
        check(r.returncode == 0, f"{spec}: exit {r.returncode}: {r.stderr[-2000:]}")
        check(out["complete"] >= 15 and out["complete"] == out["frames"], f"{spec}: {out}")
        check("continuous acquisition" in r.stderr, f"{spec}: not continuous")
        rep = report(d)
        check(rep["triggers"] == 0, f"{spec}: continuous mode fired triggers")


def grab_unknown_camera_is_a_camera_failure():
    d = workdir()
    r = run(["grab", "--camera", "mvs:NOSUCH", "--frames", "3"], cwd=d, env=env_with(d),
            timeout=120)
    check(r.returncode == 3, f"exit {r.returncode}, want 3")
    check("no such camera among the 1 found: FAKE0001 (192.168.10.20)" in r.stderr,
          f"message: {r.stderr[-1500:]}")


def grab_with_faults_escalates_and_recovers():
    d = workdir()
    env = env_with(d, "nodata:9@4,lost@30,slowfree:20")
    r, out = grab(d, ["--camera", "mvs", "--frames", "40", "--set",
                      "camera.acquisition=continuous", "--set", "camera.timeout_ms=100",
                      "--set", "camera.reopen_backoff_ms=50"], env)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}")
    check(out["timeouts"] == 9, f"timeouts {out['timeouts']}, want 9: {out}")
    check(out["restarts"] >= 2 and out["reopens"] >= 2, f"no escalation: {out}")
    check(out["disconnected"] >= 1, f"lost device not seen: {out}")
    check("MV_E_NODATA 0x80000007 (no data: no frame before the deadline)" in r.stderr,
          "NODATA not logged by name")
    check("MV_E_NETER 0x80000206" in r.stderr, "NETER not logged by name")
    check("MV_E_ACCESS_DENIED 0x80000203" in r.stderr, "ACCESS_DENIED not logged by name")
    rep = report(d)
    check(rep["lost"] == 1 and rep["opens"] >= 3, f"fake: {rep}")


def run_30(d, env, extra=()):
    r = run(["run", "--camera", "mvs", "--speed", "0", "--points", "30", "--db", "r.db",
             "--set", "camera.timeout_ms=200", "--set", "monitor.interval_s=1"] + list(extra),
            cwd=d, env=env, timeout=600)
    return r, points(os.path.join(d, "r.db")), runs(os.path.join(d, "r.db"))


def run_30_points_clean():
    d = workdir()
    r, pts, rs = run_30(d, env_with(d))
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}")
    check(len(pts) == 30 and all(p["status"] == "ok" for p in pts), f"points: {pts[:2]}")
    ids = [p["frame_id"] for p in pts]
    check(all(b > a for a, b in zip(ids, ids[1:])), f"frame ids do not increase: {ids}")
    check(rs[-1]["status"] == "finished" and 'driver = "mvs"' in rs[-1]["config"], f"{rs}")
    check("status: ok 30" in r.stdout, f"summary: {r.stdout}")
    check("WARN" not in r.stderr, f"warnings in a clean run: {r.stderr[-1500:]}")
    report(d)


def run_30_points_with_faults():
    d = workdir()
    r, pts, rs = run_30(d, env_with(d, "nodata:5@20,lost@40,slowfree:50"))
    check(r.returncode in (0, 1), f"exit {r.returncode}: {r.stderr[-2000:]}")
    check(len(pts) == 30, f"{len(pts)} points recorded, want 30")
    ok = [p for p in pts if p["status"] == "ok"]
    check(len(ok) >= 28, f"only {len(ok)} points ok")
    check(r.returncode == (0 if len(ok) == 30 else 1), f"exit {r.returncode} for {len(ok)} ok")
    check(rs[-1]["status"] == "finished", f"{rs}")
    check("MV_E_NODATA 0x80000007" in r.stderr and "MV_E_NETER 0x80000206" in r.stderr,
          "MVS errors not logged by name")
    check("camera mvs: recovered after" in r.stderr, "no recovery after the lost device")
    errors = [int(m) for m in re.findall(r"camera errors (\d+)", r.stderr)]
    check(errors and max(errors) >= 4, f"monitor counters: {errors}")
    check(any(f.startswith("incident-") for f in os.listdir(d)), "no incident report")
    rep = report(d)
    check(rep["lost"] == 1 and rep["opens"] == 2 and rep["nodata"] >= 5, f"fake: {rep}")


def missing_library_names_every_place():
    d = workdir()
    env = env_with(d, library=None)
    for args in (["grab", "--camera", "mvs", "--frames", "3"],
                 ["run", "--camera", "mvs", "--speed", "0", "--points", "3", "--db", "r.db"]):
        r = run(args + ["--set", "camera.mvs_library=/nonexistent/libMvCameraControl.so"],
                cwd=d, env=env, timeout=120)
        check(r.returncode == 3, f"{args[0]}: exit {r.returncode}, want 3")
        for want in ("camera.mvs_library", "/nonexistent/libMvCameraControl.so",
                     "$PV_MVS_LIBRARY: not set", "/opt/MVS/lib/64/libMvCameraControl.so",
                     "/opt/MVS/lib/aarch64/libMvCameraControl.so", "install MVS"):
            check(want in r.stderr, f"{args[0]}: '{want}' not in: {r.stderr[-2000:]}")
    check(points(os.path.join(d, "r.db")) == [] if os.path.exists(os.path.join(d, "r.db"))
          else True, "points recorded without a camera")
    # camera.mvs_library alone (no $PV_MVS_LIBRARY) finds it
    r = run(["grab", "--camera", "mvs", "--frames", "3", "--set", f"camera.mvs_library={FAKE}"],
            cwd=d, env=env, timeout=120)
    check(r.returncode == 0, f"camera.mvs_library: exit {r.returncode}: {r.stderr[-1500:]}")
    check(f"mvs: loaded {FAKE}" in r.stderr, "not loaded from camera.mvs_library")


if __name__ == "__main__":
    if not FAKE or not os.path.exists(FAKE):
        print("PV_FAKE_MVS not set or missing: build the test suite")
        raise SystemExit(77)
    main([grab_clean_software_and_continuous, grab_unknown_camera_is_a_camera_failure,
          grab_with_faults_escalates_and_recovers, run_30_points_clean,
          run_30_points_with_faults, missing_library_names_every_place])
