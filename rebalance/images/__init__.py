"""Image manifests: file checks and pixel-level (segmentation mask) counts.

One module a job: :mod:`.files` (path column, resolving, header checks) and
:mod:`.masks` (per-class pixel counts of segmentation masks).
"""
