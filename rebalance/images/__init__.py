"""Image manifests: files, features, similarity-aware selection, augmentation, masks.

One module a job:

* :mod:`.files` — the path column, resolving paths, header checks (``--check-files``);
* :mod:`.scan` — ``inspect --check-files`` / ``--mask-col`` as one call;
* :mod:`.features` — ``builtin`` descriptors (cached) and the user's embeddings;
  :mod:`.cnn` — the optional MobileNetV3 extractor (``rebalance[embed]``);
* :mod:`.select` — ``cluster`` and ``dedup`` undersampling;
* :mod:`.augment` — new images on disk (``--method augment``);
* :mod:`.masks` — per-class pixel counts; :mod:`.repeat` — LVIS repeat factors.
"""
