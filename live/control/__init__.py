"""The control bus and what writes it: declared parameters, mappings, and the controllers (OSC, keys, an OSC script)."""
