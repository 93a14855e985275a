"""Batches of variable-length examples: packed or one example per row.

``training.sequence_length`` is the longest sequence a micro-batch row holds: it sets the
memory peak (activations and logits scale with it). How many tokens a row holds on average
sets the step count, the micro-batch count and the attention span:

- ``packing: true`` (the default): examples are concatenated into rows of
  ``sequence_length`` tokens (Raffel et al. 2020, T5 §3.1.2; Hugging Face TRL
  ``SFTConfig(packing=True)``), so every row is full.
- ``packing: false``: one example per row, of ``mean_sequence_length`` tokens on average
  (``sequence_length`` when not given). Padding a row to the longest of its micro-batch is
  ``padding_efficiency``'s business (:func:`compute.processed_tokens`).
"""

from __future__ import annotations

import numpy as np


def row_tokens(sequence_length: int, packing: bool, mean_sequence_length: int | None) -> int:
    """Real tokens in the mean micro-batch row: ``sequence_length`` when packed, else the
    mean example's length (``mean_sequence_length``, else ``sequence_length``)."""
    if packing or mean_sequence_length is None:
        return sequence_length
    return int(np.minimum(mean_sequence_length, sequence_length))
