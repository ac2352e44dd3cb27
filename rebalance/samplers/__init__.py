"""Methods that carry out a plan: which rows to keep, copy or synthesize.

``random`` works on label codes and row keys only; ``tabular`` adapts
imbalanced-learn's samplers to manifests.
"""
