"""The `mend` command: serve, worker, demo, createadmin, and every Django management command."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    argv = list(sys.argv if argv is None else argv)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["mend", *argv[1:]])


if __name__ == "__main__":
    main()
