"""Text folding for sorting and searching: the same result on every database."""

import unicodedata


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Écrire" and "ecrire" fold alike."""
    if text.isascii():  # the same result: ASCII has no accents, and casefolds as it lowers
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
