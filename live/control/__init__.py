"""The control bus and what drives it: declared parameters, mappings, OSC, audio features, keys."""
