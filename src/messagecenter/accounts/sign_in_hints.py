"""Accounts a sign-in page may suggest, from whichever installed app has some to offer.

The demo marketplace registers its accounts here when it is installed; production code
(the sign-in page, `messagecenter run`) asks this registry and never imports the demo.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SignInHint:
    role: str
    username: str
    what_they_find: str


@dataclass(frozen=True)
class SignInHints:
    """Accounts to try, all with one password (a demo's, never a real person's)."""

    password: str
    sign_ins: tuple[SignInHint, ...]

    def as_text(self) -> str:
        """For the terminal."""
        role_width = max(len(sign_in.role) for sign_in in self.sign_ins)
        username_width = max(len(sign_in.username) for sign_in in self.sign_ins)
        lines = [f"Demo sign-ins (the password of every account is {self.password}):"]
        lines.extend(
            f"  {sign_in.role!s:<{role_width}}  {sign_in.username:<{username_width}}  "
            f"{sign_in.what_they_find}"
            for sign_in in self.sign_ins
        )
        return "\n".join(lines) + "\n"


# Each returns its hints when they apply now (the demo: once it is loaded), else None.
_providers: list[Callable[[], SignInHints | None]] = []


def register_sign_in_hints(provider: Callable[[], SignInHints | None]) -> None:
    if provider not in _providers:
        _providers.append(provider)


def sign_in_hints() -> SignInHints | None:
    for provider in _providers:
        hints = provider()
        if hints is not None:
            return hints
    return None
