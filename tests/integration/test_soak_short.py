"""The CI soak: bench/soak.py --short (640x512, 5,000 camera frames, at least
200 points) on the built binary (PV_BIN). It passes only when RSS grows at
most 1 MB after the 20% mark, no point is lost or recorded twice, and the run
stops cleanly on SIGTERM (exit 1, resumable); the figures it prints land in
the test log."""
import os
import subprocess
import sys
from pvtest import BIN

SOAK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "soak.py")

r = subprocess.run([sys.executable, SOAK, "--short", "--bin", BIN], capture_output=True,
                   text=True, timeout=900)
print(r.stdout + r.stderr)
if r.returncode != 0 or "\nPASS" not in r.stdout:
    print(f"FAIL soak --short: exit {r.returncode}")
    sys.exit(1)
print("ok   soak_short")
