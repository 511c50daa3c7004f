"""The `messagecenter` command for operators: Django's management commands with the
project's settings, e.g. `messagecenter migrate`, `messagecenter serve`, `messagecenter
worker`, `messagecenter demo`, `messagecenter run`, `messagecenter createsuperuser`."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    from django.core.management import execute_from_command_line

    arguments = list(sys.argv[1:] if argv is None else argv)
    # Commands are modules (safety_check), people type them with hyphens (safety-check).
    if arguments and not arguments[0].startswith("-"):
        arguments[0] = arguments[0].replace("-", "_")
    execute_from_command_line(["messagecenter", *arguments])


if __name__ == "__main__":
    main()
