"""An example plugin for nasbench-harness: the ZiCo proxy and REA with two-position mutation."""
