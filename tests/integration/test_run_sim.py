"""probevision run on the built-in simulated station, end to end."""
import os
from pvtest import check, main, points, run, runs, workdir


def fifty_points_all_ok_within_truth():
    d = workdir()
    r = run(["run", "--speed", "0", "--db", "r.db"], cwd=d)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}")
    pts = points(os.path.join(d, "r.db"))
    check(len(pts) == 50, f"{len(pts)} points recorded, want 50")
    bad = [p for p in pts if p["status"] != "ok"]
    check(not bad, f"points not ok: {bad[:3]}")
    worst = max(p["truth_error_um"] for p in pts)
    check(worst <= 2.5, f"worst truth error {worst:.2f} um > 2.5")
    check(all(p["residual_um"] <= 2.0 for p in pts), "a residual exceeds align.tolerance_um")
    check(all(1 <= p["iterations"] <= 3 for p in pts), "iterations out of 1..3")
    rs = runs(os.path.join(d, "r.db"))
    check(len(rs) == 1 and rs[0]["status"] == "finished", f"runs: {rs}")
    check("[INFO]" in r.stderr and "point" in r.stderr, "no per-point log lines")


def targets_file_and_points_limit():
    d = workdir()
    with open(os.path.join(d, "t.csv"), "w") as f:
        f.write("index,x_mm,y_mm,name\n")
        for i, (c, rw) in enumerate([(0, 0), (1, 0), (2, 1), (3, 2), (4, 4)]):
            f.write(f"{10 + i},{(c * 1000 + 250) / 1000},{(rw * 900 + 220) / 1000},d{i}\n")
    r = run(["run", "--speed", "0", "--targets", "t.csv", "--points", "4", "--db", "r.db"], cwd=d)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}")
    pts = points(os.path.join(d, "r.db"))
    check([p["idx"] for p in pts] == [10, 11, 12, 13], f"indices {[p['idx'] for p in pts]}")
    check([p["name"] for p in pts] == ["d0", "d1", "d2", "d3"], "names not kept")
    check(all(p["status"] == "ok" for p in pts), "points not ok")


def measurement_hook_output_is_stored():
    d = workdir()
    with open(os.path.join(d, "m.ini"), "w") as f:
        f.write("[measure]\ncommand = echo \"$PV_INDEX $PV_NAME\"; test $PV_INDEX != 2\n")
    r = run(["run", "--speed", "0", "--points", "4", "--config", "m.ini", "--db", "r.db"], cwd=d)
    check(r.returncode == 1, f"want exit 1 (one failed point), got {r.returncode}: {r.stderr[-1500:]}")
    pts = points(os.path.join(d, "r.db"))
    check([p["status"] for p in pts] == ["ok", "ok", "measure_failed", "ok"],
          f"statuses {[p['status'] for p in pts]}")
    check(pts[1]["measure_output"].strip() == "1 die-1-0", f"output {pts[1]['measure_output']!r}")


main([fifty_points_all_ok_within_truth, targets_file_and_points_limit,
      measurement_hook_output_is_stored])
