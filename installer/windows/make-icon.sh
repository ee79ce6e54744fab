#!/usr/bin/env bash
# Regenerates pishkhan.ico (the Windows installer's and shortcut's icon)
# from installer/pishkhan.svg: PNG images of 16 to 256 pixels in one .ico.
# Needs rsvg-convert (librsvg2-bin) and python3.
#   bash installer/windows/make-icon.sh
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sizes=(16 24 32 48 64 128 256)
for size in "${sizes[@]}"; do
  rsvg-convert -w "$size" -h "$size" ../pishkhan.svg -o "$tmp/$size.png"
done
# An .ico is a directory of images; PNG entries are allowed since Windows Vista.
python3 - "$tmp" pishkhan.ico "${sizes[@]}" <<'PY'
import struct, sys
folder, out, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
images = [open(f"{folder}/{s}.png", "rb").read() for s in sizes]
header = struct.pack("<HHH", 0, 1, len(images))
offset = len(header) + 16 * len(images)
entries = b""
for size, data in zip(sizes, images):
    side = 0 if size == 256 else size  # 0 means 256
    entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
    offset += len(data)
with open(out, "wb") as f:
    f.write(header + entries + b"".join(images))
PY
echo "wrote $(pwd)/pishkhan.ico"
