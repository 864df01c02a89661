"""tei-ingest: encode plain-text archival documents as validated TEI P5."""

__version__ = "0.1.0"
