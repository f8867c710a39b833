"""The probing cycle over SENTIO: probevision run with the sentio stage and
the aravis camera against probevision sim, stepping by the station's wafer
map (--targets sentio-map) and by a CSV, also under stage faults. Every
point goes to contact (its height recorded) and back to separation, the
simulator never has to refuse an XY move in contact, and a map run visits
every die of the route once, stopping at its end. Through tests/netns-run
(the simulator also serves a GigE Vision camera)."""
import os
import re
import signal
import sqlite3
import sys

from pvtest import check, main, run, workdir
from test_station_e2e import SKIP, Simulator, built_with_aravis, free_port

COLS, ROWS = 4, 3  # the simulated wafer: a 12-die route
CONFIG = f"[sim]\ncols = {COLS}\nrows = {ROWS}\n"


def rows(db, sql):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


def start(d, faults=()):
    with open(os.path.join(d, "sim.ini"), "w") as f:
        f.write(CONFIG)
    port = free_port()
    sim = Simulator(d, port, list(faults), ["--config", "sim.ini"])  # COLS x ROWS dies
    sim.start()
    return sim, port


def run_args(port, targets, extra=()):
    return (["run", "--camera", "aravis:127.0.0.1", "--stage", f"sentio:127.0.0.1:{port}",
             "--targets", targets, "--db", "r.db", "--config", "sim.ini",
             "--set", "camera.width=2048", "--set", "camera.height=2048",
             "--set", "stage.retries=6", "--set", "align.frame_retries=6"] + list(extra))


def refused_in_sim(sim):
    """The simulator's count of XY moves refused in contact, from its exit
    log ("sim: N XY moves refused in contact"); None when it does not say."""
    m = re.search(r"(\d+) XY moves? refused in contact", sim.tail())
    return int(m.group(1)) if m else None


def check_cycle(r, sim, pts):
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2500:]}\nsim: {sim.tail()}")
    check(all(p["status"] == "ok" for p in pts), f"statuses {[p['status'] for p in pts]}")
    check(all(p["contact_z_um"] is not None for p in pts),
          "a point without a contact height: " + str([p["idx"] for p in pts
                                                      if p["contact_z_um"] is None]))
    check("contact at z" in r.stderr, "the point log lines do not give the contact height")
    check("in contact" not in r.stderr.replace("refused in contact (simulated stage): 0", ""),
          "an XY move was refused in contact: " + "\n".join(
              l for l in r.stderr.splitlines() if "in contact" in l)[-1500:])
    sim.kill(signal.SIGTERM)
    n = refused_in_sim(sim)
    check(n is not None, "probevision sim did not log its count of XY moves refused in contact: "
          + sim.tail())
    check(n == 0, f"the simulator refused {n} XY moves in contact")


def map_run(faults=()):
    d = workdir()
    sim, port = start(d, faults)
    try:
        r = run(run_args(port, "sentio-map"), cwd=d, timeout=600)
        pts = rows(os.path.join(d, "r.db"), "SELECT * FROM points ORDER BY idx")
        dies = [(p["die_col"], p["die_row"]) for p in pts]
        check(len(pts) == COLS * ROWS and len(set(dies)) == COLS * ROWS,
              f"{len(pts)} points over {len(set(dies))} dies, want {COLS * ROWS}: {dies}")
        check([p["idx"] for p in pts] == list(range(COLS * ROWS)), "idx not 0..n-1")
        check("end of route" in r.stdout + r.stderr, "no end of route reported")
        check_cycle(r, sim, pts)
    finally:
        sim.kill(signal.SIGTERM)


def csv_run(faults=()):
    d = workdir()
    with open(os.path.join(d, "t.csv"), "w") as f:
        f.write("index,x_um,y_um\n")
        for i in range(10):
            c, rr = i % COLS, i // COLS
            f.write(f"{i},{250 + 1000 * c},{220 + 900 * rr}\n")
    sim, port = start(d, faults)
    try:
        r = run(run_args(port, "t.csv"), cwd=d, timeout=600)
        pts = rows(os.path.join(d, "r.db"), "SELECT * FROM points ORDER BY idx")
        check(len(pts) == 10, f"{len(pts)} points")
        check(all(p["die_col"] is None for p in pts), "die columns set in a CSV run")
        check_cycle(r, sim, pts)
    finally:
        sim.kill(signal.SIGTERM)


FAULTS = ["stage-error:0.05", "stage-timeout:0.05", "seed:3"]


def map_run_clean():
    map_run()


def map_run_under_stage_faults():
    map_run(FAULTS)


def csv_run_clean():
    csv_run()


def csv_run_under_stage_faults():
    csv_run(FAULTS)


if __name__ == "__main__":
    if not built_with_aravis():
        print("skipped: probevision built without Aravis")
        sys.exit(SKIP)
    main([map_run_clean, csv_run_clean, map_run_under_stage_faults, csv_run_under_stage_faults])
