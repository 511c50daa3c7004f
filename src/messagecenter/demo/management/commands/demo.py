from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messagecenter.demo import story
from messagecenter.errors import MessageCenterError


class Command(BaseCommand):
    help = (
        "Load the demo marketplace (shops, orders and a Message Center in use) and print its "
        "sign-ins. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-sign-ins",
            action="store_true",
            help="leave the sign-ins out: `messagecenter run`, next, prints them beside its "
            "address (make run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = story.load_demo()
        except MessageCenterError as error:
            raise CommandError(error.message) from error
        if summary.already_loaded:
            outcome = "The demo marketplace is already loaded."
        else:
            outcome = (
                f"Loaded the demo marketplace: {summary.accounts} accounts, "
                f"{summary.storefronts} shops, {summary.products} products, "
                f"{summary.orders} orders, {summary.conversations} conversations and "
                f"{summary.messages} messages."
            )
        if options["no_sign_ins"]:
            self.stdout.write(outcome)
        else:
            self.stdout.write(f"{outcome}\n\n{story.sign_in_help()}")
