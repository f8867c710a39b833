#!/usr/bin/env python3
"""layering: the include arrows between modules go one way.

Checks every #include "..." in src/<module>/ and include/probevision/:
  1. A module includes its own folder's headers by plain name, and other
     modules only through their public header (probevision/<name>.h); never
     another module's internal header ("stage/sentio_internal.h",
     "../stage/x.h"). The build enforces the usual form (each module sees
     only its own folder and include/); this also catches "../" paths.
  2. A public header belongs to the module of its name (sentio.h: stage);
     a module (its sources and its public header) includes only modules of
     a lower rank in RANK: no cycles, no arrow upwards.
  3. The simulator's headers are included only by the simulator and the
     program (sim.h: src/sim, src/cli; scene.h also by src/scene and by
     src/config, whose [sim] key ranges are the scene's PV_SCENE_*
     constants): driver interfaces (camera.h, stage.h) and the run know
     nothing of scenes, truth sources or faults.
Prints every violation as FILE:LINE: message and exits 1 if there is any.
Usage: test_layering.py [SOURCE_ROOT] (default: PV_SOURCE_DIR or ../..)
"""
import os
import re
import sys

# Lower ranks are lower layers; a module may include only lower ranks.
RANK = {
    "core": 0,
    "image": 1,
    "frame": 2, "scene": 2, "match": 2,
    "camera": 3, "stage": 3, "monitor": 3,
    "config": 3,  # its key ranges are the consuming modules' constants
    "run": 4, "sim": 4,
    "cli": 5,
}
# Public headers that do not carry their module's name.
HEADER_MODULE = {"sentio": "stage"}
# Simulator headers and the modules that may include them.
SIMULATOR_HEADERS = {"scene": {"scene", "sim", "cli", "config"}, "sim": {"sim", "cli"}}
GENERATED = {"cli": {"pv_version.h"}}  # generated into the module's build folder

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield n, m.group(1)


def check(root):
    bad = []
    src = os.path.join(root, "src")
    pub = os.path.join(root, "include", "probevision")
    files = []  # (module, path, own folder or None)
    for mod in sorted(os.listdir(src)):
        d = os.path.join(src, mod)
        if not os.path.isdir(d):
            continue
        if mod not in RANK:
            bad.append(f"{d}: module '{mod}' has no rank in tests/layering/test_layering.py")
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                files.append((mod, os.path.join(d, name), d))
    for name in sorted(os.listdir(pub)):
        if name.endswith(".h"):
            base = name[:-2]
            mod = HEADER_MODULE.get(base, base)
            if mod not in RANK:
                bad.append(f"{os.path.join(pub, name)}: public header of no known module")
                continue
            files.append((mod, os.path.join(pub, name), None))

    for mod, path, own in files:
        rel = os.path.relpath(path, root)
        for n, inc in includes(path):
            where = f"{rel}:{n}"
            if inc.startswith("probevision/") and "/" not in inc[len("probevision/"):]:
                base = inc[len("probevision/"):-2] if inc.endswith(".h") else inc
                if not os.path.exists(os.path.join(pub, base + ".h")):
                    bad.append(f"{where}: {inc}: no such public header")
                    continue
                dep = HEADER_MODULE.get(base, base)
                if base in SIMULATOR_HEADERS and mod not in SIMULATOR_HEADERS[base]:
                    bad.append(f"{where}: module '{mod}' includes the simulator's {inc} "
                               f"(only {', '.join(sorted(SIMULATOR_HEADERS[base]))} may)")
                elif dep != mod and RANK[dep] >= RANK[mod]:
                    bad.append(f"{where}: module '{mod}' (rank {RANK[mod]}) includes {inc} "
                               f"of module '{dep}' (rank {RANK[dep]}): arrows go downwards only")
            elif own is None:
                bad.append(f"{where}: a public header includes {inc}, not a public header")
            elif "/" in inc or inc.startswith("."):
                bad.append(f"{where}: {inc}: another folder's header (only its own "
                           f"folder's headers and probevision/*.h)")
            elif not os.path.exists(os.path.join(own, inc)) and \
                    inc not in GENERATED.get(mod, set()):
                bad.append(f"{where}: {inc}: not a header of src/{mod}/")
    return bad, len(files)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "PV_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    bad, n = check(root)
    for b in bad:
        print(b)
    if n == 0:
        print(f"{root}: no sources found")
        return 1
    print(f"{n} files checked, {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
