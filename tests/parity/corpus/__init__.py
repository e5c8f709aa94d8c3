"""A differential corpus of training/serving implementation pairs (issue 16, item 11).

Each pair is a pandas training function and a hand-written Python serving function for the
same feature, labelled skewed or correct; ``test_corpus.py`` runs the parity tester on every
pair and keeps a per-category scoreboard. See ``README.md`` in this folder.
"""
