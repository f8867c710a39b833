"""probevision template and probevision match, through files."""
import json
import os
import random
from pvtest import check, main, run, workdir


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    check(parts[0] == b"P5", "template.pgm is not P5")
    w, h, maxval = int(parts[1]), int(parts[2]), int(parts[3])
    return w, h, parts[4][: w * h]


def write_pgm(path, w, h, pix):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w, h) + bytes(pix))


def match_finds_planted_templates():
    d = workdir()
    r = run(["template", "--out", "t.pgm"], cwd=d)
    check(r.returncode == 0, f"template exit {r.returncode}: {r.stderr}")
    tw, th, tpl = read_pgm(os.path.join(d, "t.pgm"))
    check((tw, th) == (128, 128), f"template {tw}x{th}")
    rng = random.Random(7)
    W, H = 640, 480
    img = [rng.randrange(90, 110) for _ in range(W * H)]
    spots = [(40, 30), (400, 300), (250, 120)]
    for (u, v) in spots:
        for j in range(th):
            for i in range(tw):
                img[(v + j) * W + u + i] = tpl[j * tw + i]
    write_pgm(os.path.join(d, "img.pgm"), W, H, img)
    r = run(["match", "img.pgm", "t.pgm", "--json", "--repeat", "3"], cwd=d)
    check(r.returncode == 0, f"match exit {r.returncode}: {r.stderr}")
    out = json.loads(r.stdout)
    check(out["ms"] > 0, "ms missing")
    found = sorted((round(m["x"] - (tw - 1) / 2), round(m["y"] - (th - 1) / 2)) for m in out["matches"])
    check(found == sorted(spots), f"found {found}, planted {sorted(spots)}")
    check(all(m["score"] > 0.99 for m in out["matches"]), "planted copies score below 0.99")


def help_and_version():
    d = workdir()
    r = run(["--version"], cwd=d)
    check(r.returncode == 0 and r.stdout.startswith("probevision "), r.stdout)
    r = run(["help", "config"], cwd=d)
    check(r.returncode == 0 and "align.tolerance_um" in r.stdout, "config reference missing keys")
    r = run(["nonsense"], cwd=d)
    check(r.returncode == 2, f"unknown command exit {r.returncode}")


main([match_finds_planted_templates, help_and_version])
