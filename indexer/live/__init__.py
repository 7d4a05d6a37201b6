"""Live writes: upserts and deletes on a built index, durable in a write-ahead log, searchable at once.

- `log`: the write-ahead log in ``DIR/live/`` (fsync'd before a write is acknowledged) and the writer lock.
- `embed`: a product -> its vectors and thumbnail, through the encoders and the embedding cache.
- `lexical`: BM25 over the delta, scored with the live collection's statistics.
- `segment`: the main segment (the built index) + the delta, as immutable snapshots.
- `compact`: a new index version from a snapshot; the offline `index update` / `index compact`.
"""
