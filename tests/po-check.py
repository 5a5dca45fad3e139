#!/usr/bin/env python3
# tests/po-check.py: every language in po/LINGUAS has a translation that `msgfmt --check`
# accepts (format strings that match their msgids', a valid header and Plural-Forms) and that
# is complete: no untranslated and no fuzzy message. TAP output, one line per language.
import os
import subprocess
import sys


def main():
    msgfmt, po = sys.argv[1], sys.argv[2]
    with open(os.path.join(po, "LINGUAS"), encoding="utf-8") as stream:
        languages = [word for line in stream if not line.lstrip().startswith("#")
                     for word in line.split()]
    failed = 0
    print(f"1..{max(len(languages), 1)}")
    if not languages:
        print("not ok 1 - po/LINGUAS names no language")
        return 1
    for number, language in enumerate(languages, 1):
        path = os.path.join(po, language + ".po")
        if not os.path.isfile(path):
            failed += 1
            print(f"not ok {number} - {language}: {path} is missing")
            continue
        result = subprocess.run([msgfmt, "--check", "--statistics", "-o", os.devnull, path],
                                capture_output=True, text=True,
                                env=dict(os.environ, LC_ALL="C"))
        # "N translated messages." alone: anything fuzzy or untranslated is named after it.
        statistics = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        complete = "fuzzy" not in statistics and "untranslated" not in statistics
        if result.returncode != 0 or not complete:
            failed += 1
            print(f"not ok {number} - {language}: {statistics or 'msgfmt failed'}")
            for line in result.stderr.splitlines():
                print("# " + line)
        else:
            print(f"ok {number} - {language}: {statistics}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
