"""Serves tests/router_autobahn_js/page.html and the Autobahn|JS browser build on 127.0.0.1,
on a free port it prints (`port N`), until killed.

    python serve.py AUTOBAHN_MIN_JS
"""
import functools
import http.server
import os
import shutil
import sys
import tempfile


def main():
    root = tempfile.mkdtemp()
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "page.html"), root)
    shutil.copy(sys.argv[1], os.path.join(root, "autobahn.min.js"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    print("port", server.server_address[1], flush=True)
    try:
        server.serve_forever()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
