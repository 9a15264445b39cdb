"""The framework-free core of Svidok.

Nothing under ``svidok.core`` imports Django, so that a third party (a defence
expert, a court) can verify proofs and packages with this library alone.
"""
