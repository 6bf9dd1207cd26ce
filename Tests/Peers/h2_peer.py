"""A raw HTTP/2 client for the tests (the `h2` package from PyPI), over h2c prior knowledge.

    h2_peer.py settings PORT        prints the server's SETTINGS as "name=value" lines.
    h2_peer.py rapid-reset PORT N   opens N streams, resetting each at once (CVE-2023-44487),
                                    then prints "goaway CODE" once the server sends GOAWAY,
                                    or "no goaway" if it never does (bounded at 20 s).
    h2_peer.py idle PORT            opens a connection and sends nothing more; prints the server's
                                    "goaway CODE" (or "no goaway", bounded at 20 s).
    h2_peer.py hold PORT PATH       GETs PATH on stream 1 and keeps the connection open, printing
                                    "headers", "end" (END_STREAM), "rst CODE" and "goaway CODE" as frames
                                    arrive, then "closed" when the server closes (bounded at 20 s).
    h2_peer.py grpc PORT PATH TEXT  sends a gRPC-style unary call (POST, application/grpc,
                                    te: trailers, TEXT as one length-prefixed message) and
                                    prints "status N", "header name=value", "message TEXT"
                                    and "trailer name=value" lines as they arrive, then "end".
"""
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn


def events(sock, conn, deadline):
    while time.time() < deadline:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return
        if not data:
            return
        for event in conn.receive_data(data):
            yield event
        pending = conn.data_to_send()
        if pending:
            try:
                sock.sendall(pending)
            except OSError:
                return


def settings(port):
    sock, conn = connect(port)
    for event in events(sock, conn, time.time() + 20):
        if isinstance(event, h2.events.RemoteSettingsChanged):
            for code, setting in sorted(event.changed_settings.items()):
                name = h2.settings.SettingCodes(code).name if code in h2.settings.SettingCodes._value2member_map_ else str(code)
                print(f"{name}={setting.new_value}", flush=True)
            return


def rapid_reset(port, count):
    sock, conn = connect(port)
    headers = [(":method", "GET"), (":path", "/hello"), (":scheme", "http"), (":authority", "h2.test")]
    try:
        for index in range(count):
            stream = 1 + 2 * index
            conn.send_headers(stream, headers, end_stream=True)
            conn.reset_stream(stream)
            sock.sendall(conn.data_to_send())
    except Exception:
        pass  # the server may close while we still send; its GOAWAY is what counts
    # Frames are read raw from here: the server also resets streams after its GOAWAY, which
    # h2's state machine refuses to process once the connection is closed.
    print(goaway_code(sock, time.time() + 20), flush=True)


def grpc(port, path, text):
    sock, conn = connect(port)
    headers = [(":method", "POST"), (":path", path), (":scheme", "http"), (":authority", "grpc.test"),
               ("content-type", "application/grpc"), ("te", "trailers")]
    message = text.encode()
    conn.send_headers(1, headers)
    conn.send_data(1, b"\x00" + len(message).to_bytes(4, "big") + message, end_stream=True)
    sock.sendall(conn.data_to_send())
    body = b""
    for event in events(sock, conn, time.time() + 20):
        if isinstance(event, h2.events.ResponseReceived):
            for name, value in event.headers:
                name, value = name.decode(), value.decode()
                print(f"status {value}" if name == ":status" else f"header {name}={value}", flush=True)
        elif isinstance(event, h2.events.DataReceived):
            body += event.data
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            if len(body) >= 5:
                print("message " + body[5:5 + int.from_bytes(body[1:5], "big")].decode(), flush=True)
            for name, value in event.headers:
                print(f"trailer {name.decode()}={value.decode()}", flush=True)
        elif isinstance(event, h2.events.StreamReset):
            print(f"reset {event.error_code}", flush=True)
            return
        elif isinstance(event, h2.events.StreamEnded):
            print("end", flush=True)
            return


def hold(port, path):
    sock, conn = connect(port)
    headers = [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "h2.test")]
    conn.send_headers(1, headers, end_stream=True)
    sock.sendall(conn.data_to_send())
    # Raw frames from here: h2's state machine refuses the stream's frames after a GOAWAY.
    buffer, deadline = b"", time.time() + 20
    while time.time() < deadline:
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[0:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, flags, stream = buffer[3], buffer[4], int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
            payload, buffer = buffer[9:9 + length], buffer[9 + length:]
            if kind == 1 and stream == 1:
                print("headers", flush=True)
            if kind in (0, 1) and stream == 1 and flags & 0x1:
                print("end", flush=True)
            if kind == 7:
                print("goaway " + h2.errors.ErrorCodes(int.from_bytes(payload[4:8], "big")).name, flush=True)
            if kind == 3:
                print("rst " + h2.errors.ErrorCodes(int.from_bytes(payload[0:4], "big")).name, flush=True)
            if kind == 6 and not flags & 0x1:  # PING: answer it, as a live client does
                sock.sendall(len(payload).to_bytes(3, "big") + bytes([6, 1]) + b"\x00\x00\x00\x00" + payload)
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not data:
            print("closed", flush=True)
            return
        buffer += data
    print("still open", flush=True)


def goaway_code(sock, deadline):
    """Reads frames (9-byte header: length, type, flags, stream) until a GOAWAY (type 7)."""
    buffer = b""
    while time.time() < deadline:
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[0:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, payload = buffer[3], buffer[9:9 + length]
            buffer = buffer[9 + length:]
            if kind == 7:
                return "goaway " + h2.errors.ErrorCodes(int.from_bytes(payload[4:8], "big")).name
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not data:
            break
        buffer += data
    return "no goaway"


if __name__ == "__main__":
    import h2.errors
    import h2.settings
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "settings":
        settings(port)
    elif mode == "rapid-reset":
        rapid_reset(port, int(sys.argv[3]))
    elif mode == "hold":
        hold(port, sys.argv[3])
    elif mode == "idle":
        print(goaway_code(connect(port)[0], time.time() + 20), flush=True)
    elif mode == "grpc":
        grpc(port, sys.argv[3], sys.argv[4])
