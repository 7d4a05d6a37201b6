"""Typed errors shared by every layer. Each message says what is wrong and how to fix it."""


class ProdsearchError(Exception):
    """Base class of every error a user can act on."""


class ModelLoadError(ProdsearchError):
    """A model name, checkpoint or directory cannot be loaded."""


class IndexError_(ProdsearchError):
    """Base for index problems (named with a trailing underscore to keep the builtin)."""


class IndexNotFoundError(IndexError_):
    """No index at the given directory."""


class ManifestMismatchError(IndexError_):
    """The index on disk was built with other models or settings than the ones configured."""


class CatalogError(ProdsearchError):
    """The catalog file cannot be read at all (missing, unknown format); also `indexer.catalog.CatalogError`."""


class InvalidArrayError(ProdsearchError, ValueError):
    """An array has the wrong dtype or shape; the message names both and the fix."""


class InvalidQueryError(ProdsearchError, ValueError):
    """A search request is malformed (no input, bad filter, k out of range...)."""


class ImageDecodeError(ProdsearchError, ValueError):
    """Bytes that should be an image cannot be decoded."""


class ImageShapeError(ImageDecodeError):
    """An image refused for its shape before decoding (a longer side many times its shorter one): well formed,
    but no product photo, and costly to resample (the API answers 422, a build records an image failure)."""


class CorruptIndexError(IndexError_):
    """An index file is missing, truncated, changed or inconsistent; one line naming the file, ending in
    "rebuild the index"."""
