"""The glibc symbol versions an ELF file needs, read from its ``.gnu.version_r`` section.

A Linux build runs only where glibc is at least the highest ``GLIBC_x.y`` any of its files
needs; reading the files (rather than trying old distributions) checks the README's floor
on every CI run. A small reader, so the check needs neither binutils nor a library.
"""

from __future__ import annotations

import struct
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SHT_GNU_VERNEED = 0x6FFFFFFE


def _cstring(data: bytes, offset: int) -> str:
    return data[offset : data.index(b"\0", offset)].decode("ascii", "replace")


def needed_versions(path: Path) -> set[str]:
    """Every version name (``GLIBC_2.34``, ``GLIBCXX_3.4``, ...) the file needs; empty for
    files that are not 64-bit little-endian ELF."""
    data = path.read_bytes()
    if data[:4] != ELF_MAGIC or data[4] != 2 or data[5] != 1:
        return set()
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    names: set[str] = set()
    for _name, kind, _flags, _addr, offset, _size, link, count, _align, _entsize in sections:
        if kind != SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        need = offset
        for _ in range(count):
            _version, aux_count, _file, aux, next_need = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(aux_count):
                _hash, _flags2, _other, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                names.add(_cstring(data, strings + name))
                entry += next_aux
            need += next_need
    return names


def version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("_", 1)[1].split("."))


def highest_glibc(folder: Path) -> tuple[str, Path] | None:
    """The highest ``GLIBC_x.y`` needed by any ELF file under ``folder``, and one file that
    needs it."""
    best: tuple[str, Path] | None = None
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        for name in needed_versions(path):
            glibc = name.startswith("GLIBC_") and name[6:7].isdigit()
            if glibc and (best is None or version_key(name) > version_key(best[0])):
                best = (name, path)
    return best
