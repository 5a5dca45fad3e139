#!/usr/bin/env python3
"""check-flatpak.py: the Flatpak manifest, checked without the runtime (which cannot be fetched
in CI): it parses (JSON, or YAML when PyYAML is there), names only local sources that exist,
passes only real meson options (meson introspect of the build tree), installs both
applications (their desktop files are in data/ and carry the manifest's id as prefix, which is
what flatpak exports), and asks for no more than the finish-args CX Desk needs.

Usage: check-flatpak.py MANIFEST BUILD_DIR. TAP output."""

import json
import os
import subprocess
import sys

ALLOWED_FINISH_ARGS = {
    "--share=network",
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
}

results = []


def check(ok, what):
    results.append((bool(ok), what))


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith((".yml", ".yaml")):
        import yaml  # only for a YAML manifest

        return yaml.safe_load(text)
    return json.loads(text)


def meson_options(build_dir):
    out = subprocess.run(
        ["meson", "introspect", "--buildoptions", build_dir],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {o["name"]: o for o in json.loads(out)}


def option_ok(opt, value, options):
    if opt["type"] == "boolean":
        return value in ("true", "false")
    if opt["type"] in ("combo", "feature"):
        choices = opt.get("choices") or ["enabled", "disabled", "auto"]
        return value in choices
    return True


def main():
    manifest_path, build_dir = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.abspath(manifest_path))
    try:
        manifest = load(manifest_path)
    except Exception as e:  # noqa: BLE001: any parse error fails the check
        print("1..1\nnot ok 1 - the manifest parses: %s" % e)
        return 1
    check(isinstance(manifest, dict), "the manifest is an object")
    app_id = manifest.get("id") or manifest.get("app-id")
    check(app_id, "the manifest has an id")
    check(manifest.get("runtime") == "org.gnome.Platform", "the runtime is the GNOME Platform")
    check(manifest.get("sdk") == "org.gnome.Sdk", "the SDK is the GNOME SDK")
    version = str(manifest.get("runtime-version", ""))
    check(version.isdigit() and int(version) >= 47, "a supported GNOME runtime (47 or later)")

    for arg in manifest.get("finish-args", []):
        check(arg in ALLOWED_FINISH_ARGS, "finish-arg %s is needed" % arg)
        check(not arg.startswith("--filesystem"), "no host filesystem: %s" % arg)

    options = meson_options(build_dir)
    repo = os.path.normpath(os.path.join(root, ".."))
    project_module = None
    for module in manifest.get("modules", []):
        if isinstance(module, str):
            check(os.path.exists(os.path.join(root, module)), "module file %s exists" % module)
            continue
        for source in module.get("sources", []):
            if isinstance(source, str):
                check(os.path.exists(os.path.join(root, source)), "source %s exists" % source)
                continue
            if "path" in source:
                path = os.path.normpath(os.path.join(root, source["path"]))
                check(os.path.exists(path), "source %s exists" % source["path"])
                if source.get("type") == "dir" and path == repo:
                    project_module = module
        if module.get("buildsystem") == "meson" and module is project_module:
            for opt in module.get("config-opts", []):
                name, _, value = opt[2:].partition("=")
                known = opt.startswith("-D") and name in options
                check(known, "config-opt %s is a meson option" % opt)
                if known:
                    check(option_ok(options[name], value, options), "config-opt %s is valid" % opt)
    check(project_module is not None, "a meson module builds this repository")
    if project_module is not None:
        opts = project_module.get("config-opts", [])
        check("-Dpostgresql=disabled" in opts, "built without libpq (not in the runtime)")

    # Both applications are installed with their own desktop files, which flatpak exports
    # because their names start with the app id.
    data = os.path.join(repo, "data")
    for desktop_id in (app_id, app_id + ".Agent"):
        check(os.path.exists(os.path.join(data, desktop_id + ".desktop.in")),
              "data/%s.desktop.in exists" % desktop_id)
    check(manifest.get("command") == "cxdesk", "the manifest runs cxdesk")

    print("1..%d" % len(results))
    for i, (ok, what) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
