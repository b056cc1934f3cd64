"""An Autobahn|Python session that authenticates to our router (scripts/router-interop.sh
runs it against examples/router.toml's principals), calls `com.example.echo` and leaves.

    python auth_peer.py URL SERIALIZER METHOD AUTHID SECRET

METHOD: ticket, wampcra (salted when the challenge says so), scram (Autobahn checks the
router's signature in WELCOME), cryptosign (SECRET: the hex seed of the Ed25519 key).
Prints `ok METHOD AUTHID AUTHROLE RESULT` and exits 0 when the call returned its arguments;
prints the reason and exits 1 when the router refused.
"""
import asyncio
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp import auth, cryptosign
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer, UBJSONSerializer

outcome = {"code": 1}


class Peer(ApplicationSession):
    def onConnect(self):
        method, authid, secret = self.config.extra["method"], self.config.extra["authid"], self.config.extra["secret"]
        extra = None
        if method == "scram":
            self._scram = auth.AuthScram(authid=authid, password=secret)
            extra = self._scram.authextra
        elif method == "cryptosign":
            self._key = cryptosign.CryptosignKey.from_bytes(bytes.fromhex(secret))
            extra = {"pubkey": self._key.public_key()}
        self.join(self.config.realm, authmethods=[method], authid=authid, authextra=extra)

    def onChallenge(self, challenge):
        method, secret = challenge.method, self.config.extra["secret"]
        if method == "ticket":
            return secret
        if method == "wampcra":
            key = secret
            if "salt" in challenge.extra:
                key = auth.derive_key(secret, challenge.extra["salt"], challenge.extra["iterations"],
                                      challenge.extra["keylen"])
            return auth.compute_wcs(key, challenge.extra["challenge"])
        if method == "scram":
            return self._scram.on_challenge(self, challenge)
        if method == "cryptosign":
            return self._key.sign_challenge(challenge)
        raise Exception(f"unexpected challenge {method}")

    def onWelcome(self, msg):
        if self.config.extra["method"] == "scram":
            # Raises (and so refuses the session) when the router's signature is wrong.
            return self._scram.on_welcome(self, msg.authextra)
        return None

    async def onJoin(self, details):
        res = await self.call("com.example.echo", "x", 7)
        # Several results come back as a CallResult.
        res = list(getattr(res, "results", [res]))
        if res == ["x", 7]:
            print("ok", details.authmethod, details.authid, details.authrole, res, flush=True)
            outcome["code"] = 0
        else:
            print("wrong result", res, flush=True)
        self.leave()

    def onLeave(self, details):
        if outcome["code"] != 0:
            print("left:", details.reason, details.message, flush=True)
        self.disconnect()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


def main():
    url, ser, method, authid, secret = sys.argv[1:6]
    serializer = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer,
                  "ubjson": UBJSONSerializer}[ser]()
    extra = {"method": method, "authid": authid, "secret": secret}
    ApplicationRunner(url, "realm1", extra=extra, serializers=[serializer]).run(Peer)
    sys.exit(outcome["code"])


if __name__ == "__main__":
    main()
