"""Zip containers (PPTX, DOCX, XLSX, EPUB) read within limits, so a zip bomb
fails with a sentence instead of taking the process's memory.

Python's ``zipfile`` stops at each member's *declared* size, but ``read()``
first inflates up to 2 GB in one call, and a member can declare 1 KB and
inflate to gigabytes. So every member is inflated here as a stream, in small
steps, with its declared size, its actual size and its compression ratio checked
as the bytes come, and nothing kept. Once a package passes ``check_zip``, the
libraries that open it themselves (python-pptx, python-docx, openpyxl) read
at most what was checked.

Hand-written on purpose: no maintained library checks the actual inflated size
while streaming; the checks are the zip format's own fields and ``zlib``.

Example::

    check_zip(path)                                   # LoaderError naming the member
    with zipfile.ZipFile(path) as zf:
        xml = read_member(zf, "[Content_Types].xml")  # bounded read of one member
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mmrag.errors import InvalidArgument, LoaderError

MiB = 1024 * 1024
_CHUNK = 64 * 1024  # compressed bytes per read, and inflated bytes per step
_XML_SUFFIXES = (".xml", ".rels", ".xhtml", ".html", ".htm", ".opf", ".ncx", ".svg")
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # the zip format's local file header
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """How far one zip container may inflate.

    XML parts get a lower cap than pictures and media: parsers hold XML as a
    tree several times its size. The ratio check applies once a member has
    inflated past ``ratio_floor_bytes`` (small members of zeros compress
    hugely and harmlessly); real Office XML compresses 5-50x, deflate tops out
    near 1,000x, which is what a bomb uses.
    """

    max_members: int = 20_000
    max_xml_member_bytes: int = 64 * MiB
    max_member_bytes: int = 256 * MiB
    max_total_bytes: int = 512 * MiB
    max_ratio: float = 250.0
    ratio_floor_bytes: int = 8 * MiB

    def __post_init__(self) -> None:
        for name in ("max_members", "max_xml_member_bytes", "max_member_bytes", "max_total_bytes", "max_ratio"):
            if not getattr(self, name) > 0:
                raise InvalidArgument(f"ZipLimits.{name} must be > 0, got {getattr(self, name)}")

    def member_cap(self, name: str) -> int:
        """The inflated-size cap for a member of this name."""
        return self.max_xml_member_bytes if name.lower().endswith(_XML_SUFFIXES) else self.max_member_bytes


DEFAULT_ZIP_LIMITS = ZipLimits()


def _mb(n: int) -> str:
    return f"{n / MiB:,.0f} MB" if n >= MiB else f"{n:,} bytes"


def _too_big(path: Path | str, name: str, what: str, cap: int, knob: str) -> LoaderError:
    return LoaderError(
        path, f"zip member '{name}' {what} over the limit of {_mb(cap)} (possible zip bomb; ZipLimits.{knob})"
    )


def _total_too_big(path: Path | str, name: str, limits: ZipLimits) -> LoaderError:
    return LoaderError(
        path,
        f"zip archive inflates to over the limit of {_mb(limits.max_total_bytes)} by member '{name}' "
        "(possible zip bomb; ZipLimits.max_total_bytes)",
    )


def _data_offset(fh, info: zipfile.ZipInfo, path: Path | str) -> int:
    """Where the member's compressed bytes start (after its local header)."""
    fh.seek(info.header_offset)
    raw = fh.read(_LOCAL_HEADER.size)
    if len(raw) != _LOCAL_HEADER.size or raw[:4] != b"PK\x03\x04":
        raise LoaderError(path, f"damaged zip archive: member '{info.filename}' has no local header")
    fields = _LOCAL_HEADER.unpack(raw)
    return info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]


