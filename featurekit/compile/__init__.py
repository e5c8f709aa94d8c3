"""The two lowerings of a typed feature graph: batch (columns) and row (generated Python)."""
