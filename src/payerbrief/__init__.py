"""Briefs for health-care billing codes, built from public payer and Medicare files."""

__version__ = "0.1.0"
