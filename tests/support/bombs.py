"""Decompression bombs built cheaply: a gzip member whose payload is mebibytes of zero bytes,
made from one compressed mebibyte repeated, so a test holds a 256 MiB bomb in 256 KiB and
never builds the payload it stands for."""

from __future__ import annotations

import struct
import zlib

MIB = 1024 * 1024


def _raw_deflate(data: bytes, final: bool) -> bytes:
    """``data`` as raw deflate; a full flush ends it byte-aligned and referring to nothing
    before it, so such pieces can be concatenated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH
    )


_ZERO_MIB = _raw_deflate(bytes(MIB), final=False)


def gzip_zeros(mebibytes: int, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """One gzip member (RFC 1952) of ``prefix``, ``mebibytes`` MiB of zero bytes, ``suffix``."""
    deflated = _raw_deflate(prefix, False) + _ZERO_MIB * mebibytes + _raw_deflate(suffix, True)
    crc = zlib.crc32(prefix)
    zeros = bytes(MIB)
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(suffix, crc)
    size = (len(prefix) + mebibytes * MIB + len(suffix)) % 2**32
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + deflated + struct.pack("<II", crc, size)
