"""The benchmark suites, shipped in the package: ``pytest --pyargs harness.suites`` or ``python -m harness bench``."""
