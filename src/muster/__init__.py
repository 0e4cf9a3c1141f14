"""Muster (集结): mobilize people, keep their ledgers, report as of any cutoff."""

__version__ = "0.1.0"
