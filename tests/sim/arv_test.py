"""Aravis's compliance tool, arv-test-0.8, against `probevision sim`'s GigE
Vision camera: every result line must be SUCCESS (any FAILURE or IGNORED
fails), and the acquisition checks (frame rate, single frame, software
trigger, multiple acquisitions) must be among them. Run inside a private
network namespace (tests/netns-run): the camera is alone on 127.0.0.1:3956.
Exit 77 (skipped) without arv-test-0.8 (Debian: aravis-tools)."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("PV_BIN", "build/probevision")
CFG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arv-test.cfg")
MUST = ["Genicam:Load", "Genicam:Schema", "Properties:SensorSizeCheck",
        "MultipleAcquisitionA:BufferCheck", "MultipleAcquisitionA:FrameRate",
        "SingleAcquisition:BufferCheck", "SoftwareTrigger:BufferCheck",
        "MultipleAcquisitionB:BufferCheck", "MultipleAcquisitionB:FrameRate",
        "GigEVision:StreamChannel"]


def main():
    tool = shutil.which("arv-test-0.8")
    if tool is None:
        print("skipped: arv-test-0.8 is not installed (Debian: aravis-tools)")
        return 77
    d = tempfile.mkdtemp(prefix="pv-arvtest-")
    log = open(os.path.join(d, "sim.log"), "w")
    sim = subprocess.Popen([BIN, "sim", "--stage-port", "0"], cwd=d, stdout=log, stderr=log)
    try:
        deadline = time.time() + 20
        while "sim: serving" not in open(os.path.join(d, "sim.log")).read():
            if sim.poll() is not None or time.time() > deadline:
                print("probevision sim did not start:\n" + open(os.path.join(d, "sim.log")).read())
                return 1
            time.sleep(0.1)
        r = subprocess.run([tool, "-c", CFG], capture_output=True, text=True, timeout=300)
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=10)
        log.close()
    out = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
    print(out)
    results = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+:\S+)\s+(SUCCESS|FAILURE|IGNORED)\b", line)
        if m:
            results[m.group(1)] = m.group(2)
    bad = {k: v for k, v in results.items() if v != "SUCCESS"}
    missing = [k for k in MUST if k not in results]
    if r.returncode != 0 or bad or missing or "Found 1 device" not in out:
        print(f"FAILED: exit {r.returncode}, not SUCCESS: {bad}, missing: {missing}")
        print(r.stderr[-3000:])
        print("sim log:\n" + open(os.path.join(d, "sim.log")).read()[-3000:])
        return 1
    print(f"ok: {len(results)} results, all SUCCESS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
