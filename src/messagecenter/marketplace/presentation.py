"""How the marketplace's amounts read to people, in pages, messages and e-mails alike."""

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money(cents: int, currency: str = "USD") -> str:
    """12999, "USD" -> "$129.99"; a currency without a symbol here is written out."""
    amount = f"{cents / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"
