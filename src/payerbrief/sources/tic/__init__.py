"""Readers for Transparency in Coverage machine-readable files (in-network rates, allowed amounts, tables of contents)."""
