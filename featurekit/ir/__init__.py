"""The feature language: expression nodes (what users write) and typed IR (what compilers use)."""
