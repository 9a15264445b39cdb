"""Incidents: controlled vocabularies, imported incident records, and parsers for
public incident datasets (Bellingcat, CIR, and any CSV/GeoJSON through a mapping).

Everything here is framework-free: parsers read files and return plain values,
so a third party can re-run an import with the library alone.
"""
