"""Integration tests: scikit-learn and MLflow."""
