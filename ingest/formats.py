"""The exchange formats ``tei-ingest export`` writes, by name, with what each is.

Kept apart from ``ingest.export`` so that the command line can list them without
importing the exporters: every command starts faster, and ``validate`` (run once a file
in some CI setups) most of all.
"""

from __future__ import annotations

#: Every format, in the order ``all`` writes them, with what it is.
FORMATS: dict[str, str] = {
    "bagit": "BagIt 1.0 bag of the corpus (TEI files and manifest) with an RO-Crate: DIR/bag/",
    "cmif": "Correspondence Metadata Interchange Format 1.1 of the letters: DIR/cmif.xml",
    "oai": "OAI-PMH Static Repository (oai_dc and tei headers): DIR/oai-pmh.xml",
    "dc": "Dublin Core records (oai_dc), one per document: DIR/dc/<stem>.xml",
}
