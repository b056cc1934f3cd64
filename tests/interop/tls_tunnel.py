"""A local TLS client tunnel, so that a plain-TCP test driver (kosoku) can test a wss://
server: starts the server command given, reads its `listening on 127.0.0.1:PORT` line,
listens on 127.0.0.1 (free port) and forwards each connection over TLS to it (trusting
CA.pem, server name localhost).

    python tls_tunnel.py CA.pem SERVER_CMD... ADDR

ADDR (the last argument, as scripts/autobahn.sh passes it) goes to the server. Prints
`listening on 127.0.0.1:PORT` (the tunnel's port) once ready. On SIGTERM/SIGINT it stops
the server (by its PID) and exits.
"""
import asyncio
import signal
import ssl
import subprocess
import sys


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
            else:
                writer.close()
        except (OSError, RuntimeError):
            pass


async def main():
    ca, cmd = sys.argv[1], sys.argv[2:]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    target = None
    for line in server.stdout:
        if line.startswith("listening on "):
            target = line.split()[-1]
            break
    if target is None:
        print("tls_tunnel: the server printed no listening line", file=sys.stderr)
        sys.exit(1)
    host, port = target.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)

    async def handle(reader, writer):
        try:
            up_r, up_w = await asyncio.open_connection(host, int(port), ssl=ctx,
                                                       server_hostname="localhost")
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        for w in (writer, up_w):
            w.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"listening on 127.0.0.1:{listener.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    await stop
    server.terminate()
    server.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
