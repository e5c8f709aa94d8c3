"""Engine test fixtures: one real two-worker ``distributed.LocalCluster`` per test process."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _spark_missing() -> str | None:
    """What the Spark tests need and this machine lacks (None when nothing is missing)."""
    import importlib.util
    import os
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'featurekit[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))):
        return "Java (17) is not installed: no `java` on PATH and no JAVA_HOME"
    return None


@pytest.fixture(scope="session")
def spark():
    """One real local SparkSession (``local[2]``) per test process, UTC session time zone."""
    import os
    import sys

    missing = _spark_missing()
    if missing:
        pytest.skip(f"Spark tests need PySpark and Java 17: {missing}")
    # the Python workers run this interpreter (and see this checkout first, as the driver does)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = os.environ.get("PYTHONPATH", "")
    if here not in paths.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join([here, paths]) if paths else here
    import warnings

    from pyspark.sql import SparkSession

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "PySpark does not yet fully support pandas >= 3"
        session = (
            SparkSession.builder.master("local[2]")
            .appName("featurekit-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
