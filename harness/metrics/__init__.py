"""Pure analysis functions: anytime regret of search runs, rank agreement of proxies with accuracy."""

from harness.metrics.rank import Estimate, rank_metrics, topk_precision
from harness.metrics.regret import (
    aggregate,
    anytime,
    final_table,
    mann_whitney,
    regret,
    regret_at,
    regret_auc,
)

__all__ = ["Estimate", "aggregate", "anytime", "final_table", "mann_whitney", "rank_metrics", "regret",
           "regret_at", "regret_auc", "topk_precision"]
