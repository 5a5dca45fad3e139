#!/usr/bin/env python3
# tests/layering.py: the layers of src/ (DESIGN.md "Layers") as a rule the test suite enforces,
# so that an upward include fails here instead of waiting for a reviewer.
#
#   bus < protocol < services < widgets < customer, agent      (customer and agent are peers)
#   server uses bus and protocol only
#
# Every `#include "layer/…"` in src/LAYER/ must name LAYER itself or a layer it may use, and the
# layers below widgets never include GTK or libadwaita (they are tested headless). Before it
# reads src/, the test checks itself on a scratch tree holding one upward include, so it cannot
# pass by reading nothing. TAP output, one line per check.
import os
import re
import sys
import tempfile

ALLOWED = {
    "bus": {"bus"},
    "protocol": {"bus", "protocol"},
    "services": {"bus", "protocol", "services"},
    "widgets": {"bus", "protocol", "services", "widgets"},
    "customer": {"bus", "protocol", "services", "widgets", "customer"},
    "agent": {"bus", "protocol", "services", "widgets", "agent"},
    "server": {"bus", "protocol", "server"},
}
HEADLESS = {"bus", "protocol", "services", "server"}
GTK_INCLUDE = re.compile(r'#\s*include\s*<(gtk|gdk|adwaita|adw)[/.]')
LOCAL_INCLUDE = re.compile(r'#\s*include\s*"([^"/]+)/[^"]*"')


def violations(src):
    found = []
    layers = 0
    for layer in sorted(os.listdir(src)):
        path = os.path.join(src, layer)
        if not os.path.isdir(path):
            continue
        if layer not in ALLOWED:
            found.append(f"src/{layer}/ is not a layer DESIGN.md knows (add it to tests/layering.py)")
            continue
        layers += 1
        for top, _, files in os.walk(path):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                file = os.path.join(top, name)
                shown = os.path.relpath(file, os.path.dirname(src))
                with open(file, encoding="utf-8") as text:
                    for number, line in enumerate(text, 1):
                        include = LOCAL_INCLUDE.search(line)
                        if include and include.group(1) not in ALLOWED[layer]:
                            found.append(f"{shown}:{number}: {layer}/ includes "
                                         f"{include.group(1)}/ ({line.strip()})")
                        if layer in HEADLESS and GTK_INCLUDE.search(line):
                            found.append(f"{shown}:{number}: {layer}/ must not include GTK "
                                         f"({line.strip()})")
    return layers, found


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    failed = 0
    print("1..2")

    # The check on a scratch tree: a service that climbs into widgets/ must be found.
    with tempfile.TemporaryDirectory() as scratch:
        for layer in ("services", "widgets"):
            os.makedirs(os.path.join(scratch, layer))
        with open(os.path.join(scratch, "services", "cx-climbs.c"), "w") as out:
            out.write('#include "services/cx-http.h"\n#include "widgets/cx-webchat.h"\n'
                      '#include <gtk/gtk.h>\n')
        _, found = violations(scratch)
        if len(found) == 2:
            print("ok 1 - an upward include and GTK in services/ of a scratch tree are found")
        else:
            failed += 1
            print("not ok 1 - the scratch tree's two violations were not both found:", found)

    layers, found = violations(os.path.normpath(src))
    if layers < len(ALLOWED) - 1:
        failed += 1
        print(f"not ok 2 - only {layers} layers found under {src}")
    elif found:
        failed += 1
        print(f"not ok 2 - {len(found)} includes climb the layers")
        for line in found:
            print("# " + line)
    else:
        print(f"ok 2 - every include in {layers} layers of src/ stays in its layer or below")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
