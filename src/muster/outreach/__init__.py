"""Outreach and service ledger (issue 25): enterprises and taxpayers, liaisons, visits and surveys, the
problem list and its resolution rate."""
