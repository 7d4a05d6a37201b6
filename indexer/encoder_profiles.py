"""Encoders whose weights load only when something must be embedded.

A rebuild whose texts and photos are all in the embedding cache needs only what an encoder *is*
(its name, width, cache identity, preprocessing: its profile), never its weights. The profile of a
loaded encoder is recorded in the cache directory (`PROFILES_FILE`) under a fingerprint of
everything the loaded model comes from: each model file's path, size, mtime, inode and ctime, the versions of
the libraries that build it, the code that builds it and the options. A later build with the same
fingerprint gets a `LazyEncoder` that answers from the profile and loads the model (importing torch)
at its first embedding; a changed model file changes the fingerprint, so the model is loaded and its
profile recorded again. A model whose files cannot be listed (a hub name, a pretrained tag) loads at
once, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from indexer.errors import ModelLoadError

logger = logging.getLogger(__name__)

PROFILES_FILE = "encoder_profiles.json"
# What the build and the embedding cache read from an encoder without embedding anything.
PROFILE_FIELDS = ("name", "dim", "cache_identity", "preprocessing", "spec", "text_tower", "trained")
# Libraries whose versions can change what a model file loads into.
MODEL_LIBRARIES = ("torch", "open_clip_torch", "transformers", "sentence-transformers", "timm", "safetensors")
# The code that turns model files into an encoder and its profile.
MODEL_CODE = ("encoders.py", "encoder_parts.py", "text_encoder.py", "clip_encoder.py", "clip_models.py", "clip_towers.py",
              "encoder_profiles.py")


def profile_of(encoder: Any) -> dict[str, Any]:
    """The `PROFILE_FIELDS` an encoder has, JSON-shaped (as stored and compared)."""
    return json.loads(json.dumps({f: getattr(encoder, f) for f in PROFILE_FIELDS if hasattr(encoder, f)}))


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in MODEL_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def _code_digest() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in MODEL_CODE:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    return digest.hexdigest()


def model_fingerprint(sources: Sequence[Path], options: dict[str, Any]) -> str:
    """A digest of ``options``, the model libraries and code, and every file under ``sources``
    (path, size, mtime, inode and ctime, as git checks its files: ctime changes with any rewrite, even one whose
    mtime is restored afterwards; a missing source counts as missing)."""
    digest = hashlib.sha256(json.dumps({"options": options, "libraries": _library_versions(), "code": _code_digest()},
                                       sort_keys=True).encode())
    for source in sources:
        source = Path(source).resolve()
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        digest.update(f"source\0{source}\n".encode())
        for path in files:
            try:
                info = path.stat()
            except OSError:
                digest.update(f"{path}\0missing\n".encode())
                continue
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\0{info.st_ctime_ns}\n".encode())
    return digest.hexdigest()


class ProfileStore:
    """Encoder profiles by model fingerprint, in one JSON file (replaced atomically on each change)."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / PROFILES_FILE

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("%s unreadable (%s): encoders load their models this time", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, fingerprint: str) -> dict[str, Any] | None:
        profile = self._read().get(fingerprint)
        if not (isinstance(profile, dict) and "name" in profile and "dim" in profile):
            return None
        return {k: v for k, v in profile.items() if k in PROFILE_FIELDS}

    def put(self, fingerprint: str, profile: dict[str, Any]) -> None:
        data = self._read()
        if data.get(fingerprint) == profile:
            return
        data[fingerprint] = profile
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".profiles-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class LazyEncoder:
    """An encoder's recorded profile; the model itself is loaded at the first call that embeds (or
    any attribute not in the profile). A loaded model whose profile differs from the recorded one
    (a model file changed without its size, mtime, inode or ctime changing) fails with `ModelLoadError`:
    the vectors cached under the recorded identity would not be its own."""

    def __init__(self, profile: dict[str, Any], load: Callable[[], Any], on_load: Callable[[Any], None]):
        self.__dict__.update(profile)
        self._profile = dict(profile)
        self._load, self._on_load = load, on_load
        self._inner: Any = None
        self._onnx_args: tuple[Path, int] | None = None

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    def load(self) -> Any:
        if self._inner is None:
            logger.info("loading model %s (a text or photo is not in the embedding cache)", self._profile["name"])
            inner = self._load()
            actual = profile_of(inner)
            self._on_load(inner)  # the true profile is recorded either way
            if actual != self._profile:
                raise ModelLoadError(f"model {self._profile['name']}: its files changed without their size, mtime, "
                                     "inode or ctime changing; run the build again (the new profile is now recorded)")
            if self._onnx_args is not None and hasattr(inner, "enable_onnx"):
                inner.enable_onnx(*self._onnx_args)
            self._inner = inner
        return self._inner

    def enable_onnx(self, directory: Path, threads: int) -> bool:
        """Remembered until the model loads (`SentenceTransformerEncoder.enable_onnx`)."""
        if self._inner is not None:
            return bool(getattr(self._inner, "enable_onnx", lambda *_: False)(directory, threads))
        self._onnx_args = (Path(directory), threads)
        return True

    def release_bulk(self) -> None:
        if self._inner is not None and hasattr(self._inner, "release_bulk"):
            self._inner.release_bulk()

    def encode_texts(self, texts: Sequence[str]) -> Any:
        return self.load().encode_texts(texts)

    def encode_images(self, images: Sequence[Any]) -> Any:
        return self.load().encode_images(images)

    def __getattr__(self, name: str) -> Any:  # only for names not in the profile or above
        if name.startswith("_") or name in PROFILE_FIELDS:  # a profile field the encoder does not have
            raise AttributeError(name)
        return getattr(self.load(), name)


def lazy_encoder(load: Callable[[], Any], sources: Sequence[Path] | None, options: dict[str, Any],
                 store: ProfileStore | None) -> Any:
    """``load()``'s encoder, or a `LazyEncoder` standing for it when ``store`` holds the profile recorded
    for the same fingerprint of ``sources`` and ``options``. ``sources=None`` (files unknown) or no store:
    loaded now."""
    if sources is None or store is None:
        return load()
    fingerprint = model_fingerprint(sources, options)
    profile = store.get(fingerprint)
    if profile is None:
        encoder = load()
        store.put(fingerprint, profile_of(encoder))
        return encoder
    return LazyEncoder(profile, load, lambda inner: store.put(fingerprint, profile_of(inner)))


def is_loaded(encoder: Any) -> bool:
    """False only for a `LazyEncoder` whose model has not been loaded."""
    return not isinstance(encoder, LazyEncoder) or encoder.loaded
