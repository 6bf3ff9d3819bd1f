#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that never touch the database skip the reachability check.
_NO_DATABASE = {"help", "version", "check", "collectstatic", "makemigrations", "shell_plus", "compilemessages"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command != "runserver":
        # Imports and maintenance commands may run long statements; web requests keep the 30 s limit.
        os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    if command not in _NO_DATABASE and not command.startswith("-"):
        from config.database import ensure_reachable

        ensure_reachable(settings.DATABASE_URL)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
