"""Multi-label manifests: several labels per row.

* :mod:`~rebalance.multilabel.labels` reads the label sets (delimited text, list columns,
  0/1 columns);
* :mod:`~rebalance.multilabel.stats` measures their imbalance (IRLbl, MeanIR, SCUMBLE…);
* :mod:`~rebalance.multilabel.render` shows a report to people.
"""
