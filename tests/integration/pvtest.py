"""Shared helpers of the integration tests: run the real probevision binary
(PV_BIN, set by Meson) in a fresh temporary directory, read the real SQLite
journal, sample the real process's memory from outside."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("PV_BIN", "build/probevision")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def workdir():
    d = tempfile.mkdtemp(prefix="pv-it-")
    return d


def run(args, cwd, timeout=600, **kw):
    """Runs probevision with args; returns CompletedProcess (text)."""
    return subprocess.run([BIN] + list(args), cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **kw)


def points(db, run_id=None):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    if run_id is None:
        rows = con.execute("SELECT * FROM points ORDER BY run_id, idx").fetchall()
    else:
        rows = con.execute("SELECT * FROM points WHERE run_id=? ORDER BY idx",
                           (run_id,)).fetchall()
    con.close()
    return [dict(r) for r in rows]


def runs(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM runs ORDER BY id")]
    con.close()
    return rows


def recorded(db):
    """Points recorded so far in db (0 while it does not exist yet)."""
    try:
        con = sqlite3.connect(db, timeout=5)
        n = con.execute("SELECT count(*) FROM points").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


def rss_kb(pid):
    """VmRSS of pid in kB from /proc (None once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def main(tests):
    """Runs each test function; prints one line each; exit 1 on failure."""
    failed = 0
    for t in tests:
        start = time.time()
        try:
            t()
            print(f"ok   {t.__name__} ({time.time() - start:.1f} s)")
        except Failure as e:
            failed += 1
            print(f"FAIL {t.__name__}: {e}")
        sys.stdout.flush()
    sys.exit(1 if failed else 0)
