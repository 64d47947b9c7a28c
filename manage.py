#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def _read_dotenv():
    """Fill what the environment lacks from the checkout's .env (written by make run/make test), as the
    scripts do, so a bare `manage.py` works too; the environment always wins. PARLOR_DOTENV names another
    file, or none when empty. Before importing parlor: its Celery app reads the settings at import."""
    from dotenv import load_dotenv

    path = os.environ.get("PARLOR_DOTENV", str(Path(__file__).resolve().parent / ".env"))
    if path:
        load_dotenv(path, override=False)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parlor.settings")
    _read_dotenv()
    from parlor.env import settings_or_exit

    settings_or_exit()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
