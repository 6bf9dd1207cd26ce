#!/usr/bin/env python3
"""Open N idle keep-alive HTTP/1.1 connections to HOST:PORT and hold them.

Usage: idle_conns.py HOST PORT [N=10000] [--batch 100] [--timeout 120] [--path /1k]

Each connection sends one `GET /1k HTTP/1.1` request, reads the full response
(Content-Length or chunked body) and then stays open and idle. Connections
are opened with at most --batch handshakes in flight at once so the server's
accept queue is not overwhelmed.

When all connections are done, prints "ok=K failed=F" and then "ready" on
stdout (flushed), then blocks until stdin reaches EOF, SIGTERM/SIGINT arrives,
or --timeout seconds pass (bounded: max 600s). On exit it prints to stderr how
many held connections the server had closed in the meantime.

Only the standard library is used. RLIMIT_NOFILE is raised to fit N.
"""
import argparse
import asyncio
import resource
import signal
import sys


def raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        try:  # only works with CAP_SYS_RESOURCE
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return
        except (ValueError, OSError):
            sys.exit(f"idle_conns: RLIMIT_NOFILE hard limit {hard} < {need} needed; "
                     f"lower N or raise the limit")
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    length = None
    chunked = False
    for line in lines[1:]:
        if ":" not in line:
            continue
        name, value = line.split(":", 1)
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and "close" in value.lower():
            raise ValueError("server sent Connection: close")
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                break
            await reader.readexactly(size + 2)
    elif length is not None:
        await reader.readexactly(length)
    else:
        raise ValueError("response without Content-Length or chunked encoding")
    if status != 200:
        raise ValueError(f"status {status}")
    return status


async def open_one(host, port, request, sem, conns, errors, connect_timeout):
    async with sem:
        for attempt in range(2):
            writer = None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), connect_timeout)
                writer.write(request)
                await writer.drain()
                await asyncio.wait_for(read_response(reader), connect_timeout)
                conns.append((reader, writer))
                return
            except Exception as e:  # noqa: BLE001 - we report every kind
                if writer is not None:
                    writer.close()
                if attempt == 1:
                    errors.append(f"{type(e).__name__}: {e}")
                else:
                    await asyncio.sleep(0.1)


async def main_async(args) -> int:
    request = (f"GET {args.path} HTTP/1.1\r\nHost: bench\r\n\r\n").encode()
    sem = asyncio.Semaphore(args.batch)
    conns, errors = [], []
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    tasks = [asyncio.create_task(open_one(args.host, args.port, request, sem, conns,
                                          errors, args.connect_timeout))
             for _ in range(args.n)]
    done_all = asyncio.gather(*tasks)
    stop_wait = asyncio.create_task(stop.wait())
    await asyncio.wait({done_all, stop_wait}, timeout=args.timeout,
                       return_when=asyncio.FIRST_COMPLETED)
    if not done_all.done():
        done_all.cancel()
        print(f"idle_conns: interrupted while opening ({len(conns)} open)", file=sys.stderr)
        return 1

    if errors:
        sample = "; ".join(sorted(set(errors))[:5])
        print(f"idle_conns: {len(errors)} connections failed: {sample}", file=sys.stderr)
    print(f"ok={len(conns)} failed={len(errors)}", flush=True)
    print("ready", flush=True)

    # Block until stdin EOF, a signal, or the timeout.
    def on_stdin():
        try:
            data = sys.stdin.buffer.raw.read(4096)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            stop.set()
    try:
        loop.add_reader(sys.stdin.fileno(), on_stdin)
    except (ValueError, OSError, NotImplementedError, PermissionError):
        pass  # stdin not pollable (e.g. a regular file): rely on signal/timeout
    try:
        await asyncio.wait_for(stop.wait(), args.timeout)
    except asyncio.TimeoutError:
        print("idle_conns: timeout, exiting", file=sys.stderr)

    closed = sum(1 for r, _ in conns if r.at_eof())
    print(f"idle_conns: {closed}/{len(conns)} held connections were closed by the server",
          file=sys.stderr)
    for _, w in conns:
        w.close()
    return 0 if not errors else 2


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("n", type=int, nargs="?", default=10000)
    p.add_argument("--batch", type=int, default=100, help="handshakes in flight at once")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to hold (max 600)")
    p.add_argument("--connect-timeout", type=float, default=10.0)
    p.add_argument("--path", default="/1k")
    args = p.parse_args()
    args.timeout = max(1.0, min(args.timeout, 600.0))
    raise_nofile(args.n + 64)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
