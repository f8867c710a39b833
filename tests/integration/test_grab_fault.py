"""probevision grab --fault on the built-in simulated camera, in software
trigger and continuous mode: the mode in effect is printed, every grab
result is counted in exactly one class, and in software mode one trigger is
fired per frame wanted (every trigger gives one result; lost triggers are
the timeouts; every good frame was handed to grab). Faults for a camera
other than the simulated one, or stage faults, are usage errors."""
import json

from pvtest import BIN, check, main, run, workdir

FRAMES = 40
SMALL = ["--set", "camera.width=320", "--set", "camera.height=256", "--set", "sim.speed=0"]


def grab(mode, *extra, json_out=True):
    args = ["grab", "--camera", "sim", "--frames", str(FRAMES), "--fault", "nodata:0.3",
            "--fault", "seed:7", "--set", f"camera.acquisition={mode}"] + SMALL + list(extra)
    if json_out:
        args.append("--json")
    p = run(args, workdir(), timeout=300)
    return p


def classes(r):
    return (r["complete"] + r["incomplete"] + r["timeouts"] + r["disconnected"] + r["fatal"] +
            r["dropped"])


def test_software_nodata():
    p = grab("software")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-2000:]}")
    r = json.loads(p.stdout)
    check(r["acquisition"] == "software", f"mode {r['acquisition']}")
    check(r["frames"] >= FRAMES, f"frames {r['frames']} < {FRAMES}")
    check(classes(r) == r["frames"], f"classes do not add up: {r}")
    check(r["timeouts"] > 0, f"nodata 0.3 gave no timeout: {r}")
    check(r["lost_triggers"] == r["timeouts"], f"lost triggers != timeouts: {r}")
    check(r["triggers"] == r["frames"], f"triggers {r['triggers']} != results {r['frames']}")
    check(r["leased"] == r["complete"], f"a good frame not handed out (fired for nobody): {r}")
    check(r["bad_frames"] == 0 and r["uncertain"] == 0, f"{r}")


def test_continuous_nodata():
    p = grab("continuous")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-2000:]}")
    r = json.loads(p.stdout)
    check(r["acquisition"] == "continuous", f"mode {r['acquisition']}")
    check(r["frames"] >= FRAMES, f"frames {r['frames']} < {FRAMES}")
    check(classes(r) == r["frames"], f"classes do not add up: {r}")
    check(r["timeouts"] > 0, f"nodata 0.3 gave no timeout: {r}")
    check(r["triggers"] == 0 and r["lost_triggers"] == 0, f"triggers in continuous mode: {r}")
    check(0 < r["leased"] <= r["complete"], f"{r}")


def test_text_output_names_mode_and_classes():
    p = grab("auto", json_out=False)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-2000:]}")
    out = p.stdout
    check("software acquisition" in out, f"no mode in: {out}")
    for word in ("complete", "timeouts", "incomplete", "disconnected", "fatal", "dropped",
                 "restarts", "reopens", "triggers", "lost triggers", "stale", "uncertain"):
        check(word in out, f"'{word}' missing in: {out}")


def test_fault_refused_where_it_cannot_apply():
    d = workdir()
    p = run(["grab", "--camera", "aravis", "--fault", "nodata:0.1"], d, timeout=60)
    check(p.returncode == 2, f"exit {p.returncode}: {p.stderr}")
    p = run(["grab", "--fault", "stage-error:0.1"], d, timeout=60)
    check(p.returncode == 2 and "no stage" in p.stderr, f"{p.returncode}: {p.stderr}")
    p = run(["grab", "--fault", "nodata:2"], d, timeout=60)
    check(p.returncode == 2 and "nodata:2" in p.stderr, f"{p.returncode}: {p.stderr}")


if __name__ == "__main__":
    main([test_software_nodata, test_continuous_nodata, test_text_output_names_mode_and_classes,
          test_fault_refused_where_it_cannot_apply])
