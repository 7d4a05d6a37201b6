"""Whether an upload is a stored product photo, pixel for pixel (`search.photo_pixels`), on hand-drawn photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from support import as_jpeg, studio_photo

from search.photo_pixels import CLEARLY_CLOSEST, MAX_RMSE, grid_size, pixels, rmse, same_photo


def test_the_grid_keeps_the_stored_photos_aspect_on_its_longer_side():
    assert grid_size(60, 80) == (12, 16)
    assert grid_size(256, 192) == (16, 12)
    assert grid_size(3, 1000) == (1, 16)  # never 0 wide
    assert grid_size(60, 80, side=8) == (6, 8)


def test_pixels_are_area_averages_on_the_grid():
    im = Image.new("RGB", (4, 2), (0, 0, 0))
    im.paste((200, 100, 0), (0, 0, 2, 2))  # the left half
    grid = pixels(im, (2, 1))
    assert grid.shape == (1, 2, 3) and grid[0, 0].tolist() == [200, 100, 0] and grid[0, 1].tolist() == [0, 0, 0]
    assert rmse(grid, grid) == 0.0 and rmse(grid[:, :1], grid[:, 1:]) > 100


def test_white_background_in_both_is_left_out_of_the_difference():
    white = np.full((10, 10, 3), 255.0, np.float32)
    a, b = white.copy(), white.copy()
    a[0, 0], b[0, 1] = (40, 40, 40), (40, 40, 40)  # two small dark things in different places
    assert rmse(a, b) == pytest.approx(215.0)  # over the 2 cells with something in them, not all 100
    assert float(np.sqrt(np.mean((a - b) ** 2))) < 31  # what counting the white cells too would have said
    assert rmse(white, white.copy()) == 0.0


def test_a_larger_squashed_jpeg_of_a_stored_photo_is_that_photo_and_a_near_identical_shot_is_not():
    stored = as_jpeg(studio_photo((180, 30, 40)))
    upload = as_jpeg(studio_photo((180, 30, 40)).resize((224, 224), Image.Resampling.BICUBIC), quality=75)
    shifted = as_jpeg(studio_photo((180, 30, 40), at=16))  # the same product shot 4 px to the right
    other_colour = as_jpeg(studio_photo((150, 30, 60)))  # the same cut in another shade
    size = grid_size(*stored.size)
    assert rmse(pixels(upload, size), pixels(stored, size)) < MAX_RMSE / 2
    assert rmse(pixels(upload, size), pixels(shifted, size)) > MAX_RMSE
    assert rmse(pixels(upload, size), pixels(other_colour, size)) > MAX_RMSE
    assert same_photo(upload, [(7, shifted), (3, stored), (9, other_colour)]) == 3
    assert same_photo(upload, [(7, shifted), (9, other_colour)]) is None  # a photo of nothing stored
    assert same_photo(upload, []) is None
    assert same_photo(upload, [(3, stored), (4, stored.copy())]) is None  # the same photo of two products: undecided
    reshoot = as_jpeg(studio_photo((192, 36, 46)))  # re-shot a touch lighter: near, but the photo itself is nearer
    to_reshoot = rmse(pixels(upload, size), pixels(reshoot, size))
    assert rmse(pixels(upload, size), pixels(stored, size)) < CLEARLY_CLOSEST * to_reshoot and to_reshoot < MAX_RMSE
    assert same_photo(upload, [(5, reshoot), (3, stored)]) == 3
    assert same_photo(upload, [(5, reshoot)]) == 5  # alone within the bound, it is the one
    assert same_photo(upload, [(3, stored)], max_rmse=0.01) is None  # the bound is the caller's


def test_an_upload_is_compared_on_each_stored_photos_own_grid():
    stored_tall = as_jpeg(studio_photo((20, 90, 160)))
    stored_wide = as_jpeg(studio_photo((20, 90, 160), size=(80, 60)))
    upload = studio_photo((20, 90, 160), size=(80, 60)).resize((320, 240))
    assert same_photo(upload, [(1, stored_tall), (2, stored_wide)]) == 2
