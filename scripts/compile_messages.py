"""Compile every locale/*/LC_MESSAGES/*.po into its .mo.

Django's compilemessages needs GNU gettext's msgfmt on the machine; polib
does the same in pure Python, so the setup needs no system package for it.
"""

import pathlib
import sys

import polib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    catalogues = sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po"))
    for po_path in catalogues:
        catalogue = polib.pofile(str(po_path))
        catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
    print(f"compiled {len(catalogues)} message catalogue(s)")
    return 0 if catalogues else 1


if __name__ == "__main__":
    sys.exit(main())
