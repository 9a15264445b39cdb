"""Place names in Ukrainian, Russian and Latin spellings, folded to comparable keys.

"Kharkiv", "Харків", "Харьков" and "Kharkov" must find the same place. Names
are folded (case, stress marks, apostrophes, hyphens), Cyrillic names are also
spelled in Latin letters twice — by Ukraine's official transliteration (KMU
resolution 55 of 2010: Харків → Kharkiv) and by the common Russian one (BGN/PCGN
without diacritics: Харьков → Kharkov) — and every spelling also gets a loose
key in which y/i/j and doubled letters no longer count (Mykolaiv = Mikolaiv).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "loose", "name_keys", "transliterate_ru", "transliterate_uk"]

_APOSTROPHES = "'’ʼ‘`´ʹ\""

# Ukrainian: KMU 2010. Letters with a different spelling at the start of a word.
_UK = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia",
    # Russian letters in a Ukrainian-transliterated name (mixed spellings occur)
    "ё": "e", "ъ": "", "ы": "y", "э": "e",
}
_UK_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}

# Russian: BGN/PCGN without diacritics, the spelling of most older English texts.
_RU = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
    # Ukrainian letters in a Russian-transliterated name
    "ґ": "g", "є": "ye", "і": "i", "ї": "yi",
}

_CYRILLIC = re.compile("[\u0400-\u04ff]")
_WORD_START = re.compile(r"(?:^|(?<=\s))")


def fold(name: str) -> str:
    """Lower case, without stress marks, diacritics of Latin letters, apostrophes or
    punctuation; hyphens and runs of spaces become one space.

    Cyrillic letters keep their identity (й, ї and ё are letters, not и, і and е
    with a mark), Latin ones lose their marks (Qarağy → qaragy).
    """
    decomposed = unicodedata.normalize("NFD", name.casefold())
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char):
            previous = kept[-1] if kept else ""
            composed = unicodedata.normalize("NFC", previous + char)
            # Keep marks that make a Cyrillic letter of its own (й ї ё ў), drop the rest.
            if previous and _CYRILLIC.match(previous) and len(composed) == 1 \
                    and composed in "йїёў":
                kept[-1] = composed
            continue
        if char in _APOSTROPHES:
            continue
        kept.append(char if char.isalnum() else " ")
    return " ".join("".join(kept).split())


def _transliterate(text: str, table: dict[str, str], initial: dict[str, str]) -> str:
    out: list[str] = []
    at_start = True
    previous = ""
    for char in text:
        if at_start and char in initial:
            out.append(initial[char])
        elif char == "г" and previous == "з" and table is _UK:
            out.append("gh")  # зг → zgh, so that it is not read as zh
        else:
            out.append(table.get(char, char))
        at_start = not char.isalnum()
        previous = char
    return "".join(out)


def transliterate_uk(name: str) -> str:
    """The folded name in Latin letters by Ukraine's official system (Харків → kharkiv)."""
    return _transliterate(fold(name), _UK, _UK_INITIAL)


def transliterate_ru(name: str) -> str:
    """The folded name in Latin letters by the common Russian system (Харьков → kharkov)."""
    return _transliterate(fold(name), _RU, {})


def loose(key: str) -> str:
    """A Latin key in which y, i and j are one letter and doubled letters count once:
    the variants transliterations disagree on (Mykolaiv, Mikolaiv; Zaporizzhia)."""
    text = key.replace("j", "i").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", text)


def name_keys(name: str) -> set[str]:
    """Every key a name is found by: folded, both transliterations when Cyrillic,
    and the loose form of each Latin key. Empty for a name with no letters."""
    folded = fold(name)
    if not folded:
        return set()
    keys = {folded}
    if _CYRILLIC.search(folded):
        keys |= {transliterate_uk(folded), transliterate_ru(folded)}
    keys |= {loose(key) for key in list(keys) if not _CYRILLIC.search(key)}
    return keys
