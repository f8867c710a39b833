"""`probevision sim`'s SENTIO server driven by a client written from MPI's
documented remote-command protocol (the public sentio-prober-control
package and its examples), not probevision's own client: one command per
"\\n"-terminated line, replies "errc,cmdId,message" with the error code in
the low 10 bits and status bits above (EndOfRoute 1, LastSite 2, shifted
by 10), no reply to '*' commands without '?', "*RCS 1" then
"status:get_version" at connect. Checked: the version handshake, every XY
reference, positions, contact/separation/home, MPI's error codes for bad
and out-of-range commands, "*LOCAL"/"*RCS 1" keeping replies in step, map
stepping to EndOfRoute, an asynchronous initialization with query, wait
and abort, and two clients at once. The simulator also serves a GigE
Vision camera on 127.0.0.1:3956: Meson runs this through tests/netns-run."""
import os
import re
import socket

import pvtest
from pvtest import check
from test_sim_station import Sim

# The simulated station (documented in src/sim/sentio_commands.c), for the
# 3 x 2 map of the configuration below: offsets of each reference's origin
# in Zero (the wafer's origin, the stage's frame).
COLS, ROWS, PITCH_X, PITCH_Y, MARK_X, MARK_Y = 3, 2, 1000.0, 900.0, 250.0, 220.0
ORIGIN = {"M": (-150000.0, -150000.0), "H": (MARK_X, MARK_Y),
          "C": (COLS * PITCH_X / 2, ROWS * PITCH_Y / 2), "Z": (0.0, 0.0),
          "U": (PITCH_X / 2, PITCH_Y / 2)}
LONG = {"M": "Machine", "H": "Home", "C": "Center", "Z": "Zero", "U": "User"}
END_OF_ROUTE, LAST_SITE = 1, 2


class Response:
    """A reply as MPI's Response.parse_resp reads it."""

    def __init__(self, line):
        tok = line.split(",", 2)
        check(len(tok) == 3, f"reply is not errc,cmdId,message: {line!r}")
        self.errc = int(tok[0]) & 1023
        self.stat = (int(tok[0]) & ~1023) >> 10
        self.cmd_id = int(tok[1])
        self.msg = tok[2].rstrip()
        self.line = line


class Station:
    """A SENTIO client over TCP as MPI's CommunicatorTcpIp: send a line,
    read a line."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def send(self, cmd):
        self.sock.sendall((cmd + "\n").encode())

    def read_line(self):
        line = self.f.readline().decode()
        check(line.endswith("\n"), f"no complete reply line: {line!r}")
        return line.rstrip("\r\n")

    def ask(self, cmd):
        self.send(cmd)
        return Response(self.read_line())

    def ok(self, cmd):
        r = self.ask(cmd)
        check(r.errc == 0, f"{cmd!r}: {r.line!r}")
        return r

    def err(self, cmd, errc):
        r = self.ask(cmd)
        check(r.errc == errc, f"{cmd!r}: {r.line!r}, want error {errc}")
        return r

    def xy(self, cmd):
        tok = self.ok(cmd).msg.split(",")
        return float(tok[0]), float(tok[1])

    def nothing_pending(self):
        self.sock.settimeout(0.2)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            data = b""
        finally:
            self.sock.settimeout(10)
        check(data == b"", f"an unexpected reply: {data!r}")

    def close(self):
        self.f.close()
        self.sock.close()


def connect(port):
    """MPI's handshake: *RCS 1 (no reply), then the version."""
    st = Station(port)
    st.send("*RCS 1")
    version = st.ok("status:get_version").msg
    m = re.search(r"Version:\s*([\d\.]+)", version)
    check(m is not None, f"no 'Version: N.N.N' in {version!r}")
    major, minor = (int(v) for v in m.group(1).split(".")[:2])
    check((major, minor) < (25, 2), f"version {m.group(1)}: not the move_chuck_xy command set")
    return st


def near(a, b):
    return abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-6


def start_sim(d):
    cfg = os.path.join(d, "map.ini")
    with open(cfg, "w") as f:
        f.write(f"[sim]\ncols = {COLS}\nrows = {ROWS}\n")
    sim = Sim(d, "--config", cfg, "--speed", "0.2")  # initialization: 0.3 s
    sim.start()
    return sim


