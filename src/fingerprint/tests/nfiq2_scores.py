"""NFIQ 2 scores of PNG files, with NIST's NFIQ 2 through nbis-py.

Usage: python nfiq2_scores.py [--sample OUT.png] FILE.png ...

Prints one JSON object: {"scores": [...], "errors": [...], "sample": ...}.
`scores[i]` is the NFIQ 2 unified score (0-100) of FILE i; NFIQ 2 refuses
images without a fingerprint (blank, uniform), which are scored 0 and named
in `errors`. With --sample, the real fingerprint that the `wsq` package ships
as its test file (CeCILL-C licensed) is decoded and written to OUT.png, and
`sample` is {"path", "width", "height", "score"}; it is null when the package
does not ship the file.

One process for the whole list: NFIQ 2 loads its model once.
"""

import io
import json
import os
import struct
import sys

import nbis


def decode_package_sample(out_path):
    try:
        import _wsq
        import wsq
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(wsq.__file__), "tests", "test.wsq")
    if not os.path.exists(path):
        return None
    from PIL import Image

    data = open(path, "rb").read()
    pixels = _wsq.decompress(data)[0]
    # The frame header (SOF, 0xFFA2: L, black, white, lines, samples per
    # line) of this sample says 540 wide by 520 high, but the pixels only
    # form a fingerprint when read 520 wide: the file was encoded with its
    # dimensions swapped. Read it the way it was laid out.
    sof = data.find(b"\xff\xa2")
    lines, per_line = struct.unpack(">HH", data[sof + 6 : sof + 10])
    width, height = lines, per_line
    if width * height != len(pixels):
        return None
    Image.frombytes("L", (width, height), bytes(pixels)).save(out_path)
    return {"path": out_path, "width": width, "height": height}


def main(argv):
    sample_out = None
    if len(argv) >= 2 and argv[0] == "--sample":
        sample_out = argv[1]
        argv = argv[2:]
    settings = nbis.NbisExtractorSettings(
        min_quality=0.0,
        get_center=False,
        check_fingerprint=False,
        compute_nfiq2=True,
        ppi=500.0,
    )
    extractor = nbis.new_nbis_extractor(settings)

    def score(png_bytes):
        return int(extractor.extract_minutiae(png_bytes).quality().score)

    scores, errors = [], []
    for path in argv:
        try:
            scores.append(score(open(path, "rb").read()))
        except Exception as e:  # NFIQ 2 refuses blank or uniform images
            scores.append(0)
            errors.append({"path": path, "error": f"{type(e).__name__}: {e}"})
    sample = decode_package_sample(sample_out) if sample_out else None
    if sample is not None:
        sample["score"] = score(open(sample["path"], "rb").read())
    json.dump({"scores": scores, "errors": errors, "sample": sample}, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
