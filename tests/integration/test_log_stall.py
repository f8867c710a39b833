"""No thread waits on the log stream: a run whose stderr nobody reads keeps
its points and its frame rate, and a run whose stderr is closed after two
lines (`probevision run 2>&1 | head -n 2`) records every point and exits
with its normal code, not SIGPIPE."""
import fcntl
import os
import re
import signal
import subprocess
import threading
import time

from pvtest import BIN, check, main, recorded, workdir

WINDOW_S = 10
RUN = ["run", "--speed", "1", "--points", "2000", "--set", "monitor.interval_s=1",
       "--set", "camera.width=1224", "--set", "camera.height=1024"]
LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[(DEBUG|INFO|WARN|ERROR)\] ")
FPS = re.compile(r"\] \[INFO\] mem: .* frames \d+ \(([0-9.]+) fps\)")


def full_pipe():
    """A pipe already full, as a reader that stopped reading leaves it: the
    first write to it blocks. Returns (read fd, write fd, bytes in it)."""
    r, w = os.pipe()
    flags = fcntl.fcntl(w, fcntl.F_GETFL)
    fcntl.fcntl(w, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    filled = 0
    try:
        while True:
            filled += os.write(w, b"-" * 4096)
    except BlockingIOError:
        pass
    fcntl.fcntl(w, fcntl.F_SETFL, flags)  # the run gets a blocking stderr
    return r, w, filled


def drain(fd, into):
    """Reads fd to EOF into the list `into` (a thread)."""
    def loop():
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            into.append(b)
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def points_in_window(d, db, stderr_fd):
    """Starts the run, waits for its first point (at most 60 s), then counts
    the points journalled in the next WINDOW_S seconds. Returns (process,
    points at the window's start, points gained)."""
    p = subprocess.Popen([BIN] + RUN + ["--db", db], cwd=d, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=stderr_fd)
    give_up = time.time() + 60
    while recorded(os.path.join(d, db)) == 0 and time.time() < give_up and p.poll() is None:
        time.sleep(0.05)
    n0 = recorded(os.path.join(d, db))
    if n0 == 0:
        p.kill()
        p.wait()
        return p, 0, 0
    time.sleep(WINDOW_S)
    return p, n0, recorded(os.path.join(d, db)) - n0


def monitor_fps(lines):
    """The frame rates of the monitor lines, but the first (start-up)."""
    return [float(m.group(1)) for m in map(FPS.search, lines) if m][1:]


def median(xs):
    return sorted(xs)[len(xs) // 2] if xs else 0.0


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def unread_stderr_keeps_points_and_frame_rate():
    d = workdir()
    # The reference: the same run with its stderr read all along.
    r, w = os.pipe()
    ref_out = []
    t = drain(r, ref_out)
    p, _, ref_gain = points_in_window(d, "ref.db", w)
    os.close(w)
    stop(p)
    t.join(timeout=30)
    os.close(r)
    check(ref_gain >= 5, f"the reference run recorded {ref_gain} points in {WINDOW_S} s")
    ref_fps = monitor_fps(b"".join(ref_out).decode("utf-8", "replace").splitlines())

    # The same run with a full stderr pipe that nobody reads for the window.
    r, w, filled = full_pipe()
    p, n0, gain = points_in_window(d, "stall.db", w)
    os.close(w)
    out = []
    t = drain(r, out)  # read from now on
    if n0 == 0:
        t.join(timeout=30)
        os.close(r)
    check(n0 > 0, f"no point recorded while stderr was not read (exit {p.returncode})")
    time.sleep(3)  # monitor lines from after the stall, too
    code = stop(p)
    t.join(timeout=30)
    os.close(r)
    check(code == 1, f"SIGTERM: exit {code}, want 1")
    check(gain >= ref_gain // 2,
          f"{gain} points in {WINDOW_S} s with stderr unread, {ref_gain} while it was read")

    text = b"".join(out).decode("utf-8", "replace")
    check(text.startswith("-" * filled), "the pipe's earlier content was not first")
    lines = text[filled:].splitlines()
    bad = [ln for ln in lines if not LINE.match(ln)]
    check(not bad, f"lines not whole: {bad[:3]}")
    fps = monitor_fps(lines)
    check(len(fps) >= WINDOW_S // 2, f"{len(fps)} monitor lines: {lines[-5:]}")
    # The camera's 16 fps, or what this machine gave the reference run.
    check(median(fps) >= 0.8 * min(16.0, median(ref_fps)),
          f"monitor fps {fps} with stderr unread, {ref_fps} while it was read")
    print(f"points in {WINDOW_S} s: {gain} unread, {ref_gain} read; median fps "
          f"{median(fps)} unread, {median(ref_fps)} read")


def closed_stderr_after_two_lines_keeps_every_point():
    d = workdir()
    p = subprocess.Popen([BIN, "run", "--speed", "0", "--points", "20", "--db", "r.db"],
                         cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    first = [p.stdout.readline() for _ in range(2)]  # like `| head -n 2`
    p.stdout.close()
    try:
        code = p.wait(timeout=300)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        code = None
    check(all(LINE.match(ln.decode()) for ln in first), f"first lines {first}")
    check(code == 0, f"exit {code}, want 0 (-{signal.SIGPIPE} is SIGPIPE)")
    n = recorded(os.path.join(d, "r.db"))
    check(n == 20, f"{n} points recorded, want 20")


def shell_pipe_into_head():
    """The same through a shell, as a user types it."""
    d = workdir()
    r = subprocess.run(["bash", "-c", f"'{BIN}' run --speed 0 --points 20 --db r.db 2>&1 "
                        "| head -n 2; echo \"exit ${PIPESTATUS[0]}\""],
                       cwd=d, capture_output=True, text=True, timeout=300)
    out = r.stdout.splitlines()
    check(len(out) == 3 and out[2] == "exit 0", f"output {out}")
    n = recorded(os.path.join(d, "r.db"))
    check(n == 20, f"{n} points recorded, want 20")


main([unread_stderr_keeps_points_and_frame_rate, closed_stderr_after_two_lines_keeps_every_point,
      shell_pipe_into_head])