def test_protocol():
    d = pvtest.workdir()
    sim = start_sim(d)
    try:
        st = connect(sim.port)
        st.send("*IDN?")
        idn = st.read_line()
        check(idn.startswith("MPI Corporation,Sentio - Probe System Software Suite,0,"), idn)
        check(st.ok("status:get_machine_status").msg.split(",")[0] == "Ready", "not Ready")

        # every reference, letter and long name, any case: the reply is the
        # new position in that reference, the chuck is where it says
        for ref, (ox, oy) in ORIGIN.items():
            for name in (ref, LONG[ref].lower()):
                x, y = 100.5, -30.25
                if ref == "M":  # the travel's corner is the axes' zero
                    x, y = x + 150000, y + 150000
                got = st.xy(f"move_chuck_xy {name}, {x}, {y}")
                check(near(got, (x, y)), f"move_chuck_xy {name}: {got}")
                got = st.xy(f"get_chuck_xy Wafer, {ref}")
                check(near(got, (x, y)), f"get_chuck_xy Wafer, {ref}: {got}")
                got = st.xy("get_chuck_xy Wafer, Z")
                check(near(got, (x + ox, y + oy)), f"{name}: at {got} in Zero")
        before = st.xy("get_chuck_xy")
        got = st.xy("move_chuck_xy R, 10, -5")
        check(near(got, (before[0] + 10, before[1] - 5)), f"relative: {got}")
        got = st.xy("move_chuck_xy Relative, -10, 5")
        check(near(got, before), f"relative back: {got}")

        # home, contact, separation, heights
        check(near(st.xy("move_chuck_home"), ORIGIN["H"]), "move_chuck_home")
        sep = float(st.ok("move_chuck_separation").msg)
        contact = float(st.ok("move_chuck_contact").msg)
        check(contact > sep, f"contact {contact} not above separation {sep}")
        check(float(st.ok("get_chuck_z C").msg) == 0.0, "get_chuck_z C at contact")
        check("AtContact" in st.ok("status:get_machine_status").msg.split(","), "status")
        st.err("move_chuck_xy Z, 0, 0", 12)  # the interlock
        check(near(st.xy("get_chuck_xy"), ORIGIN["H"]), "a refused move moved the chuck")
        check(float(st.ok("move_chuck_separation").msg) == sep, "separation height")
        check(float(st.ok("get_chuck_z Zero").msg) == sep, "get_chuck_z Zero")
        st.ok("clear_contact Wafer")
        st.err("move_chuck_contact", 23)
        st.ok(f"set_chuck_site_heights Wafer, {contact}, {contact - sep}, 0, 0")
        check(float(st.ok("move_chuck_contact").msg) == contact, "contact after set")
        st.ok("move_chuck_separation")

        # errors, with *LOCAL and *RCS 1 in between (no reply: still in step)
        for cmd, errc in [("move_chuck_xy Z, 1e9, 0", 8), ("move_chuck_xy Q, 1, 2", 6),
                          ("move_chuck_xy Z, one, 2", 6), ("move_chuck_xy Z, 1", 7),
                          ("get_chuck_xy AuxLeft, Z", 13), ("get_chuck_z H", 13),
                          ("no_such_command", 3), ("map:step_die 99, 0", 8),
                          ("query_command_status 4711", 32)]:
            st.send("*LOCAL")
            st.err(cmd, errc)
            st.send("*RCS 1")
        check(near(st.xy("get_chuck_xy"), ORIGIN["H"]), "errors moved the chuck")

        # map stepping to EndOfRoute: row by row, serpentine
        route = [(0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1)]
        for i, (c, r) in enumerate(route):
            resp = st.ok("map:step_first_die" if i == 0 else "map:step_next_die")
            check(resp.msg == f"{c},{r},0", f"step {i}: {resp.line!r}")
            last = i == len(route) - 1
            check(bool(resp.stat & END_OF_ROUTE) == last, f"step {i}: status {resp.stat}")
            check(resp.stat & LAST_SITE, f"step {i}: no LastSite")
            at = st.xy("get_chuck_xy")
            check(near(at, (c * PITCH_X + MARK_X, r * PITCH_Y + MARK_Y)), f"die {c},{r}: at {at}")
            check(st.ok("map:die:get_current_index").msg == f"{i},{c},{r}", "current index")
        resp = st.err("map:step_next_die", 11)
        check(resp.stat & END_OF_ROUTE, f"after the route: {resp.line!r}")
        check(st.ok("map:step_die 1, 1").msg == "1,1,0", "step_die")

        # asynchronous initialization: pending, timeout, done; abort
        cmd_id = st.ok("start_initialization").cmd_id
        check(cmd_id > 0, "no command id")
        check(st.ask(f"query_command_status {cmd_id}").errc == 30, "not pending")
        st.err("move_chuck_xy Z, 0, 0", 12)
        st.err(f"wait_complete {cmd_id}, 0.01", 19)
        r = st.ok(f"wait_complete {cmd_id}, 30")
        check(r.cmd_id == cmd_id, r.line)
        check(st.ask(f"query_command_status {cmd_id}").errc == 0, "not done")
        check(near(st.xy("get_chuck_xy"), ORIGIN["H"]), "initialization ends at home")
        cmd2 = st.ok("start_initialization").cmd_id
        check(cmd2 != cmd_id, "the same id twice")
        st.ok(f"abort_command {cmd2}")
        check(st.ask(f"query_command_status {cmd2}").errc == 31, "not aborted")
        st.err("move_chuck_home", 18)
        cmd3 = st.ok("start_initialization").cmd_id
        st.ok(f"wait_complete {cmd3}, 30")
        check(st.ok("status:get_machine_status").msg.split(",")[0] == "Ready", "not Ready")
        st.nothing_pending()
        st.close()
        check(sim.stop() == 0, "sim exit")
    finally:
        sim.kill()


def test_two_clients():
    d = pvtest.workdir()
    sim = start_sim(d)
    try:
        a, b = connect(sim.port), connect(sim.port)
        for i in range(30):
            # both send before either reads: pipelined and interleaved
            a.send("*LOCAL")
            a.send(f"move_chuck_xy Z, {i * 10}, {i * 5}")
            b.send("*RCS 1")
            b.send("get_chuck_z Zero")
            a.send("get_chuck_xy Wafer, M")
            b.send("status:get_version")
            b.send("get_chuck_site_status Wafer")  # B does not move: A's positions hold
            ra = [Response(a.read_line()) for _ in range(2)]
            rb = [Response(b.read_line()) for _ in range(3)]
            check(ra[0].errc == 0 and ra[0].msg == f"{i * 10:.3f},{i * 5:.3f}", ra[0].line)
            check(ra[1].msg == f"{150000 + i * 10:.3f},{150000 + i * 5:.3f}", ra[1].line)
            check(rb[0].errc == 0 and float(rb[0].msg) > 0, rb[0].line)
            check("Version:" in rb[1].msg, rb[1].line)
            check(rb[2].msg == "1,1,0,1", rb[2].line)
        a.nothing_pending()
        b.nothing_pending()
        a.close()
        b.close()
        check(sim.stop() == 0, "sim exit")
    finally:
        sim.kill()


if __name__ == "__main__":
    pvtest.main([test_protocol, test_two_clients])
