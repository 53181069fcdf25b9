"""Exit 0 if a PNG (8-bit RGB or RGBA, as Chromium's screenshots are) is not blank: at least
1% of its pixels differ from the most common colour (the background), and it has at least
three colours. Standard library only: zlib and the five PNG row filters."""

import struct
import sys
import zlib
from collections import Counter


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                sys.exit(f"{path}: depth {depth}, colour type {colour}: not 8-bit RGB(A)")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        previous = line
        for x in range(0, stride, channels):
            yield bytes(line[x:x + 3])


def main(path):
    counts = Counter(pixels(path))
    total = sum(counts.values())
    background, most = counts.most_common(1)[0]
    drawn = 1 - most / total
    print(f"{path}: {total} pixels, {len(counts)} colours, {drawn:.1%} not background")
    if drawn < 0.01 or len(counts) < 3:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
