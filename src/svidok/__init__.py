"""Svidok: turn raw material about atrocity crimes into evidence a court can rely on."""

__version__ = "0.1.0"
