"""Vectorized kernels used by the batch path.

Every kernel in this package has an exact pure-Python equivalent (stated in its
docstring) that the row path uses; the two must agree bit for bit.
"""
