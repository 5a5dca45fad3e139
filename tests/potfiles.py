#!/usr/bin/env python3
# tests/potfiles.py: po/POTFILES.in as a rule the test suite enforces, so that a string nobody
# can translate fails here instead of reaching a user in English.
#
#   1. every file under src/ and data/ with a translatable string (_( N_( C_( NC_( Q_(
#      ngettext g_dngettext g_dpgettext2, translatable="yes", a .desktop.in, a metainfo, a
#      GSettings schema with a summary) is listed, and every file listed exists and has one;
#   2. in .ui files, every label, title, tooltip, placeholder, accessible label or description,
#      menu label and string-list item that holds a letter is marked translatable="yes";
#   3. a gettext call's literal is never followed by a macro ("%" G_GINT64_FORMAT ...): xgettext
#      cuts the msgid there and the string can never be translated.
#
# Before it reads the tree, the test checks itself on a scratch tree holding one case of each,
# so it cannot pass by reading nothing. TAP output, one line per check.
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

SOURCE_SUFFIXES = (".c", ".h")
UI_SUFFIXES = (".ui",)
ALWAYS_TRANSLATABLE = (".desktop.in", ".metainfo.xml.in", ".appdata.xml.in")
SCHEMA_SUFFIXES = (".gschema.xml", ".gschema.xml.in")

# A gettext call whose msgid is a literal in the source.
GETTEXT_CALL = re.compile(
    r'\b(?:(?:_|N_|Q_)\s*\(\s*"|(?:C_|NC_)\s*\(|(?:g_d?n?gettext|g_dc?gettext|g_dpgettext2?|'
    r'd?c?n?gettext)\s*\()')
CUT_CALL = re.compile(
    r'\b(_|N_|Q_|C_|NC_|ngettext|g_dngettext|g_dgettext|g_dpgettext2|gettext|dngettext)\s*\(')
TRANSLATABLE_UI = re.compile(r'translatable\s*=\s*"(yes|true|1)"')

