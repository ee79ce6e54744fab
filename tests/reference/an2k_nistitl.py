"""ANSI/NIST-ITL traditional encoding through IDEMIA's nistitl (PyPI
`nistitl`), an implementation independent of Pishkhan's `pishkhan-an2k`
crate, for cross-checking it.

    python an2k_nistitl.py parse FILE
        Prints the transaction as JSON:
        {"records": [{"type": 14, "fields": {"14.001": [["1234"]],
          "14.013": [["2"]], ..., "14.999": {"binary": N, "sha256": "..."}}}]}
        Every field is listed, LEN and CNT included, as subfields of items.
        A file nistitl refuses: its message on stderr, exit status 1.

    python an2k_nistitl.py build SPEC.json OUT
        Builds a transaction with nistitl from a JSON spec of the same shape
        (binary data given as {"hex": "..."}; LEN and CNT, if given, are
        ignored: nistitl computes them) and writes it to OUT.

Legacy binary records (Types 3-8) appear as fields T.001 (LEN), T.002 (IDC)
and T.999 (the bytes after the IDC byte).

nistitl reads and writes all text as Latin-1. When 1.015 DCS declares UTF-8
(character set 3), `parse` decodes the text of the other records as UTF-8,
and `build` hands nistitl the UTF-8 bytes as Latin-1 characters, so that the
bytes written are UTF-8.
"""

import hashlib
import json
import sys

from nistitl import AsciiRecord, BinaryField, BinaryRecord, Field, Message


def binary(data):
    return {"binary": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def utf8_declared(type1):
    dcs = type1[15]
    if dcs is None:
        return False
    value = dcs.value
    first = value[0] if isinstance(value, list) else value
    first = first[0] if isinstance(first, list) else first
    return str(first).strip().isdigit() and int(first) == 3


def subfields(value, text):
    """A nistitl field value as subfields of items (all strings)."""
    if not isinstance(value, list):
        return [[text(value)]]
    return [[text(i) for i in sf] if isinstance(sf, list) else [text(sf)] for sf in value]


def parse(path):
    with open(path, "rb") as f:
        blob = f.read()
    msg = Message()
    msg.parse(blob)
    records = list(msg)
    utf8 = utf8_declared(records[0])
    out = []
    for r in records:
        t = r.type
        if isinstance(r, BinaryRecord):
            fields = {
                "%d.001" % t: [[str(r.length)]],
                "%d.002" % t: [[str(r.IDC)]],
                "%d.999" % t: binary(r.value),
            }
        else:
            def text(v, recode=(utf8 and t != 1)):
                s = str(v)
                return s.encode("latin-1").decode("utf-8") if recode else s

            fields = {}
            for f in r._fields:
                tag = "%d.%03d" % (t, f.tag)
                if isinstance(f, BinaryField):
                    fields[tag] = binary(f.value)
                else:
                    fields[tag] = subfields(f.value, text)
        out.append({"type": t, "fields": fields})
    return {"records": out}


def build(spec):
    records = spec["records"]
    utf8 = False
    msg = Message()
    type1 = msg[0]
    for tag in [f.tag for f in type1._fields if f.tag not in (1, 3)]:
        del type1[tag]
    for n, rec in enumerate(records):
        t = rec["type"]
        fields = {int(k.split(".")[1]): v for k, v in rec["fields"].items()}
        if n == 0:
            if t != 1:
                raise ValueError("the first record must be the Type-1")
            r = type1
        elif 3 <= t <= 8:
            r = BinaryRecord(t)
            r.IDC = int(fields[2][0][0])
            r.value = bytes.fromhex(fields.get(999, {"hex": ""})["hex"])
            msg += r
            continue
        else:
            r = AsciiRecord(t)
        recode = utf8 and t != 1

        def text(s):
            return s.encode("utf-8").decode("latin-1") if recode else s

        for tag in sorted(fields):
            value = fields[tag]
            if tag == 1 or (t == 1 and tag == 3):
                continue
            if isinstance(value, dict):
                r += BinaryField(t, tag, bytes.fromhex(value["hex"]))
                continue
            if len(value) == 1 and len(value[0]) == 1:
                v = text(value[0][0])
            else:
                v = [text(sf[0]) if len(sf) == 1 else [text(i) for i in sf] for sf in value]
            if tag == 2 and t != 1:
                r._2 = v
            else:
                r += Field(t, tag, v)
        if n == 0:
            utf8 = utf8_declared(type1)
        else:
            msg += r
    return msg.NIST


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "parse":
            json.dump(parse(argv[2]), sys.stdout, ensure_ascii=False)
            print()
        elif len(argv) == 4 and argv[1] == "build":
            with open(argv[2], encoding="utf-8") as f:
                spec = json.load(f)
            blob = build(spec)
            with open(argv[3], "wb") as f:
                f.write(blob)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Exception as e:  # nistitl's NistException, and bad specs
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
