"""Pure analysis functions: anytime regret of search runs, rank agreement of proxies with accuracy."""

from harness.metrics.estimate import Estimate, mean_ci, t_interval
from harness.metrics.rank import rank_metrics, topk_precision
from harness.metrics.regret import (
    aggregate,
    anytime,
    final_table,
    mann_whitney,
    regret,
    regret_at,
    regret_auc,
)

__all__ = ["Estimate", "aggregate", "anytime", "final_table", "mann_whitney", "mean_ci", "rank_metrics",
           "regret", "regret_at", "regret_auc", "t_interval", "topk_precision"]
