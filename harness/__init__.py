"""nasbench-harness: zero-cost proxies and multi-trial searchers measured on NATS-Bench."""

__version__ = "0.1.0"
