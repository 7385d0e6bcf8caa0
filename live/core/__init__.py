"""Plumbing every part of the live path shares: frames and mailboxes, the supervised worker, clocks, easing curves."""
