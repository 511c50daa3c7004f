from django.core.management.base import BaseCommand, CommandError, CommandParser

from messagecenter.accounts.models import User
from messagecenter.errors import MessageCenterError
from messagecenter.privacy.erasure import erase_person


class Command(BaseCommand):
    help = (
        "Erase a person at their request (docs/privacy.md#erasure): their messages' text, "
        "attachments, search entries, e-mail log, devices and account details are removed "
        "or pseudonymised; orders, refunds, claims and cases stay without personal data. "
        "Cannot be undone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the person to erase")
        parser.add_argument("--by", required=True, help="the administrator doing it")

    def handle(self, *args: object, **options: str) -> None:
        try:
            person = User.objects.get(username=options["username"])
            operator = User.objects.get(username=options["by"])
        except User.DoesNotExist as missing:
            raise CommandError("No such account.") from missing
        try:
            erasure = erase_person(operator, person)
        except MessageCenterError as refused:
            raise CommandError(refused.message) from refused
        self.stdout.write(f"Erased: now {erasure.pseudonym}.")
        for what, count in erasure.removed.items():
            self.stdout.write(f"  removed {what}: {count}")
        for kept in erasure.kept:
            self.stdout.write(f"  kept {kept['what']} ({kept['count']}): {kept['why']}")
