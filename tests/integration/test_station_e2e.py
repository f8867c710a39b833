"""probevision run through the real drivers against probevision sim on
loopback: the aravis camera (GigE Vision) and the sentio stage (SENTIO over
TCP). Every process is started and stopped here; one GigE Vision camera per
address, so Meson runs this through tests/netns-run (a private network
namespace of its own)."""
import os
import signal
import socket
import subprocess
import sys
import time
from pvtest import BIN, Failure, check, main, points, recorded, run, workdir

SKIP = 77


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def built_with_aravis():
    r = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    return "aravis: yes" in r.stdout


class Simulator:
    """probevision sim as a subprocess; stopped in every exit path."""

    def __init__(self, d, port, faults=(), extra=()):
        """extra: more arguments of `probevision sim` (--config, --truth-log)."""
        self.d, self.port, self.faults, self.extra = d, port, list(faults), list(extra)
        self.p = None
        self.log = open(os.path.join(d, "sim.log"), "a")

    def start(self):
        args = [BIN, "sim", "--address", "127.0.0.1", "--stage-port", str(self.port)]
        args += self.extra
        for f in self.faults:
            args += ["--fault", f]
        self.p = subprocess.Popen(args, cwd=self.d, stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            check(self.p.poll() is None, f"simulator exited early: {self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise Failure("simulator did not listen")

    def kill(self, sig=signal.SIGKILL):
        if self.p and self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def tail(self):
        self.log.flush()
        with open(os.path.join(self.d, "sim.log")) as f:
            return f.read()[-1500:]


def run_args(port, n, extra=()):
    return ["run", "--camera", "aravis:127.0.0.1", "--stage", f"sentio:127.0.0.1:{port}",
            "--points", str(n), "--db", "r.db", "--set", "camera.width=2048",
            "--set", "camera.height=2048"] + list(extra)


def thirty_points_through_aravis_and_sentio():
    d = workdir()
    port = free_port()
    sim = Simulator(d, port)
    try:
        sim.start()
        r = run(run_args(port, 30), cwd=d, timeout=300)
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}\nsim: {sim.tail()}")
        pts = points(os.path.join(d, "r.db"))
        check(len(pts) == 30 and all(p["status"] == "ok" for p in pts),
              f"statuses {[p['status'] for p in pts]}")
        check(all(p["residual_um"] <= 2.0 for p in pts), "residual above tolerance")
        check(all(p["truth_error_um"] is None for p in pts), "truth recorded for a real stage")
    finally:
        sim.kill(signal.SIGTERM)


def faults_are_survived_and_logged():
    d = workdir()
    port = free_port()
    sim = Simulator(d, port, ["nodata:0.2", "stall:3", "stage-error:0.05", "seed:7"])
    try:
        sim.start()
        r = run(run_args(port, 30, ["--set", "camera.timeout_ms=500",
                                    "--set", "camera.retries_before_restart=2",
                                    "--set", "align.frame_retries=6"]), cwd=d, timeout=600)
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2500:]}")
        pts = points(os.path.join(d, "r.db"))
        check(len(pts) == 30 and all(p["status"] == "ok" for p in pts),
              f"statuses {[p['status'] for p in pts]}")
        check("restart" in r.stderr.lower(), "no stream restart in the log")
        check("stage move failed" in r.stderr, "no stage retry in the log")
    finally:
        sim.kill(signal.SIGTERM)


def simulator_restart_mid_run():
    d = workdir()
    port = free_port()
    sim = Simulator(d, port)
    try:
        sim.start()
        p = subprocess.Popen([BIN] + run_args(port, 30, ["--set", "stage.retries=10",
                                                         "--set", "align.frame_retries=20"]),
                             cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        db = os.path.join(d, "r.db")
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            if recorded(db) >= 5:
                break
            time.sleep(0.2)
        if p.poll() is not None:
            _, err = p.communicate()
            check(False, f"run ended (exit {p.returncode}) before the simulator was killed: {err[-1500:]}")
        sim.kill()
        time.sleep(2)
        sim.start()
        out, err = p.communicate(timeout=400)
        check(p.returncode == 0, f"exit {p.returncode}: statuses {[x['status'] for x in points(db)]}: " + "\n".join(l for l in err.splitlines() if "WARN" in l or "ERROR" in l)[-3000:])
        pts = points(db)
        check(len(pts) == 30 and all(x["status"] == "ok" for x in pts),
              f"statuses {[x['status'] for x in pts]}")
        check("reopen" in err.lower() or "reconnect" in err.lower(), "no reconnection logged")
    finally:
        sim.kill(signal.SIGTERM)


if __name__ == "__main__":
    if not built_with_aravis():
        print("skipped: probevision built without Aravis")
        sys.exit(SKIP)
    main([thirty_points_through_aravis_and_sentio, faults_are_survived_and_logged,
          simulator_restart_mid_run])
