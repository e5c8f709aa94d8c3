"""User input -> spec: the YAML loader, the Python DSL, the expression parser, normalization."""
