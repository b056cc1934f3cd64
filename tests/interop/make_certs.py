"""Writes a test CA and a server certificate for `localhost` (trustme) into DIR:
ca.pem, server.pem (certificate chain), server.key.

    python make_certs.py DIR
"""
import os
import sys

import trustme


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    ca.cert_pem.write_to_path(os.path.join(out, "ca.pem"))
    cert.private_key_pem.write_to_path(os.path.join(out, "server.key"))
    with open(os.path.join(out, "server.pem"), "wb") as f:
        for blob in cert.cert_chain_pems:
            f.write(blob.bytes())


if __name__ == "__main__":
    main()
