#!/usr/bin/env python3
"""Loopback echo server and client for run-cases.sh (test helper, not a guest).

  echo_server.py tcp-server HOST PORTFILE   echo one TCP connection until EOF
  echo_server.py udp-server HOST PORTFILE   echo one UDP datagram
  echo_server.py tcp-client HOST PORT       send "ping weld\\n", shut down the
                                            sending side, print what comes back

A server binds HOST port 0, writes the port it got to PORTFILE, and serves
once. Everything stays on the loopback and gives up after 10 seconds.
"""
import socket
import sys

TIMEOUT = 10


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp_server(host, portfile):
    with socket.socket(family(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        s.listen(1)
        s.settimeout(TIMEOUT)
        with open(portfile, "w") as f:
            f.write(str(s.getsockname()[1]))
        conn, _ = s.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            while data := conn.recv(65536):
                conn.sendall(data)


def udp_server(host, portfile):
    with socket.socket(family(host), socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        s.settimeout(TIMEOUT)
        with open(portfile, "w") as f:
            f.write(str(s.getsockname()[1]))
        data, peer = s.recvfrom(65536)
        s.sendto(data, peer)


def tcp_client(host, port):
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as c:
        c.sendall(b"ping weld\n")
        c.shutdown(socket.SHUT_WR)
        got = b""
        while data := c.recv(65536):
            got += data
    sys.stdout.write("client received: %r\n" % got)


if __name__ == "__main__":
    {"tcp-server": tcp_server, "udp-server": udp_server, "tcp-client": tcp_client}[sys.argv[1]](*sys.argv[2:])
