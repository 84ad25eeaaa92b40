"""The Transparency in Coverage in-network rates reader (schema 1.x and 2.x)."""

from payerbrief.sources.tic.innetwork.errors import TicFileBrokenError
from payerbrief.sources.tic.innetwork.reader import TicInNetworkReader

__all__ = ["TicFileBrokenError", "TicInNetworkReader"]
