"""The ``muster`` console script: Django's management commands under one name.

``muster migrate``, ``muster import FILE``, ``muster export FILE``, ``muster createadmin``,
``muster demo`` and every other management command.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    from django.core.management import execute_from_command_line

    args = ["muster", *(sys.argv[1:] if argv is None else argv)]
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
