"""Plumbing every part of the live path shares: frames and their mailboxes, the supervised worker, clocks."""
