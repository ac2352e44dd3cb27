"""Regression targets: a number per row whose rare ranges matter.

* :mod:`~rebalance.regression.target` reads and bins the target;
* :mod:`~rebalance.regression.stats` describes it (histogram, skew, rare ranges);
* :mod:`~rebalance.regression.weights` weighs rows (inverse density, LDS, DenseWeight).
"""
