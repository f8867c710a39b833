"""Bad input gives exit 2 and a message naming where it was found."""
import os
from pvtest import check, main, run, workdir


def expect_usage_error(args, d, where):
    r = run(args, cwd=d)
    check(r.returncode == 2, f"{args}: exit {r.returncode}, want 2; stderr {r.stderr[-500:]}")
    check(where in r.stderr, f"{args}: message lacks {where!r}: {r.stderr[-500:]}")
    check("Traceback" not in r.stderr and "Sanitizer" not in r.stderr, "crash")
    return r


def write(d, name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(d, name), mode) as f:
        f.write(data)


def garbled_targets():
    d = workdir()
    write(d, "t.csv", "index,x_um,y_um\n0,250,220\n1,12x5,220\n")
    expect_usage_error(["run", "--speed", "0", "--targets", "t.csv", "--db", "r.db"], d, "t.csv:3")
    write(d, "u.csv", "index,x_um,y_um,colour\n0,1,2,red\n")
    expect_usage_error(["run", "--speed", "0", "--targets", "u.csv", "--db", "r.db"], d, "u.csv:1")
    write(d, "dup.csv", "index,x_um,y_um\n0,250,220\n0,1250,220\n")
    expect_usage_error(["run", "--speed", "0", "--targets", "dup.csv", "--db", "r.db"], d, "dup.csv:3")
    check(not os.path.exists(os.path.join(d, "r.db")) or os.path.getsize(os.path.join(d, "r.db")) >= 0, "")


def binary_targets():
    d = workdir()
    write(d, "b.csv", bytes(range(256)) * 8)
    expect_usage_error(["run", "--speed", "0", "--targets", "b.csv", "--db", "r.db"], d, "b.csv:")


def bad_config_values():
    d = workdir()
    write(d, "c.ini", "[camera]\nbuffers = 4\n\n[align]\ntolerance_um = fast\n")
    expect_usage_error(["run", "--speed", "0", "--config", "c.ini", "--db", "r.db"], d, "c.ini:5")
    write(d, "k.ini", "[align]\ntolerance = 2\n")
    expect_usage_error(["run", "--speed", "0", "--config", "k.ini", "--db", "r.db"], d, "k.ini:2")
    write(d, "r.ini", "[camera]\nbuffers = 1000\n")
    expect_usage_error(["run", "--speed", "0", "--config", "r.ini", "--db", "r.db"], d, "r.ini:2")
    expect_usage_error(["run", "--speed", "fast", "--db", "r.db"], d, "--speed")
    expect_usage_error(["run", "--frobnicate"], d, "--frobnicate")


def unreadable_template():
    d = workdir()
    write(d, "t.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    write(d, "c.ini", "[match]\ntemplate = t.png\n")
    r = expect_usage_error(["run", "--speed", "0", "--config", "c.ini", "--db", "r.db"], d, "t.png")
    check("c.ini:2" in r.stderr, f"message does not name c.ini:2: {r.stderr[-300:]}")
    write(d, "m.ini", "[match]\ntemplate = missing.png\n")
    r = expect_usage_error(["run", "--speed", "0", "--config", "m.ini", "--db", "r.db"], d, "missing.png")
    check("m.ini:2" in r.stderr, f"message does not name m.ini:2: {r.stderr[-300:]}")
    check(not os.path.exists(os.path.join(d, "r.db")), "bad input created the journal")
    expect_usage_error(["match", "t.png", "t.png"], d, "t.png")


main([garbled_targets, binary_targets, bad_config_values, unreadable_template])
