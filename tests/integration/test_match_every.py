"""align.match_every = n aligns exactly the points at positions 0, n, 2n, ...
of the target list (position counted from the start of the list, whatever
the targets' indices, and also after --start-index and --resume: the
sequencer's rule is `pos % match_every == 0`); every other point is `ok`
with 0 iterations. Read back from the real journal."""
import os
from pvtest import BIN, check, main, points, run, runs, workdir

SMALL = ["--speed", "0", "--set", "camera.width=640", "--set", "camera.height=512"]


def write_targets(d, n):
    """n targets over the default wafer (10 x 8 dies, pitch 1000 x 900 um,
    mark at 250, 220) whose indices are not their positions: position p has
    index 100 + 7 * p. Returns {index: position}."""
    with open(os.path.join(d, "t.csv"), "w") as f:
        f.write("index,x_um,y_um,name\n")
        for p in range(n):
            c, r = (3 * p) % 10, (3 * p) // 10 % 8
            f.write(f"{100 + 7 * p},{c * 1000 + 250},{r * 900 + 220},p{p}\n")
    return {100 + 7 * p: p for p in range(n)}


def check_aligned(pts, pos_of, every, what):
    """Each point at position pos is aligned (iterations > 0) iff
    pos % every == 0; all ok."""
    want, got = [], []
    for p in pts:
        pos = pos_of[p["idx"]]
        want.append((pos, pos % every == 0))
        got.append((pos, (p["iterations"] or 0) > 0))
    check(got == want, f"{what}: aligned positions "
          f"{[pos for pos, a in got if a]}, want {[pos for pos, a in want if a]} "
          f"(match_every={every})")
    bad = [(p["idx"], p["status"], p["error"]) for p in pts if p["status"] != "ok"]
    check(not bad, f"{what}: points not ok: {bad[:3]}")
    skipped = [p for p in pts if p["iterations"] == 0]
    check(all(p["residual_um"] is None and p["score"] is None for p in skipped),
          f"{what}: a point skipped by match_every has a residual or a score")


def every_3rd_of_generated_list():
    d = workdir()
    r = run(["run"] + SMALL + ["--points", "14", "--db", "r.db",
                               "--set", "align.match_every=3"], cwd=d)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-1500:]}")
    pts = points(os.path.join(d, "r.db"))
    check([p["idx"] for p in pts] == list(range(14)), f"indices {[p['idx'] for p in pts]}")
    check_aligned(pts, {i: i for i in range(14)}, 3, "generated list")


def every_4th_by_position_not_index():
    d = workdir()
    pos_of = write_targets(d, 14)
    r = run(["run"] + SMALL + ["--targets", "t.csv", "--db", "r.db",
                               "--set", "align.match_every=4"], cwd=d)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-1500:]}")
    pts = points(os.path.join(d, "r.db"))
    check(sorted(p["idx"] for p in pts) == sorted(pos_of), "targets not recorded once each")
    check_aligned(pts, pos_of, 4, "targets file")


def start_index_keeps_list_positions():
    # from position 5 (index 135): positions 6, 9, 12 are aligned, not 5, 8, 11
    d = workdir()
    pos_of = write_targets(d, 14)
    r = run(["run"] + SMALL + ["--targets", "t.csv", "--db", "r.db", "--start-index", "135",
                               "--set", "align.match_every=3"], cwd=d)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-1500:]}")
    pts = points(os.path.join(d, "r.db"))
    check(sorted(pos_of[p["idx"]] for p in pts) == list(range(5, 14)),
          f"positions {sorted(pos_of[p['idx']] for p in pts)}, want 5..13")
    check_aligned(pts, pos_of, 3, "--start-index")


def resume_keeps_list_positions(every):
    """A run stopped by SIGTERM after position 4 (the measurement hook of
    the point at position 4 sends it, so the stop is at a known point) and
    continued with --resume from position 5: the same positions aligned."""
    d = workdir()
    pos_of = write_targets(d, 14)
    stop_at = next(i for i, p in pos_of.items() if p == 4)
    with open(os.path.join(d, "m.ini"), "w") as f:
        f.write(f"[align]\nmatch_every = {every}\n[measure]\n"
                f"command = if [ \"$PV_INDEX\" = {stop_at} ]; then kill -TERM $PPID; fi; "
                f"echo $PV_INDEX\n")
    args = ["run"] + SMALL + ["--targets", "t.csv", "--db", "r.db", "--config", "m.ini"]
    r = run(args, cwd=d)
    check(r.returncode == 1, f"interrupted run: exit {r.returncode}, want 1: {r.stderr[-1500:]}")
    db = os.path.join(d, "r.db")
    first = points(db)
    check(sorted(pos_of[p["idx"]] for p in first) == list(range(5)),
          f"positions recorded before the stop {sorted(pos_of[p['idx']] for p in first)}, "
          f"want 0..4")
    check(runs(db)[0]["status"] == "running", "interrupted run not left 'running'")
    check_aligned(first, pos_of, every, "before the stop")
    r = run(args + ["--resume"], cwd=d)
    check(r.returncode == 0, f"resume: exit {r.returncode}: {r.stderr[-1500:]}")
    rs = runs(db)
    check(len(rs) == 1 and rs[0]["status"] == "finished", f"runs: {rs}")
    pts = points(db)
    check(sorted(p["idx"] for p in pts) == sorted(pos_of), "targets not recorded once each")
    check_aligned(pts, pos_of, every, "after --resume")


def resume_every_3():
    resume_keeps_list_positions(3)


def resume_every_4():
    resume_keeps_list_positions(4)


main([every_3rd_of_generated_list, every_4th_by_position_not_index,
      start_index_keeps_list_positions, resume_every_3, resume_every_4])
