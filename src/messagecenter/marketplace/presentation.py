"""How the marketplace's amounts read to people, in pages, messages and e-mails alike, and
how an amount a person types is read."""

import re

from messagecenter.errors import InvalidInput

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}

# Digits, then at most two decimals after a point. A minus sign is read so that the action
# can say which amounts it takes; nothing else is, not even to be dropped: "0,05" is five
# cents in much of the world and was read as 5.00 once its comma was taken out, "1,234" is
# 1.234 or 1234 depending on who typed it, and Decimal's "1e2" or "١٢" are no one's amount.
AMOUNT = re.compile(r"(-?)([0-9]{1,15})(?:\.([0-9]{1,2}))?")


def money(cents: int, currency: str = "USD") -> str:
    """12999, "USD" -> "$129.99"; a currency without a symbol here is written out."""
    amount = f"{cents / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def typed_cents(typed: str, *, code: str = "invalid_amount") -> int | None:
    """An amount a person typed, "12.99", "12.5" or "12" (in the order's currency), as
    cents; None when left empty. Anything else is refused with `code`, never guessed at."""
    typed = typed.strip()
    if not typed:
        return None
    found = AMOUNT.fullmatch(typed)
    if found is None:
        if "," in typed:
            raise InvalidInput(
                "Write the amount with a decimal point, not a comma, and no thousands "
                "separators, e.g. 0.05 or 1234.50.",
                code=code,
            )
        raise InvalidInput(
            "Write the amount as digits with at most two decimals after a point, e.g. 12.99.",
            code=code,
        )
    sign, whole, decimals = found.groups()
    cents = int(whole) * 100 + int((decimals or "0").ljust(2, "0"))
    return -cents if sign else cents
