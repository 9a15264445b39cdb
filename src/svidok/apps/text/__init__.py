"""Text in evidence: OCR of images and the text of PDFs, stored and full-text searchable."""