UI_PROPERTIES = {"label", "title", "subtitle", "tooltip-text", "tooltip-markup",
                 "placeholder-text", "description", "text-label"}
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def strip_c(text):
    """The C source with comments blanked out (string literals kept)."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def cut_msgids(text):
    """Lines of gettext calls where a literal is followed by an identifier (a macro)."""
    found = []
    for match in CUT_CALL.finditer(text):
        i = match.end()
        depth = 1
        previous = None
        while i < len(text) and depth > 0:
            c = text[i]
            if c == '"':
                j = i + 1
                while j < len(text) and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
                previous = "literal"
                continue
            if c.isspace():
                i += 1
                continue
            identifier = re.match(r"[A-Za-z_]\w*", text[i:])
            if identifier:
                if previous == "literal":
                    found.append((text.count("\n", 0, match.start()) + 1, identifier.group(0)))
                previous = "identifier"
                i += len(identifier.group(0))
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            previous = c
            i += 1
    return found


def untranslated_ui(path):
    """(line, what) of each user-visible .ui text not marked translatable."""
    found = []
    with open(path, encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        return [(0, f"not well-formed XML: {error}")]

    def line_of(tag, name, text):
        for number, line in enumerate(lines, 1):
            if f"<{tag}" in line and (name is None or f'"{name}"' in line) and text in line:
                return number
        return 0

    for element in root.iter():
        text = (element.text or "").strip()
        if not LETTER.search(text):
            continue
        name = element.get("name")
        visible = (element.tag == "property" and name in UI_PROPERTIES) or \
                  (element.tag == "attribute" and name == "label") or \
                  element.tag == "item"
        if visible and element.get("translatable") not in ("yes", "true", "1"):
            what = f'<{element.tag}{" name=" + chr(34) + name + chr(34) if name else ""}>{text}'
            found.append((line_of(element.tag, name, text), what))
    return found


def has_strings(path):
    name = os.path.basename(path)
    if name.endswith(ALWAYS_TRANSLATABLE):
        return True
    with open(path, encoding="utf-8", errors="replace") as stream:
        text = stream.read()
    if name.endswith(SCHEMA_SUFFIXES):
        return "<summary" in text or "<description" in text
    if name.endswith(UI_SUFFIXES):
        return TRANSLATABLE_UI.search(text) is not None
    if name.endswith(SOURCE_SUFFIXES):
        return GETTEXT_CALL.search(strip_c(text)) is not None
    return False


def candidates(root):
    for top_name in ("src", "data"):
        top = os.path.join(root, top_name)
        for directory, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(SOURCE_SUFFIXES + UI_SUFFIXES + ALWAYS_TRANSLATABLE +
                                 SCHEMA_SUFFIXES):
                    yield os.path.relpath(os.path.join(directory, name), root)


def read_potfiles(root):
    listed = []
    with open(os.path.join(root, "po", "POTFILES.in"), encoding="utf-8") as stream:
        for line in stream:
            line = line.strip()
            if line and not line.startswith("#"):
                listed.append(line)
    return listed


def violations(root):
    """(files looked at, problems by check: potfiles, ui, cut)."""
    listed = read_potfiles(root)
    listed_set = set(listed)
    problems = {"potfiles": [], "ui": [], "cut": []}
    seen = 0

    for entry in listed:
        if not os.path.isfile(os.path.join(root, entry)):
            problems["potfiles"].append(f"po/POTFILES.in lists {entry}, which does not exist")
    for entry in sorted({e for e in listed if listed.count(e) > 1}):
        problems["potfiles"].append(f"po/POTFILES.in lists {entry} more than once")

    for path in candidates(root):
        seen += 1
        full = os.path.join(root, path)
        translatable = has_strings(full)
        if translatable and path not in listed_set:
            problems["potfiles"].append(f"{path} has translatable strings but is not in "
                                        "po/POTFILES.in")
        if not translatable and path in listed_set:
            problems["potfiles"].append(f"po/POTFILES.in lists {path}, which has no "
                                        "translatable string")
        if path.endswith(UI_SUFFIXES):
            for line, what in untranslated_ui(full):
                problems["ui"].append(f"{path}:{line}: {what} is not translatable=\"yes\"")
        if path.endswith(SOURCE_SUFFIXES):
            with open(full, encoding="utf-8", errors="replace") as stream:
                for line, macro in cut_msgids(strip_c(stream.read())):
                    problems["cut"].append(f"{path}:{line}: a msgid continues with {macro}, "
                                           "where xgettext cuts it")
    return seen, problems


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as out:
        out.write(text)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    failed = 0
    checks = ("potfiles", "ui", "cut")
    print(f"1..{1 + len(checks)}")

    # The check on a scratch tree: one case of each problem must be found, and nothing else.
    with tempfile.TemporaryDirectory() as scratch:
        write(scratch, "po/POTFILES.in", "# Files.\nsrc/a/listed.c\nsrc/a/gone.c\n")
        write(scratch, "src/a/listed.c", '/* _ ("in a comment") */\nx = _ ("Hello");\n')
        write(scratch, "src/a/missing.c",
              'x = g_strdup_printf (_ ("Waiting %" G_GINT64_FORMAT " s"), n);\n')
        write(scratch, "src/a/comment-only.c", '/* N_ ("not a string") */\n')
        write(scratch, "src/a/missing.ui",
              '<interface><object class="GtkLabel"><property name="label">Send</property>'
              '<property name="name">send</property></object>'
              '<object class="GtkButton"><property name="label" translatable="yes">_Send'
              '</property></object></interface>\n')
        _, found = violations(scratch)
        expected = {"potfiles": 3, "ui": 1, "cut": 1}
        if {k: len(v) for k, v in found.items()} == expected:
            print("ok 1 - a scratch tree's unlisted files, missing file, untranslatable label "
                  "and cut msgid are found")
        else:
            failed += 1
            print("not ok 1 - the scratch tree's problems were not found exactly:", found)

    seen, found = violations(os.path.normpath(root))
    descriptions = {
        "potfiles": "po/POTFILES.in lists exactly the files with translatable strings",
        "ui": "every visible text in the .ui files is marked translatable",
        "cut": "no msgid is cut by a macro",
    }
    for number, check in enumerate(checks, 2):
        if seen < 50:
            failed += 1
            print(f"not ok {number} - only {seen} files found under {root}")
        elif found[check]:
            failed += 1
            print(f"not ok {number} - {descriptions[check]}: {len(found[check])} problems")
            for line in found[check]:
                print("# " + line)
        else:
            print(f"ok {number} - {descriptions[check]} ({seen} files)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
