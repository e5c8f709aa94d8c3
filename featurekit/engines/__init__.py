"""Engines run the batch path on a data frame library: pandas (built in), Dask (extra)."""
