"""A real WebSocket peer for the tunnel tests (the `websockets` package from PyPI).

    ws_peer.py server          echo server on 127.0.0.1, OS-chosen port; prints "port N".
                               It greets each connection with "hello" at once (frames right
                               after the 101), then echoes every message back.
    ws_peer.py client URL      small, 4 MiB and fragmented messages through URL; prints "ok".
    ws_peer.py idle URL SECS   connects, sends nothing; prints "closed" if the connection is
                               closed within SECS seconds, "open" if not.
Every mode is bounded in time and exits by itself.
"""
import asyncio
import os
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws):
    await ws.send("hello")
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


async def server():
    async with serve(echo, "127.0.0.1", 0, max_size=None) as running:
        port = running.sockets[0].getsockname()[1]
        print(f"port {port}", flush=True)
        await asyncio.sleep(600)  # the test kills it long before


def step(name):
    print(f"step: {name}", file=sys.stderr, flush=True)


async def client(url):
    async with connect(url, max_size=None, open_timeout=20) as ws:
        step("connected")
        assert await asyncio.wait_for(ws.recv(), 20) == "hello", "no greeting"
        step("greeted")
        await ws.send("small")
        assert await asyncio.wait_for(ws.recv(), 20) == "small", "small echo"
        step("small")
        big = os.urandom(4 * 1024 * 1024)
        await ws.send(big)
        assert await asyncio.wait_for(ws.recv(), 60) == big, "4 MiB echo"
        step("big")
        # One message in three frames: the server sees one message and echoes it whole.
        await ws.send(["frag-one ", "frag-two ", "frag-three"])
        assert await asyncio.wait_for(ws.recv(), 20) == "frag-one frag-two frag-three", "fragmented echo"
        await ws.close()
    print("ok", flush=True)


async def idle(url, seconds):
    async with connect(url, open_timeout=20, ping_interval=None) as ws:
        assert await asyncio.wait_for(ws.recv(), 20) == "hello", "no greeting"
        try:
            await asyncio.wait_for(ws.wait_closed(), seconds)
            print("closed", flush=True)
        except asyncio.TimeoutError:
            print("open", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "server":
        asyncio.run(server())
    elif mode == "client":
        asyncio.run(asyncio.wait_for(client(sys.argv[2]), 120))
    elif mode == "idle":
        asyncio.run(idle(sys.argv[2], float(sys.argv[3])))