def iter_member(
    zf: zipfile.ZipFile, member: str | zipfile.ZipInfo, limits: ZipLimits = DEFAULT_ZIP_LIMITS, *, budget: int | None = None
) -> Iterator[bytes]:
    """The member's inflated bytes in pieces of at most 64 KiB, checked as they
    come against the member's cap, its declared size, the ratio and ``budget``
    (bytes the whole archive may still inflate). Raises ``LoaderError`` naming the member."""
    path = zf.filename or "(zip)"
    info = member if isinstance(member, zipfile.ZipInfo) else zf.getinfo(member)
    name = info.filename
    if info.flag_bits & 0x1:
        raise LoaderError(path, f"zip member '{name}' is encrypted: it cannot be read without its password")
    if info.compress_type not in _METHODS:
        raise LoaderError(
            path, f"zip member '{name}' uses compression method {info.compress_type}, which Office and EPUB files never use"
        )
    cap = limits.member_cap(name)
    knob = "max_xml_member_bytes" if cap == limits.max_xml_member_bytes else "max_member_bytes"
    if info.file_size > cap:
        raise _too_big(path, name, f"declares {_mb(info.file_size)},", cap, knob)
    if budget is not None and info.file_size > budget:
        raise _total_too_big(path, name, limits)
    fh = zf.fp
    if fh is None:
        raise InvalidArgument("the zip file is closed")
    start = _data_offset(fh, info, path)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, consumed, produced, crc = info.compress_size, 0, 0, 0
    pending = b""
    while True:
        if not pending:
            if left <= 0:
                break
            fh.seek(start + consumed)
            pending = fh.read(min(_CHUNK, left))
            if not pending:
                raise LoaderError(path, f"damaged zip archive: member '{name}' is cut short")
            consumed += len(pending)
            left -= len(pending)
        if inflater is None:
            out, pending = pending, b""
        else:
            try:
                out = inflater.decompress(pending, _CHUNK)
            except zlib.error as exc:
                raise LoaderError(path, f"damaged zip archive: member '{name}' cannot be inflated ({exc})") from exc
            pending = inflater.unconsumed_tail
        if not out:
            if inflater is not None and inflater.eof:
                break
            continue
        produced += len(out)
        if produced > cap:
            raise _too_big(path, name, "inflates to", cap, knob)
        if budget is not None and produced > budget:
            raise _total_too_big(path, name, limits)
        if produced > info.file_size:
            raise LoaderError(
                path, f"zip member '{name}' inflates past the {_mb(info.file_size)} it declares (a forged zip)"
            )
        if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * consumed:
            raise LoaderError(
                path,
                f"zip member '{name}' inflates more than {limits.max_ratio:,.0f} times its compressed size "
                "(possible zip bomb; ZipLimits.max_ratio)",
            )
        crc = zlib.crc32(out, crc)
        yield out
    if inflater is not None and not inflater.eof:
        raise LoaderError(path, f"damaged zip archive: member '{name}' is cut short")
    if produced != info.file_size or crc != info.CRC:
        raise LoaderError(path, f"damaged zip archive: member '{name}' does not match its checksum")


def read_member(zf: zipfile.ZipFile, member: str | zipfile.ZipInfo, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> bytes:
    """One member's bytes, read through ``iter_member``'s checks (at most its cap)."""
    return b"".join(iter_member(zf, member, limits))


def declared_size(path: Path) -> int:
    """The sum of the members' declared inflated sizes: the decoded size of the
    container, known from the central directory without inflating anything."""
    with _open(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise LoaderError(path, f"damaged zip archive: {exc}") from exc
    except OSError as exc:
        raise LoaderError(path, f"cannot open: {exc.strerror or exc}") from exc


def check_zip(path: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
    """Inflate every member as a stream, keeping nothing, and raise ``LoaderError``
    naming the member at the first limit crossed: member count, a member's size
    (declared or actual), the compression ratio, or the archive's total."""
    with _open(path) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise LoaderError(
                path, f"zip archive has {len(infos):,} members, over the limit of {limits.max_members:,} (ZipLimits.max_members)"
            )
        budget = limits.max_total_bytes
        for info in infos:
            if info.is_dir():
                continue
            for piece in iter_member(zf, info, limits, budget=budget):
                budget -= len(piece)
