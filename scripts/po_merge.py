"""A git merge driver for .po catalogues: the union of both sides' messages.

Two branches that each add strings conflict on every .po hunk, though the result is plain: keep
every message; where one side changed a translation and the other did not, take the change; where
both changed it, ours. Set up once per clone:

    git config merge.po-union.driver '.venv/bin/python scripts/po_merge.py %O %A %B'

(.gitattributes names the driver for *.po). Without that config git merges .po files as text.
"""

import sys

import polib


def key(entry: polib.POEntry) -> tuple:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def _translation(entry: polib.POEntry | None) -> tuple:
    if entry is None:
        return ("", ())
    return (entry.msgstr, tuple(sorted(entry.msgstr_plural.items())))


def merge(base: polib.POFile, ours: polib.POFile, theirs: polib.POFile) -> polib.POFile:
    original = {key(e): e for e in base if not e.obsolete}
    index = {key(e): e for e in ours if not e.obsolete}
    for entry in theirs:
        if entry.obsolete:
            continue
        mine = index.get(key(entry))
        if mine is None:
            # Their live message that we had made obsolete: one definition only, or msgmerge refuses the file.
            for stale in [e for e in ours if e.obsolete and key(e) == key(entry)]:
                ours.remove(stale)
            ours.append(entry)
            index[key(entry)] = entry
            continue
        before = _translation(original.get(key(entry)))
        theirs_changed = _translation(entry) != before and entry.translated()
        ours_unchanged = _translation(mine) == before or not mine.translated()
        if theirs_changed and ours_unchanged:
            mine.msgstr = entry.msgstr
            mine.msgstr_plural = entry.msgstr_plural
            mine.flags = entry.flags
        mine.occurrences = sorted(set(mine.occurrences) | set(entry.occurrences))
    return ours


def main(base_path: str, ours_path: str, theirs_path: str) -> int:
    ours = polib.pofile(ours_path, wrapwidth=79)
    merge(polib.pofile(base_path), ours, polib.pofile(theirs_path)).save(ours_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
