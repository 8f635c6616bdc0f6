"""How models scale their settings to the data's size: the thresholds every model's
`settings_for_size` reads (at call time, so a test may lower them)."""
from __future__ import annotations

import numpy as np

#: above this many ratings models pick the settings that fit minutes on one machine
LARGE_RATINGS = 5_000_000
#: the Keras models' epochs at scale (and as many again for the refit): about 10 minutes at 25M
LARGE_EPOCHS = 6
#: ease keeps this many most-rated movies once the catalogue is past its own `max_items`
EASE_LARGE_ITEMS = 10_000


def large_batch(n_ratings: int) -> int:
    """The batch grows with the data: 1024 up to about 500k ratings, 65,536 from about 17M."""
    return int(min(65536, max(1024, 2 ** int(np.log2(max(n_ratings, 1) / 256)))))


def epochs_at_scale(n_ratings: int) -> tuple[dict, list[str]]:
    """The batch and epoch cap of a Keras model (a blend's Keras part too, through `parts_sized_for`)."""
    batch = large_batch(n_ratings)
    if batch <= 1024:
        return {}, []
    return ({"batch_size": batch, "epochs": LARGE_EPOCHS},
            [f"batch {batch:,} and at most {LARGE_EPOCHS} epochs at {n_ratings:,} ratings"])
