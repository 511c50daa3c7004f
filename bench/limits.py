"""The sending limits a benchmark lifts (docs/safety.md#sending-limits): its few hundred
people send far more than a person may. Empty means no limit; the counting of each send
still runs, so a benchmark's send costs what a person's does."""

import os

LIFTED_SEND_LIMITS = {
    "SAFETY_SEND_LIMITS": "",
    "SAFETY_NEW_ACCOUNT_SEND_LIMITS": "",
    "SAFETY_FIRST_CONTACT_LIMITS": "",
    "SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS": "",
}


def lift_send_limits() -> None:
    """For this process, before Django starts (settings read them once)."""
    for name, value in LIFTED_SEND_LIMITS.items():
        os.environ.setdefault(name, value)
