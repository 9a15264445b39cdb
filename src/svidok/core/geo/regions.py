"""Ukraine's 27 first-level units: 24 oblasts, Crimea, and the cities of Kyiv and Sevastopol.

Three code systems name them: the P-code of OCHA's boundaries (``UA63``, also the
first four characters of every KATOTTG code inside), ISO 3166-2 (``UA-63``: the
same digits except for five units, which the polygons shipped here use), and the
names. The alert and incident datasets use English names with either suffix
("Kharkivska oblast", "Kharkiv Oblast"), which :func:`region_by_name` resolves.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from svidok.core.geo.names import fold, name_keys

__all__ = ["REGIONS", "Region", "region_by_code", "region_by_name"]


@dataclass(frozen=True, slots=True)
class Region:
    pcode: str  # OCHA / KATOTTG prefix
    iso: str  # ISO 3166-2
    name_en: str
    name_uk: str
    name_ru: str
    adjective_en: str  # the official English form of the oblast's name ("Kharkivska")

    @property
    def is_city(self) -> bool:
        return self.pcode in ("UA80", "UA85")


REGIONS: tuple[Region, ...] = (
    Region("UA01", "UA-43", "Autonomous Republic of Crimea", "Автономна Республіка Крим",
           "Автономная Республика Крым", "Avtonomna Respublika Krym"),
    Region("UA05", "UA-05", "Vinnytsia Oblast", "Вінницька область", "Винницкая область",
           "Vinnytska"),
    Region("UA07", "UA-07", "Volyn Oblast", "Волинська область", "Волынская область",
           "Volynska"),
    Region("UA12", "UA-12", "Dnipropetrovsk Oblast", "Дніпропетровська область",
           "Днепропетровская область", "Dnipropetrovska"),
    Region("UA14", "UA-14", "Donetsk Oblast", "Донецька область", "Донецкая область",
           "Donetska"),
    Region("UA18", "UA-18", "Zhytomyr Oblast", "Житомирська область", "Житомирская область",
           "Zhytomyrska"),
    Region("UA21", "UA-21", "Zakarpattia Oblast", "Закарпатська область",
           "Закарпатская область", "Zakarpatska"),
    Region("UA23", "UA-23", "Zaporizhzhia Oblast", "Запорізька область", "Запорожская область",
           "Zaporizka"),
    Region("UA26", "UA-26", "Ivano-Frankivsk Oblast", "Івано-Франківська область",
           "Ивано-Франковская область", "Ivano-Frankivska"),
    Region("UA32", "UA-32", "Kyiv Oblast", "Київська область", "Киевская область", "Kyivska"),
    Region("UA35", "UA-35", "Kirovohrad Oblast", "Кіровоградська область",
           "Кировоградская область", "Kirovohradska"),
    Region("UA44", "UA-09", "Luhansk Oblast", "Луганська область", "Луганская область",
           "Luhanska"),
    Region("UA46", "UA-46", "Lviv Oblast", "Львівська область", "Львовская область",
           "Lvivska"),
    Region("UA48", "UA-48", "Mykolaiv Oblast", "Миколаївська область", "Николаевская область",
           "Mykolaivska"),
    Region("UA51", "UA-51", "Odesa Oblast", "Одеська область", "Одесская область", "Odeska"),
    Region("UA53", "UA-53", "Poltava Oblast", "Полтавська область", "Полтавская область",
           "Poltavska"),
    Region("UA56", "UA-56", "Rivne Oblast", "Рівненська область", "Ровенская область",
           "Rivnenska"),
    Region("UA59", "UA-59", "Sumy Oblast", "Сумська область", "Сумская область", "Sumska"),
    Region("UA61", "UA-61", "Ternopil Oblast", "Тернопільська область",
           "Тернопольская область", "Ternopilska"),
    Region("UA63", "UA-63", "Kharkiv Oblast", "Харківська область", "Харьковская область",
           "Kharkivska"),
    Region("UA65", "UA-65", "Kherson Oblast", "Херсонська область", "Херсонская область",
           "Khersonska"),
    Region("UA68", "UA-68", "Khmelnytskyi Oblast", "Хмельницька область",
           "Хмельницкая область", "Khmelnytska"),
    Region("UA71", "UA-71", "Cherkasy Oblast", "Черкаська область", "Черкасская область",
           "Cherkaska"),
    Region("UA73", "UA-77", "Chernivtsi Oblast", "Чернівецька область", "Черновицкая область",
           "Chernivetska"),
    Region("UA74", "UA-74", "Chernihiv Oblast", "Чернігівська область", "Черниговская область",
           "Chernihivska"),
    Region("UA80", "UA-30", "Kyiv", "Київ", "Киев", "Kyiv City"),
    Region("UA85", "UA-40", "Sevastopol", "Севастополь", "Севастополь", "Sevastopol City"),
)

FUZZY_CUTOFF = 0.85  # difflib ratio: one or two letters wrong in a name of eight

_BY_CODE = {code: region for region in REGIONS for code in (region.pcode, region.iso)}

# Words that say "this is a first-level unit" in the spellings found in the datasets.
_UNIT_WORDS = {"oblast", "oblast'", "область", "obl", "region", "city", "місто", "м",
               "город", "avtonomna", "respublika", "autonomous", "republic", "of"}


def _bare(name: str) -> str:
    return " ".join(word for word in fold(name).split() if word not in _UNIT_WORDS)


def _index() -> dict[str, Region]:
    index: dict[str, Region] = {}
    # The two cities first: bare "Kyiv" is the city; the oblast is found by its
    # adjective ("Kyivska") or by the word oblast (see region_by_name).
    for region in sorted(REGIONS, key=lambda r: not r.is_city):
        for name in (region.name_en, region.name_uk, region.name_ru, region.adjective_en):
            for key in name_keys(_bare(name)) | name_keys(name):
                index.setdefault(key, region)
    # Common older or alternative English spellings.
    for alias, pcode in (("Crimea", "UA01"), ("Odessa", "UA51"), ("Zaporizhia", "UA23"),
                         ("Kiev", "UA80"), ("Kyiv City", "UA80"), ("Kiev Oblast", "UA32"),
                         ("Lugansk", "UA44"), ("Nikolaev", "UA48"), ("Kharkov", "UA63"),
                         ("Dnepropetrovsk", "UA12"), ("Zaporozhye", "UA23")):
        for key in name_keys(_bare(alias)):
            index.setdefault(key, _BY_CODE[pcode])
    return index


_BY_NAME = _index()


def region_by_code(code: str) -> Region | None:
    """The region with this P-code (``UA63``) or ISO 3166-2 code (``UA-63``)."""
    return _BY_CODE.get(code.strip().upper())


def region_by_name(name: str) -> Region | None:
    """The region a dataset means by ``name``: "Kharkivska oblast", "Kharkiv Oblast",
    "Харківська область", "Kyiv City"… None when nothing fits.

    "Kyiv" alone is the city; the oblast needs its adjective or the word oblast.
    """
    folded = fold(name)
    if not folded:
        return None
    is_oblast = any(word in ("oblast", "область", "obl") for word in folded.split())
    found = _lookup(_bare(name))
    if is_oblast and found is not None and found.pcode == "UA80":
        return _BY_CODE["UA32"]  # "Kyiv Oblast", "Kiyv Oblast": the oblast, not the city
    return found


def _lookup(bare: str) -> Region | None:
    keys = [bare, *sorted(name_keys(bare))]
    for key in keys:
        if key in _BY_NAME:
            return _BY_NAME[key]
    # Misspellings in hand-typed datasets ("Khakiv Oblast", "Donestk oblast").
    for key in keys:
        if len(key) >= 5:
            close = difflib.get_close_matches(key, _BY_NAME, n=1, cutoff=FUZZY_CUTOFF)
            if close:
                return _BY_NAME[close[0]]
    return None
