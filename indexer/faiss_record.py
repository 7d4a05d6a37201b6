"""The faiss store's manifest record (what `FaissVectorStore.save` returned), checked before it is used.

The manifest's ``vector_store`` is free-form for the seam's sake (each backend records its own), so an
edited or damaged one is checked here: file names relative to the version directory, a spec per field,
numbers where numbers go. A bad one is a `CorruptIndexError` naming manifest.json and the entry, not an
AttributeError from deep in the loader.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, PlainValidator, ValidationError, model_validator

from indexer.errors import CorruptIndexError
from indexer.manifest import MANIFEST_NAME


def _inside(name: str) -> str:
    """A file name relative to the version directory: not empty, not absolute, no ``..``."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise ValueError(f"{name!r} is not a file of the index version")
    return name


def _number(value: Any) -> int | float:
    """A JSON number, kept as written (an int stays an int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return value


RelativeFile = Annotated[str, AfterValidator(_inside)]
Number = Annotated[int | float, PlainValidator(_number)]


class SpecRecord(BaseModel):
    factory: str = "Flat"
    params: dict[str, Number] = Field(default_factory=dict)


class FaissRecord(BaseModel):
    files: dict[str, RelativeFile] = Field(default_factory=dict)  # field -> its index file
    deleted: dict[str, RelativeFile] = Field(default_factory=dict)  # field -> its tombstone bitmap
    overlay: dict[str, RelativeFile] = Field(default_factory=dict)  # field -> its exact overlay
    specs: dict[str, SpecRecord] = Field(default_factory=dict)
    recall_at_10: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_fields(self) -> FaissRecord:
        for part in ("deleted", "overlay"):
            unknown = sorted(set(getattr(self, part)) - set(self.files))
            if unknown:
                raise ValueError(f"{part} names field(s) {', '.join(unknown)} that have no index file")
        return self


def parse_record(directory: Any, record: Any) -> FaissRecord:
    """``record`` checked, or `CorruptIndexError` naming the first problem (``directory``: the index version)."""
    try:
        return FaissRecord.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(["vector_store", *map(str, first["loc"])])
        raise CorruptIndexError(f"index {directory}: {MANIFEST_NAME} has a damaged faiss record at {where} "
                                f"({first['msg']}); rebuild the index") from exc
