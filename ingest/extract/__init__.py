"""Extractors: structure, dates, languages, people and document type."""
