"""Mobilization pages: requests, batches (派出批次), posts and shifts, check-in, approvals, my service."""
