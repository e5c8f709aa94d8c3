"""The featurekit version, in a module of its own so that any layer can read it.

>>> from featurekit._version import __version__
>>> __version__.count(".")
2
"""

__version__ = "0.1.0"
