"""A raw HTTP/2 client for the tests (the `h2` package from PyPI), over h2c prior knowledge.

    h2_peer.py settings PORT        prints the server's SETTINGS as "name=value" lines.
    h2_peer.py rapid-reset PORT N   opens N streams, resetting each at once (CVE-2023-44487),
                                    then prints "goaway CODE" once the server sends GOAWAY,
                                    or "no goaway" if it never does (bounded at 20 s).
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
