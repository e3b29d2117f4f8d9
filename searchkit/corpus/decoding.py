"""Article bytes to text: UTF-8, UTF-16/32 with or without BOM, legacy Windows-1258; NFC, "\\n" line ends.

`decode_text` decodes a whole file; `text_lines` decodes a file line by line for JSON Lines
corpora larger than memory should hold, and keeps each line within a byte limit. Problems are
ValueErrors whose message says why, for the corpus layer to report.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO

# C0/C1 controls other than tab, newlines, vertical tab and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")

_UNDECODABLE = "cannot decode text (not UTF-8/UTF-16/UTF-32)"
# UTF-32 first: its little-endian BOM begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Enough of a file's head to tell its encoding when it is read line by line.
_SNIFF_BYTES = 4096


class LineTooLong(ValueError):
    """A line of more bytes than the limit given to `text_lines`; the rest of it was not read."""


def decode_text(data: bytes) -> str:
    """Decode an article file to NFC text with "\\n" line ends; ValueError says why it cannot be."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data, codec)
            break
    else:
        if b"\x00" in data:
            codec = _wide_without_bom(data)
            if codec is None:
                raise ValueError("binary file")
            text = _strict(data, codec)
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = _legacy(data)
    return _checked(text)


def clean_text(text: str) -> str:
    """NFC text with "\\n" line ends."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def text_lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[int, str | ValueError]]:
    """(line number, text) of every line of a seekable binary file, decoded as `decode_text` does.

    One line is in memory at a time. A line that cannot be read gives its ValueError instead of
    text: `LineTooLong` past `max_bytes` bytes (its line end not counted), or why it cannot be
    decoded. Line numbers count "\\n", "\\r\\n" and a lone "\\r" alike. Raises ValueError at once for
    a file whose head is binary.
    """
    head = handle.read(_SNIFF_BYTES)
    handle.seek(0)
    codec = next((codec for bom, codec in _BOMS if head.startswith(bom)), None)
    if codec is None:
        codec = _wide_without_bom(head) if b"\x00" in head else "utf-8"
        if codec is None:
            raise ValueError("binary file")
    if codec.startswith("utf-8"):
        return _byte_lines(handle, max_bytes)
    return _wide_lines(handle, codec, max_bytes)


def _byte_lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[int, str | ValueError]]:
    # UTF-8 and legacy text end lines with single bytes: each line is decoded alone, so one bad
    # line costs only itself.
    number = 0
    # Two bytes more than allowed leave room for the "\r\n" after a line at the limit.
    while raw := handle.readline(max_bytes + 2):
        line = raw[:-1] if raw.endswith(b"\n") else raw
        line = line[:-1] if line.endswith(b"\r") else line
        if len(line) > max_bytes:
            number += 1
            yield number, LineTooLong(f"longer than {max_bytes} bytes")
            while raw and not raw.endswith(b"\n"):  # the rest of the line, never held whole
                raw = handle.readline(1 << 20)
            continue
        try:
            text = decode_text(line)
        except ValueError as exc:
            number += 1
            yield number, exc
            continue
        for part in text.split("\n"):  # a lone "\r" inside the line
            number += 1
            yield number, part


def _wide_lines(
    handle: BinaryIO, codec: str, max_bytes: int
) -> Iterator[tuple[int, str | ValueError]]:
    # UTF-16 and UTF-32 spread a line end over several bytes: decoded incrementally, as a stream.
    unit = 4 if codec.startswith("utf-32") else 2
    measure = "utf-32-le" if unit == 4 else "utf-16-le"
    # A line of more characters than this has more than `max_bytes` bytes.
    limit = max_bytes // unit + 1
    stream = io.TextIOWrapper(handle, encoding=codec, newline=None)
    number = 0
    try:
        while line := stream.readline(limit):
            number += 1
            text = line[:-1] if line.endswith("\n") else line
            if len(line) == limit and line[-1] != "\n" or len(text.encode(measure)) > max_bytes:
                yield number, LineTooLong(f"longer than {max_bytes} bytes")
                while line and not line.endswith("\n"):
                    line = stream.readline(1 << 20)
                continue
            try:
                yield number, _checked(text)
            except ValueError as exc:
                yield number, exc
    except UnicodeDecodeError:
        # The decoder works in blocks, so where the bad bytes are is known only roughly.
        yield number + 1, ValueError(f"{_UNDECODABLE} from here to the end of the file")
    finally:
        stream.detach()


def _checked(text: str) -> str:
    if len(_CONTROL.findall(text)) > 0.05 * len(text):
        raise ValueError("binary file")
    return clean_text(text)


def _strict(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise ValueError(_UNDECODABLE) from None


def _wide_without_bom(data: bytes) -> str | None:
    return _utf32_without_bom(data) or _utf16_without_bom(data)


def _utf32_without_bom(data: bytes) -> str | None:
    # A UTF-32 character's highest byte is always NUL and the next one at most 0x10 (NUL for every
    # letter of Vietnamese); ASCII letters and spaces add a third NUL, the lowest byte is rarely one.
    units = len(data) // 4
    if not units or len(data) % 4:
        return None
    sides = [data[side::4] for side in range(4)]
    for codec, (top, high, middle, low) in (("utf-32-le", sides[::-1]), ("utf-32-be", sides)):
        nul = top.count(0) == units and max(high) <= 0x10
        if nul and middle.count(0) >= 0.3 * units and low.count(0) <= 0.05 * units:
            return codec
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    # Text in UTF-16 has a NUL in nearly every ASCII character's high byte, always on the same side.
    pairs = len(data) // 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if pairs and odd >= 0.3 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if pairs and even >= 0.3 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


def _legacy(data: bytes) -> str:
    # Windows-1258 maps almost every byte, so accept it only when the result reads like text:
    # no controls, few symbols, and every tone mark composed onto a vowel.
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        raise ValueError(_UNDECODABLE) from None
    controls = len(_CONTROL.findall(text))
    strays = sum(unicodedata.category(char)[0] in "SM" for char in text)
    if controls > 0.05 * len(text):
        raise ValueError("binary file")
    if controls or strays > 0.02 * len(text):
        raise ValueError(_UNDECODABLE)
    return text
