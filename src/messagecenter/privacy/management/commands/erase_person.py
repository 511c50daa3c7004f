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
        operator = User.objects.filter(username=options["by"]).first()
        if operator is None:
            raise CommandError(f"No account is named “{options['by']}” (--by).")
        person = User.objects.filter(username=options["username"]).first()
        if person is None:
            # Erasure keeps nothing of the username it replaces, by design (no list of
            # erased names to look it up in): a second run with it finds no account, and
            # says that this may be why rather than a bare "No such account".
            raise CommandError(
                f"No account is named “{options['username']}”. If it was erased already, "
                "that name is gone: erasure renames the account erased-<id> and keeps no "
                "record of its old username (admin: Privacy → Erasures lists the erased "
                "accounts; erase_person erased-<id> says already_erased)."
            )
        try:
            erasure = erase_person(operator, person)
        except MessageCenterError as refused:
            raise CommandError(refused.message) from refused
        self.stdout.write(f"Erased: now {erasure.pseudonym}.")
        for what, count in erasure.removed.items():
            self.stdout.write(f"  removed {what}: {count}")
        for kept in erasure.kept:
            self.stdout.write(f"  kept {kept['what']} ({kept['count']}): {kept['why']}")
