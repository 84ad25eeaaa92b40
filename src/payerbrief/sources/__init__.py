"""One reader per public file format; each streams, validates and yields Arrow batches."""
