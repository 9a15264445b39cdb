"""Parsers for public incident datasets.

Each parser reads one file (or one export folder) and returns a
:class:`~svidok.core.incidents.records.ParsedDataset`. A record that cannot be
read becomes a :class:`~svidok.core.incidents.records.RowError` naming its
row and what was expected; only a file that cannot be read at all raises
:class:`~svidok.core.errors.InvalidInput`.

- :mod:`.bellingcat` — Bellingcat's "Civilian Harm in Ukraine" TimeMap data;
- :mod:`.cir` — the Centre for Information Resilience's monitor CSV;
- :mod:`.mapped` — any CSV or GeoJSON, described by a TOML mapping file.
"""
