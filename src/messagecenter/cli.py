"""The `messagecenter` command for operators: Django's management commands with the
project's settings, e.g. `messagecenter migrate`, `messagecenter serve`, `messagecenter
worker`, `messagecenter demo`, `messagecenter run`, `messagecenter createsuperuser`."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["messagecenter", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
