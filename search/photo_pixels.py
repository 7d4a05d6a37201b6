"""Whether an upload *is* a stored product photo: the two compared pixel for pixel on a small grid.

CLIP similarity says what a photo shows, not which photo it is: a resized copy of a product photo can score
0.93-0.97 against its own photo and within a few hundredths of a near-identical product shot on the same
white background. Pixels tell them apart. Both pictures are reduced (area averaging) to the same small grid,
``GRID`` pixels on the stored photo's longer side and in its aspect (an upload squashed to a square is
unsquashed), and compared as the root mean square difference of their RGB values (0-255) over the grid cells
that are not white background in both: a small product on white (sunglasses, a belt) would otherwise be close to
any other small product on white.

On the 44k fashion catalog, each product's larger photo (224 px, from another copy of the shop's originals)
against its own stored thumbnail: median 3.3, 99.9th percentile 7.4, largest 9.3; against the nearest other of
the image signal's 3 nearest products: 1st percentile 12.2 (README "Exact photo matches first").
`search.exact_photo` uses this to check the image signal's nearest products.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

GRID = 16  # pixels on the stored photo's longer side
MAX_RMSE = 8.0  # an upload within this of a stored photo (RGB, 0-255) is a copy of it
BACKGROUND = 235  # a cell whose channels are all at least this is white background
CLEARLY_CLOSEST = 0.5  # of several stored photos within MAX_RMSE, the closest wins if under this share of the next


def grid_size(width: int, height: int, side: int = GRID) -> tuple[int, int]:
    """(width, height) of the comparison grid for a stored photo of ``width`` x ``height``: ``side`` on the
    longer side, its aspect kept, at least 1."""
    scale = side / max(width, height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


def pixels(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """``image`` area-averaged to ``size`` (width, height), as float32 (height, width, 3) RGB."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.asarray(rgb.resize(size, Image.Resampling.BOX), dtype=np.float32)


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square RGB difference of two grids over the cells not white background in both (0 if none is)."""
    content = (a.min(axis=2) < BACKGROUND) | (b.min(axis=2) < BACKGROUND)
    if not content.any():
        return 0.0
    return float(np.sqrt(np.mean((a[content] - b[content]) ** 2)))


def same_photo(upload: Image.Image, stored: Sequence[tuple[int, Image.Image]], max_rmse: float = MAX_RMSE,
               side: int = GRID) -> int | None:
    """The key of the stored photo the upload reproduces (within ``max_rmse`` on the grid), or None: none does,
    or several do and the closest is not `CLEARLY_CLOSEST` (the same photo of several products decides nothing;
    a re-shoot of the product on the same set is near, the photo itself nearer)."""
    grids: dict[tuple[int, int], np.ndarray] = {}  # the upload once per grid size
    near = []
    for key, photo in stored:
        size = grid_size(*photo.size, side=side)
        if size not in grids:
            grids[size] = pixels(upload, size)
        distance = rmse(grids[size], pixels(photo, size))
        if distance <= max_rmse:
            near.append((distance, key))
    near.sort(key=lambda found: found[0])
    if len(near) == 1 or (len(near) > 1 and near[0][0] < CLEARLY_CLOSEST * near[1][0]):
        return near[0][1]
    return None
