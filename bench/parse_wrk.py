#!/usr/bin/env python3
"""Parse `wrk --latency` output (file argument or stdin).

Prints one line: "<req/s> <p50 ms> <p99 ms> <errors>" where <errors> is the
sum of socket errors (connect/read/write/timeout) and non-2xx/3xx responses.
Exits non-zero if the Requests/sec or the 50%/99% latency lines are missing.

wrk prints latencies with the units us, ms, s, m, h (see wrk's units.c);
they are normalised to milliseconds here.
"""
import re
import sys

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def to_ms(value: str) -> float:
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)(us|ms|s|m|h)", value.strip())
    if not m:
        raise ValueError(f"unrecognised latency value {value!r}")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse(text: str):
    rps = p50 = p99 = None
    errors = 0
    in_dist = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Latency Distribution"):
            in_dist = True
            continue
        if in_dist:
            m = re.fullmatch(r"(\d+(?:\.\d+)?)%\s+(\S+)", s)
            if m:
                pct = float(m.group(1))
                if pct == 50.0:
                    p50 = to_ms(m.group(2))
                elif pct == 99.0:
                    p99 = to_ms(m.group(2))
                continue
            in_dist = False
        m = re.match(r"Requests/sec:\s+([0-9.]+)", s)
        if m:
            rps = float(m.group(1))
            continue
        m = re.match(r"Socket errors:\s+connect (\d+), read (\d+), write (\d+), timeout (\d+)", s)
        if m:
            errors += sum(int(x) for x in m.groups())
            continue
        m = re.match(r"Non-2xx or 3xx responses:\s+(\d+)", s)
        if m:
            errors += int(m.group(1))
    missing = [n for n, v in (("Requests/sec", rps), ("50%", p50), ("99%", p99)) if v is None]
    if missing:
        raise ValueError("wrk output lacks " + ", ".join(missing))
    return rps, p50, p99, errors


def main() -> int:
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    try:
        rps, p50, p99, errors = parse(text)
    except ValueError as e:
        print(f"parse_wrk: {e}", file=sys.stderr)
        return 1
    print(f"{rps:.0f} {p50:.3f} {p99:.3f} {errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
