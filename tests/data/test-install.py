#!/usr/bin/env python3
"""test-install.py: `meson install --destdir` of the build tree into a temporary directory, then
the installed files and programs.

Usage: test-install.py BUILD_DIR PREFIX version|window. TAP output.
- version (suite integration): every data file is where the desktop looks for it, translations
  included, and each installed program answers --version.
- window (suite ui, under Xvfb): the installed cxdesk opens a window from the GResource built
  into it and the schema compiled from the installed one, and draws its first frame."""

import glob
import os
import subprocess
import sys
import tempfile

APP = "io.github.cxdesk.CxDesk"
AGENT = APP + ".Agent"
# A hang guard, not a measure: fails naming what did not happen.
GUARD = 120

results = []


def check(ok, what):
    results.append((bool(ok), what))


def finish():
    print("1..%d" % len(results))
    for i, (ok, what) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
    return 0 if results and all(ok for ok, _ in results) else 1


def main():
    build_dir, prefix, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="cxdesk-install-") as destdir:
        subprocess.run(
            ["meson", "install", "-C", build_dir, "--no-rebuild", "--quiet", "--destdir", destdir],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        root = destdir + prefix
        share = os.path.join(root, "share")
        bindir = os.path.join(root, "bin")
        env = dict(os.environ)
        env["XDG_DATA_DIRS"] = share + ":" + env.get("XDG_DATA_DIRS", "/usr/share")
        env.pop("GSETTINGS_SCHEMA_DIR", None)

        if mode == "version":
            for app in (APP, AGENT):
                for path in (
                    "applications/%s.desktop" % app,
                    "metainfo/%s.metainfo.xml" % app,
                    "dbus-1/services/%s.service" % app,
                    "glib-2.0/schemas/%s.gschema.xml" % app,
                    "icons/hicolor/scalable/apps/%s.svg" % app,
                    "icons/hicolor/symbolic/apps/%s-symbolic.svg" % app,
                ):
                    check(os.path.exists(os.path.join(share, path)), "installed " + path)
                with open(os.path.join(share, "dbus-1/services/%s.service" % app)) as f:
                    service = f.read()
                check("Exec=%s/" % os.path.join(prefix, "bin") in service,
                      "%s.service starts the installed program" % app)
            units = glob.glob(os.path.join(root, "**", "systemd", "user", "cxdesk-server.service"),
                              recursive=True)
            check(len(units) == 1, "installed the cxdesk-server systemd user unit")
            # Every translation built is installed.
            built = glob.glob(os.path.join(build_dir, "po", "*", "LC_MESSAGES", "cxdesk.mo"))
            for mo in built:
                lang = mo.split(os.sep)[-3]
                check(os.path.exists(os.path.join(share, "locale", lang, "LC_MESSAGES",
                                                  "cxdesk.mo")),
                      "installed the %s translation" % lang)
            for program in ("cxdesk", "cxdesk-agent", "cxdesk-server"):
                run = subprocess.run([os.path.join(bindir, program), "--version"], env=env,
                                     capture_output=True, text=True, timeout=GUARD)
                check(run.returncode == 0 and run.stdout.startswith(program + " "),
                      "%s --version: %r" % (program, run.stdout.strip() or run.stderr.strip()))
        else:
            # What gnome.post_install does outside a DESTDIR.
            schemas = os.path.join(share, "glib-2.0", "schemas")
            subprocess.run(["glib-compile-schemas", "--strict", schemas], check=True)
            env["GSETTINGS_SCHEMA_DIR"] = schemas
            env["CXDESK_EXIT_AFTER_FIRST_FRAME"] = "1"
            try:
                run = subprocess.run([os.path.join(bindir, "cxdesk")], env=env,
                                     capture_output=True, text=True, timeout=GUARD)
                check(run.returncode == 0 and "first-frame" in run.stdout.split(),
                      "the installed cxdesk drew its first window (status %d, stderr %r)"
                      % (run.returncode, run.stderr[-500:]))
            except subprocess.TimeoutExpired:
                check(False, "the installed cxdesk drew its first window (hang guard)")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
