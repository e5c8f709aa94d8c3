"""The artifact: a fitted transform on disk, hash-checked, loadable without numpy or pandas."""
