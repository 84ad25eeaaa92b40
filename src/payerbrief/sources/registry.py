"""The source kinds `payerbrief ingest` knows, and the readers of each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from payerbrief.errors import UnknownSourceKindError
from payerbrief.sources.base import MultiTableReader, SourceReader


@dataclass(frozen=True)
class SourceKind:
    name: str
    what: str
    readers: tuple[Callable[[Path], SourceReader | MultiTableReader], ...]
    path_optional: bool = False


def _kinds() -> dict[str, SourceKind]:
    # Imported here so that listing kinds does not import every reader first.
    from payerbrief.sources.coverage import CoverageArticleReader
    from payerbrief.sources.cpt import CptDescriptorReader
    from payerbrief.sources.gpci import GpciReader
    from payerbrief.sources.hcpcs import HcpcsCodeReader, HcpcsModifierReader
    from payerbrief.sources.icd10cm import Icd10CmReader
    from payerbrief.sources.locality import LocalityCountyReader
    from payerbrief.sources.mue import MueReader
    from payerbrief.sources.ncci import NcciPtpReader
    from payerbrief.sources.nppes import NppesReader
    from payerbrief.sources.nucc import NuccTaxonomyReader
    from payerbrief.sources.pfs import PfsRvuReader
    from payerbrief.sources.pos import PlaceOfServiceReader
    from payerbrief.sources.tic.allowed import AllowedAmountsReader
    from payerbrief.sources.tic.toc import TocReader
    from payerbrief.sources.ziplocality import ZipLocalityReader

    kinds = [
        # Payer files go through `payerbrief.tic_ingest.ingest_tic`, which tells
        # in-network, allowed-amounts and table-of-contents files apart.
        SourceKind("tic", "Transparency in Coverage payer files or URLs", ()),
        SourceKind(
            "pfs-rvu",
            "the CMS PPRRVU fee-schedule file (CSV, or the RVU ZIP)",
            (PfsRvuReader,),
        ),
        SourceKind("gpci", "the CMS GPCI file (Addendum E CSV)", (GpciReader,)),
        SourceKind(
            "locality-county",
            "the CMS locality-county file (25LOCCO CSV)",
            (LocalityCountyReader,),
        ),
        SourceKind(
            "hcpcs",
            "the CMS HCPCS Level II ANWEB file (ZIP or TXT)",
            (HcpcsCodeReader, HcpcsModifierReader),
        ),
        SourceKind(
            "zip-locality",
            "the CMS ZIP code to carrier locality file (ZIP5 TXT or its ZIP)",
            (ZipLocalityReader,),
        ),
        SourceKind(
            "ncci-ptp",
            "a CMS NCCI PTP edit file (ccipra/ccioph .txt, or its ZIP)",
            (NcciPtpReader,),
        ),
        SourceKind("mue", "a CMS MUE table (MCR_MUE_*.csv, or its ZIP)", (MueReader,)),
        SourceKind(
            "mcd-article",
            "the Medicare Coverage Database article export (current_article.zip "
            "or all_article.zip, or its folder of CSVs)",
            (CoverageArticleReader,),
        ),
        SourceKind(
            "tic-toc",
            "a Transparency in Coverage table-of-contents file (JSON or gzip)",
            (TocReader,),
        ),
        SourceKind(
            "tic-allowed-amounts",
            "a Transparency in Coverage allowed-amounts file (JSON or gzip)",
            (AllowedAmountsReader,),
        ),
        SourceKind(
            "nppes",
            "the CMS NPPES NPI file (npidata_pfile CSV, monthly or weekly, or the "
            "Data Dissemination ZIP)",
            (NppesReader,),
        ),
        SourceKind(
            "cpt-descriptors",
            "a CPT descriptor file you hold under your own AMA licence (LONGULT, "
            "MEDU, SHORTU, ConsumerDescriptor or ClinicianDescriptor .txt, or a "
            "code,descriptor CSV)",
            (CptDescriptorReader,),
        ),
        SourceKind("nucc", "the NUCC taxonomy CSV", (NuccTaxonomyReader,)),
        SourceKind("pos", "the place-of-service CSV", (PlaceOfServiceReader,)),
        SourceKind(
            "icd10cm",
            "a CDC ICD-10-CM tabular XML file (default: the one simple-icd-10-cm ships)",
            (Icd10CmReader,),
            path_optional=True,
        ),
    ]
    return {k.name: k for k in kinds}


def source_kind(name: str) -> SourceKind:
    kinds = _kinds()
    if name not in kinds:
        raise UnknownSourceKindError(name, sorted(kinds))
    return kinds[name]


def kind_names() -> list[str]:
    return sorted(_kinds())
