#!/usr/bin/env python3
"""Oracle for lab 01 (logstat): the format rules of datasets/README.md, written a second time.

This file shares nothing with the Rust generator: it reads a log as bytes, decides which lines are
valid with a regular expression and a few range checks, and writes the exact answers a correct
`logstat` must give. The committed files under nginx/expected/ and text/expected/ come from it.

    python3 datasets/nginx/oracle.py                      # nginx/access.log -> nginx/expected/
    python3 datasets/nginx/oracle.py LOG --out DIR        # any log -> DIR/top-<field>.json, DIR/words.json
    python3 datasets/nginx/oracle.py --text FILE --out DIR   # text mode -> DIR/words.json
    python3 datasets/nginx/oracle.py LOG --times          # per line: "<unix seconds> <offset minutes>" or "-"

Each report is {"field": F, "total": T, "malformed": M, "top": [{"key": K, "count": C}, ...]} with
every key, ordered by count descending, then by the key's bytes ascending; keys are decoded from
bytes with UTF-8, invalid bytes replaced by U+FFFD. In log mode T is the number of valid lines; in
text mode T is the number of words and M is 0.

Standard library only (re, ipaddress, json, plus argparse and pathlib to run).
"""

import argparse
import ipaddress
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ["ip", "url", "path", "status", "method", "ua", "referer"]
MONTHS = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"]

# A quoted field: any byte but `"` and `\`, or a backslash and any one byte.
QUOTED = rb'"((?:[^"\\]|\\.)*)"'
LINE = re.compile(
    rb"([^ ]+) - ([^ ]+) "
    rb"\[([0-9]{2})/([A-Za-z]{3})/([0-9]{4}):([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})\] "
    + QUOTED
    + rb" ([0-9]{3}) ([0-9]+) "
    + QUOTED
    + rb" "
    + QUOTED,
    re.DOTALL,
)
PATH_WORD = re.compile(rb"[A-Za-z0-9]+")


def is_address(raw):
    """What Rust's std::net::IpAddr::from_str accepts."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return False
    # ipaddress takes IPv6 scope ids (fe80::1%eth0); IpAddr does not.
    if "%" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_days(year, month):
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year, month, day):
    """Days since 1970-01-01 in the proleptic Gregorian calendar (any year, even 0000)."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def split_request(request):
    """(method, target) when the request is METHOD TARGET PROTOCOL, else None."""
    first = request.find(b" ")
    last = request.rfind(b" ")
    if first <= 0 or last == first:
        return None
    method, target, protocol = request[:first], request[first + 1 : last], request[last + 1 :]
    if not target or not protocol:
        return None
    return method, target


def parse(line):
    """A dict of the line's keys, or None when the line is malformed."""
    if line.endswith(b"\r"):
        line = line[:-1]
    m = LINE.fullmatch(line)
    if m is None:
        return None
    addr, user, day, mon, year, hh, mm, ss, sign, zh, zm, request, status, size, referer, ua = m.groups()
    if not is_address(addr) or mon not in MONTHS:
        return None
    year, month, day = int(year), MONTHS.index(mon) + 1, int(day)
    hh, mm, ss, zh, zm = int(hh), int(mm), int(ss), int(zh), int(zm)
    if not (1 <= day <= month_days(year, month)) or hh > 23 or mm > 59 or ss > 59 or zh > 23 or zm > 59:
        return None
    offset = (zh * 60 + zm) * (-1 if sign == b"-" else 1)
    local = days_from_civil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss
    keys = {"ip": addr, "status": status, "ua": ua, "referer": referer}
    split = split_request(request)
    if split is not None:
        method, target = split
        keys["method"] = method
        keys["url"] = target
        keys["path"] = target.split(b"?", 1)[0]
    return {"keys": keys, "time": local - offset * 60, "offset": offset, "bytes": int(size)}


def lines_of(data):
    """Lines split on \\n; the empty piece after a final newline is not a line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def report(field, total, malformed, counts):
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "field": field,
        "total": total,
        "malformed": malformed,
        "top": [{"key": k.decode("utf-8", "replace") if isinstance(k, bytes) else k, "count": c} for k, c in top],
    }


def dump(rep, path):
    """One key per line, so diffs of the committed answers stay readable."""
    head = ",\n".join(
        f"  {json.dumps(name)}: {json.dumps(rep[name], ensure_ascii=False)}" for name in ("field", "total", "malformed")
    )
    rows = ",\n".join(f"    {json.dumps(row, ensure_ascii=False)}" for row in rep["top"])
    body = f'{{\n{head},\n  "top": [\n{rows}\n  ]\n}}\n' if rows else f'{{\n{head},\n  "top": []\n}}\n'
    path.write_text(body, encoding="utf-8")


def log_reports(data):
    parsed = [parse(line) for line in lines_of(data)]
    valid = [p for p in parsed if p is not None]
    total, malformed = len(valid), len(parsed) - len(valid)
    reports = {}
    for field in FIELDS:
        counts = {}
        for p in valid:
            key = p["keys"].get(field)
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
        reports[f"top-{field}.json"] = report(field, total, malformed, counts)
    words = {}
    for p in valid:
        for w in PATH_WORD.findall(p["keys"].get("path", b"")):
            w = w.lower()
            words[w] = words.get(w, 0) + 1
    reports["words.json"] = report("word", total, malformed, words)
    return reports


def text_report(data):
    text = data.decode("utf-8", "replace")
    counts, word = {}, []
    for ch in text + " ":
        if ch.isalnum():
            word.append(ch)
        elif word:
            w = "".join(word).lower()
            counts[w] = counts.get(w, 0) + 1
            word = []
    rep = report("word", sum(counts.values()), 0, {k.encode("utf-8"): c for k, c in counts.items()})
    return {"words.json": rep}


def main():
    ap = argparse.ArgumentParser(description="Write the expected answers for a log or a text.")
    ap.add_argument("log", nargs="?", type=Path, default=HERE / "access.log", help="log to read (default: access.log here)")
    ap.add_argument("--text", type=Path, metavar="FILE", help="count the words of FILE instead of reading a log")
    ap.add_argument("--out", type=Path, metavar="DIR", help="where to write (default: expected/ beside the input)")
    ap.add_argument("--times", action="store_true", help="print each line's unix time and offset (or -) and stop")
    args = ap.parse_args()

    source = args.text or args.log
    data = source.read_bytes()
    if args.times:
        out = sys.stdout
        for line in lines_of(data):
            p = parse(line)
            out.write("-\n" if p is None else f"{p['time']} {p['offset']}\n")
        return
    reports = text_report(data) if args.text else log_reports(data)
    out_dir = args.out or source.resolve().parent / "expected"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rep in reports.items():
        dump(rep, out_dir / name)


if __name__ == "__main__":
    main()
