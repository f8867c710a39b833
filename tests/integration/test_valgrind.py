"""valgrind --leak-check=full on a short simulated run (3 points, 640x512):
no memory errors and 0 bytes definitely or indirectly lost. Skips (77) when
valgrind is not installed. Never registered under the sanitizer builds
(suite 'nosan'): ASan and valgrind do not mix.

valgrind runs one thread at a time and its default hand-over is not fair: at
--speed 0 the camera thread renders frames back to back and never blocks, and
valgrind may hand the lock back to it for minutes while the main thread waits
to create the next one (seen in CI: no point in 20 minutes). --fair-sched=yes
queues the threads in order; the run then takes about 10 s."""
import os
import re
import shutil
import subprocess
import sys
from pvtest import BIN, check, main, workdir

VALGRIND = shutil.which("valgrind")


def lost_bytes(log, kind):
    """Bytes of the leak summary's `kind lost:` line (0 when valgrind printed
    no leak summary at all because nothing was allocated at exit)."""
    m = re.search(kind + r" lost: ([\d,]+) bytes", log)
    if m is None:
        check("All heap blocks were freed" in log, f"no '{kind} lost' line in the valgrind log")
        return 0
    return int(m[1].replace(",", ""))


def short_run_is_clean_under_valgrind():
    d = workdir()
    log = os.path.join(d, "valgrind.log")
    r = subprocess.run([VALGRIND, "--fair-sched=yes", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                        "--error-exitcode=9", f"--log-file={log}", BIN, "run", "--speed", "0",
                        "--points", "3", "--set", "camera.width=640", "--set",
                        "camera.height=512", "--db", "r.db"],
                       cwd=d, capture_output=True, text=True, timeout=400)
    with open(log) as f:
        text = f.read()
    print("     " + "\n     ".join(l for l in text.splitlines()
                                  if "lost:" in l or "ERROR SUMMARY" in l or "in use at exit" in l))
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-1500:]}\n{text[-3000:]}")
    check("ERROR SUMMARY: 0 errors" in text, f"valgrind reported errors:\n{text[-3000:]}")
    check(lost_bytes(text, "definitely") == 0, "bytes definitely lost")
    check(lost_bytes(text, "indirectly") == 0, "bytes indirectly lost")
    check("3 points" in r.stdout, f"the run did not record 3 points: {r.stdout}")


if VALGRIND is None:
    print("valgrind not installed: skipped")
    sys.exit(77)
main([short_run_is_clean_under_valgrind])
