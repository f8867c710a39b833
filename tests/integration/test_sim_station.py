"""`probevision sim` end to end: the SENTIO server answers over TCP, the
GigE Vision camera delivers frames to `probevision grab --camera aravis`,
faults are injected and logged, SIGTERM stops it with exit 0, and a bad
--fault spec is refused. The simulator binds 127.0.0.1:3956: Meson runs this through
tests/netns-run (a private network namespace).
Exits 77 (skipped) when probevision was built without Aravis."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pvtest
from pvtest import check

BIN = pvtest.BIN


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sim:
    """A `probevision sim` subprocess whose log goes to a file."""

    def __init__(self, cwd, *extra):
        self.cwd = cwd
        self.port = free_port()
        self.log_path = os.path.join(cwd, f"sim-{self.port}.log")
        self.args = [BIN, "sim", "--stage-port", str(self.port)] + list(extra)
        self.proc = None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def start(self, deadline_s=30):
        """Starts it and waits for its start-up line; retries while another
        GigE Vision camera holds 127.0.0.1:3956."""
        end = time.time() + deadline_s
        while True:
            with open(self.log_path, "w") as log:
                self.proc = subprocess.Popen(self.args, cwd=self.cwd, stdout=log,
                                             stderr=subprocess.STDOUT)
            while time.time() < end:
                if "sim: serving" in self.log():
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
            rc = self.proc.poll()
            if rc is None:
                raise pvtest.Failure("simulator did not start in time:\n" + self.log())
            if "GVCP port 3956" not in self.log() or time.time() > end:
                raise pvtest.Failure(f"simulator exited {rc}:\n" + self.log())
            time.sleep(1)  # another camera on the port: try again

    def stop(self):
        """SIGTERM; returns the exit code (kills after 10 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Sentio:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rwb")

    def send(self, line):
        self.f.write((line + "\n").encode())
        self.f.flush()

    def ask_raw(self, line):
        self.send(line)
        reply = self.f.readline().decode()
        check(reply.endswith("\n"), f"{line!r}: no complete reply: {reply!r}")
        return reply.strip()

    def ask(self, line):
        """A command answered "errc_stat,cmdId,message...": (error code, fields)."""
        fields = self.ask_raw(line).split(",")
        code = int(fields[0]) & 0x3FF
        return code, fields

    def close(self):
        self.f.close()
        self.sock.close()


def grab(cwd, frames, size):
    r = pvtest.run(["grab", "--camera", "aravis:127.0.0.1", "--frames", str(frames), "--json",
                    "--set", f"camera.width={size}", "--set", f"camera.height={size}"],
                   cwd, timeout=120)
    check(r.returncode == 0, f"grab exited {r.returncode}:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_bad_fault_spec_is_a_usage_error():
    d = pvtest.workdir()
    for spec in ["nodata:1.5", "stall", "packet-loss:x", "explode:1"]:
        r = pvtest.run(["sim", "--stage-port", str(free_port()), "--fault", spec], d, timeout=30)
        check(r.returncode == 2, f"--fault {spec}: exit {r.returncode}, want 2")
        check(spec in r.stderr, f"--fault {spec}: message does not name it: {r.stderr}")


def test_stage_and_camera_are_served_and_sigterm_stops():
    d = pvtest.workdir()
    sim = Sim(d)
    try:
        sim.start()
        s = Sentio(sim.port)
        s.send("*RCS 1")
        idn = s.ask_raw("*IDN?")
        check(len(idn) > 3, f"*IDN? reply {idn!r}")
        code, f = s.ask("move_chuck_xy Zero, 1250, 220")
        check(code == 0, f"move answered {f}")
        code, f = s.ask("get_chuck_xy")
        check(code == 0, f"get_chuck_xy answered {f}")
        x, y = float(f[-2]), float(f[-1])
        check(abs(x - 1250) < 1e-6 and abs(y - 220) < 1e-6, f"position {x}, {y}")
        code, f = s.ask("no_such_command 1")
        check(code != 0, f"unknown command answered success: {f}")
        s.close()

        g = grab(d, 20, 1024)
        check(g["frames"] >= 20 and g["complete"] == g["frames"], f"grab: {g}")
        check(g["width"] == 1024 and g["height"] == 1024, f"grab size: {g}")
        check(g.get("bad_frames", 0) == 0, f"grab: {g}")

        rc = sim.stop()
        check(rc == 0, f"simulator exit {rc} after SIGTERM:\n{sim.log()}")
        check("SIGTERM received" in sim.log(), "no stop line in the log")
    finally:
        sim.kill()


def test_faults_are_injected_and_logged():
    d = pvtest.workdir()
    sim = Sim(d, "--fault", "nodata:0.3", "--fault", "packet-loss:5", "--fault", "seed:7")
    try:
        sim.start()
        for spec in ["nodata:0.3", "packet-loss:5", "seed:7"]:
            check(f"sim: fault {spec} armed" in sim.log(), sim.log())
        g = grab(d, 40, 256)
        check(g["frames"] >= 40, f"grab: {g}")
        check(g["complete"] + g["incomplete"] + g["timeouts"] == g["frames"], f"grab: {g}")
        check(g["complete"] >= 1, f"grab: {g}")
        check(g.get("missing_frames", 0) > 0, f"no frame went missing: {g}")
        check("fault nodata" in sim.log(), "no nodata fault in the log:\n" + sim.log())
        rc = sim.stop()
        check(rc == 0, f"simulator exit {rc} after SIGTERM")
    finally:
        sim.kill()


if __name__ == "__main__":
    r = subprocess.run([BIN, "sim", "--help"], capture_output=True, text=True, timeout=30)
    if "GigE Vision camera: available" not in r.stdout:
        print("skip: probevision built without Aravis")
        sys.exit(77)
    pvtest.main([test_bad_fault_spec_is_a_usage_error,
                 test_stage_and_camera_are_served_and_sigterm_stops,
                 test_faults_are_injected_and_logged])
