//! Client-side answers to a router's CHALLENGE, without a heap: ticket, WAMP-CRA and
//! WAMP-cryptosign (anonymous needs no answer). Each writes the AUTHENTICATE signature
//! into a caller's buffer; [`Session::authenticate`](super::session::Session::authenticate)
//! sends it.
//!
//! - **ticket**: the ticket itself.
//! - **wampcra** (feature `auth-cra`): base64(HMAC-SHA256(key, challenge)), where the key is
//!   the secret, or with `salt` in the challenge the base64 text of
//!   PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen) — as Autobahn|Python and
//!   Crossbar.io compute it.
//! - **cryptosign** (feature `auth-cryptosign`): Ed25519 over the 32-byte challenge (XORed
//!   with the channel binding when one is used), sent as hex of signature ‖ signed data
//!   (192 hex digits), as Autobahn|Python does.

/// Why a challenge could not be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// The challenge lacks a field the method needs, or it is malformed.
    BadChallenge(&'static str),
    /// The output buffer is too small.
    BufferTooSmall,
    /// The key material is unusable.
    BadKey,
}

impl core::fmt::Display for AuthError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AuthError::BadChallenge(w) => write!(f, "bad challenge: {w}"),
            AuthError::BufferTooSmall => f.write_str("buffer too small"),
            AuthError::BadKey => f.write_str("unusable key"),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of `bytes` into `out`.
pub fn hex_into<'o>(bytes: &[u8], out: &'o mut [u8]) -> Result<&'o str, AuthError> {
    let out = out
        .get_mut(..bytes.len() * 2)
        .ok_or(AuthError::BufferTooSmall)?;
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    // Hex digits are ASCII.
    core::str::from_utf8(out).map_err(|_| AuthError::BufferTooSmall)
}

/// Bytes from hex (either case) into `out`.
pub fn hex_decode<'o>(hex: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], AuthError> {
    if hex.len() % 2 != 0 {
        return Err(AuthError::BadChallenge("hex of odd length"));
    }
    let out = out
        .get_mut(..hex.len() / 2)
        .ok_or(AuthError::BufferTooSmall)?;
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(AuthError::BadChallenge("not hex")),
    };
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Ok(out)
}

/// WAMP-CRA.
#[cfg(feature = "auth-cra")]
pub mod cra {
    use super::AuthError;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    /// Length of the signature (base64 of 32 bytes).
    pub const SIGNATURE_LEN: usize = 44;

    /// Largest derived key accepted (`keylen`).
    pub const MAX_KEYLEN: usize = 64;

    /// The salted key: base64 of PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen),
    /// written into `out` (at most 88 bytes).
    pub fn derive_key<'o>(
        secret: &[u8],
        salt: &[u8],
        iterations: u32,
        keylen: usize,
        out: &'o mut [u8],
    ) -> Result<&'o [u8], AuthError> {
        if keylen == 0 || keylen > MAX_KEYLEN || iterations == 0 {
            return Err(AuthError::BadChallenge("keylen or iterations"));
        }
        let mut key = [0u8; MAX_KEYLEN];
        pbkdf2::pbkdf2_hmac::<Sha256>(secret, salt, iterations, &mut key[..keylen]);
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(&key[..keylen], out)
            .map_err(|_| AuthError::BufferTooSmall)?;
        Ok(&out[..n])
    }

    /// The signature: base64(HMAC-SHA256(key, challenge)).
    pub fn sign(key: &[u8], challenge: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(challenge);
        let digest = mac.finalize().into_bytes();
        let mut out = [0u8; SIGNATURE_LEN];
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(digest, &mut out)
            .unwrap_or(0);
        debug_assert_eq!(n, SIGNATURE_LEN);
        out
    }

    /// Answers a `wampcra` challenge: `challenge` is CHALLENGE.Extra.challenge, `salt`
    /// with its iterations and keylen when the router salts (Crossbar's defaults when
    /// absent: 1000 and 32).
    pub fn respond(
        secret: &[u8],
        challenge: &[u8],
        salt: Option<(&[u8], Option<u64>, Option<u64>)>,
    ) -> Result<[u8; SIGNATURE_LEN], AuthError> {
        match salt {
            None => Ok(sign(secret, challenge)),
            Some((salt, iterations, keylen)) => {
                let iterations = u32::try_from(iterations.unwrap_or(1000))
                    .map_err(|_| AuthError::BadChallenge("iterations"))?;
                let keylen = usize::try_from(keylen.unwrap_or(32))
                    .map_err(|_| AuthError::BadChallenge("keylen"))?;
                let mut buf = [0u8; 88];
                let key = derive_key(secret, salt, iterations, keylen, &mut buf)?;
                Ok(sign(key, challenge))
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn matches_autobahns_wampcra() {
            // From Autobahn|Python 26.10.2: autobahn.wamp.auth.compute_wcs(b"secret123",
            // b"hello"), derive_key(b"secret123", b"salt123", 100, 16), and compute_wcs with
            // that derived key.
            assert_eq!(
                &sign(b"secret123", b"hello"),
                b"btt+Uz/5JVH5Z7wCFnEnuThQpro0M++sqLz9JHg7Fg0="
            );
            let mut buf = [0u8; 88];
            assert_eq!(
                derive_key(b"secret123", b"salt123", 100, 16, &mut buf).unwrap(),
                b"DpHHRlQ6UNULJlP9J8WkPw=="
            );
            assert_eq!(
                &respond(
                    b"secret123",
                    b"hello",
                    Some((b"salt123", Some(100), Some(16)))
                )
                .unwrap(),
                b"3Pkbfedn9SK439qTu0cP8y1gbpRD7d5GzGy52Edh3rY="
            );
            assert!(respond(b"s", b"c", Some((b"salt", Some(0), None))).is_err());
        }
    }
}

/// WAMP-SCRAM's SCRAM-SHA-256 arithmetic (RFC 5802 §3) over an already salted password:
/// shared by the client (`ferrobahn-std`, which salts the password with argon2id or PBKDF2)
/// and the router (which keeps only the stored and server keys), so both sign the same thing.
#[cfg(feature = "auth-cra")]
pub mod scram {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    /// HMAC-SHA256.
    pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// StoredKey = SHA256(HMAC(salted, "Client Key")) and ServerKey = HMAC(salted,
    /// "Server Key"): what a router keeps of a password.
    pub fn keys(salted: &[u8]) -> ([u8; 32], [u8; 32]) {
        let client_key = hmac(salted, b"Client Key");
        (
            Sha256::digest(client_key).into(),
            hmac(salted, b"Server Key"),
        )
    }

    /// ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage).
    pub fn client_proof(salted: &[u8], auth_message: &[u8]) -> [u8; 32] {
        let mut proof = hmac(salted, b"Client Key");
        let stored: [u8; 32] = Sha256::digest(proof).into();
        for (p, s) in proof.iter_mut().zip(hmac(&stored, auth_message)) {
            *p ^= s;
        }
        proof
    }

    /// Whether `proof` is right: SHA256(proof XOR HMAC(StoredKey, AuthMessage)) is StoredKey
    /// (compared in constant time).
    pub fn verify_proof(proof: &[u8; 32], auth_message: &[u8], stored_key: &[u8; 32]) -> bool {
        let mut key = *proof;
        for (k, s) in key.iter_mut().zip(hmac(stored_key, auth_message)) {
            *k ^= s;
        }
        let hashed: [u8; 32] = Sha256::digest(key).into();
        hashed
            .iter()
            .zip(stored_key)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// ServerSignature = HMAC(ServerKey, AuthMessage), sent in WELCOME.
    pub fn server_signature(server_key: &[u8; 32], auth_message: &[u8]) -> [u8; 32] {
        hmac(server_key, auth_message)
    }

    /// The AuthMessage both sides sign, as Autobahn and Crossbar build it: `client_nonce`
    /// as the client sent it, `nonce` the router's extension of it, `salt` its base64.
    #[cfg(feature = "alloc")]
    pub fn auth_message(
        authid: &str,
        client_nonce: &str,
        nonce: &str,
        salt: &str,
        iterations: u64,
    ) -> alloc::string::String {
        alloc::format!("n={authid},r={client_nonce},r={nonce},s={salt},i={iterations},c=,r={nonce}")
    }
}

/// WAMP-cryptosign.
#[cfg(feature = "auth-cryptosign")]
pub mod cryptosign {
    use super::{hex_decode, hex_into, AuthError};

    /// Length of the answer: hex of a 64-byte signature and the 32 signed bytes.
    pub const SIGNATURE_HEX_LEN: usize = 192;

    /// An Ed25519 key for cryptosign.
    #[derive(Clone)]
    pub struct Key(ed25519_compact::KeyPair);

    impl core::fmt::Debug for Key {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            let mut hex = [0u8; 64];
            let pk = hex_into(&self.public_key(), &mut hex).unwrap_or("?");
            write!(f, "cryptosign::Key({pk})")
        }
    }

    impl Key {
        /// From the 32-byte private seed.
        pub fn from_seed(seed: [u8; 32]) -> Self {
            Key(ed25519_compact::KeyPair::from_seed(
                ed25519_compact::Seed::new(seed),
            ))
        }

        /// From the seed in hex (64 digits).
        pub fn from_hex(hex: &str) -> Result<Self, AuthError> {
            let mut seed = [0u8; 32];
            if hex.len() != 64 {
                return Err(AuthError::BadKey);
            }
            hex_decode(hex.as_bytes(), &mut seed).map_err(|_| AuthError::BadKey)?;
            Ok(Self::from_seed(seed))
        }

        /// From an unencrypted OpenSSH private key file (`ssh-keygen -t ed25519 -N ""`), as
        /// text. Encrypted keys are refused with [`AuthError::BadKey`].
        pub fn from_openssh(text: &str) -> Result<Self, AuthError> {
            use base64::Engine as _;
            let body = text
                .trim()
                .strip_prefix("-----BEGIN OPENSSH PRIVATE KEY-----")
                .and_then(|t| t.strip_suffix("-----END OPENSSH PRIVATE KEY-----"))
                .ok_or(AuthError::BadKey)?;
            // The base64 body without line breaks, then decoded: both fit on the stack.
            let mut b64 = [0u8; 1024];
            let mut n = 0;
            for &c in body.as_bytes().iter().filter(|c| !c.is_ascii_whitespace()) {
                *b64.get_mut(n).ok_or(AuthError::BadKey)? = c;
                n += 1;
            }
            let mut raw = [0u8; 768];
            let len = base64::engine::general_purpose::STANDARD
                .decode_slice(&b64[..n], &mut raw)
                .map_err(|_| AuthError::BadKey)?;
            let mut r = SshReader { buf: &raw[..len] };
            if r.take(15)? != b"openssh-key-v1\0" {
                return Err(AuthError::BadKey);
            }
            // Cipher and KDF "none": an unencrypted key.
            if r.string()? != b"none" || r.string()? != b"none" {
                return Err(AuthError::BadKey);
            }
            r.string()?; // KDF options
            if r.u32()? != 1 {
                return Err(AuthError::BadKey);
            }
            r.string()?; // the public key blob
            let mut p = SshReader { buf: r.string()? };
            if p.u32()? != p.u32()? {
                return Err(AuthError::BadKey);
            }
            if p.string()? != b"ssh-ed25519" {
                return Err(AuthError::BadKey);
            }
            let public = p.string()?;
            let private = p.string()?;
            if public.len() != 32 || private.len() != 64 || private[32..] != *public {
                return Err(AuthError::BadKey);
            }
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&private[..32]);
            let key = Self::from_seed(seed);
            if key.public_key()[..] != *public {
                return Err(AuthError::BadKey);
            }
            Ok(key)
        }

        /// The public key (HELLO.Details.authextra.pubkey, in hex).
        pub fn public_key(&self) -> [u8; 32] {
            *self.0.pk
        }

        /// The public key in hex, into `out` (64 bytes).
        pub fn public_key_hex<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, AuthError> {
            hex_into(&self.public_key(), out)
        }

        /// Answers a cryptosign challenge (hex of 32 bytes), optionally bound to the TLS
        /// channel (`tls-exporter`: the challenge is XORed with the 32-byte binding), into
        /// `out` (192 bytes).
        pub fn respond<'o>(
            &self,
            challenge_hex: &[u8],
            channel_binding: Option<&[u8; 32]>,
            out: &'o mut [u8],
        ) -> Result<&'o str, AuthError> {
            let mut data = [0u8; 32];
            if challenge_hex.len() != 64 {
                return Err(AuthError::BadChallenge("a 32-byte hex challenge"));
            }
            hex_decode(challenge_hex, &mut data)?;
            if let Some(b) = channel_binding {
                for (d, b) in data.iter_mut().zip(b) {
                    *d ^= b;
                }
            }
            let sig = self.0.sk.sign(data, None);
            let mut signed = [0u8; 96];
            signed[..64].copy_from_slice(&sig[..]);
            signed[64..].copy_from_slice(&data);
            hex_into(&signed, out)
        }
    }

    /// Reads the SSH wire format (big-endian lengths).
    struct SshReader<'a> {
        buf: &'a [u8],
    }

    impl<'a> SshReader<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8], AuthError> {
            if self.buf.len() < n {
                return Err(AuthError::BadKey);
            }
            let (head, rest) = self.buf.split_at(n);
            self.buf = rest;
            Ok(head)
        }
        fn u32(&mut self) -> Result<u32, AuthError> {
            let b = self.take(4)?;
            Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        }
        fn string(&mut self) -> Result<&'a [u8], AuthError> {
            let n = self.u32()? as usize;
            self.take(n)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Made with `ssh-keygen -t ed25519 -N "" -C ferrobahn-test` (OpenSSH, Debian 12).
        const OPENSSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDBFVV1wBdGBUSgeDXj/fAMM1rE5y96K8f25JNBGMW8gAAAAJiRIdXvkSHV
7wAAAAtzc2gtZWQyNTUxOQAAACDBFVV1wBdGBUSgeDXj/fAMM1rE5y96K8f25JNBGMW8gA
AAAECPWUw/ledsU+Px2Z4VcoeN9d3ep7L7e+hMHC0u/FQN+cEVVXXAF0YFRKB4NeP98Awz
WsTnL3orx/bkk0EYxbyAAAAADmZlcnJvYmFobi10ZXN0AQIDBAUGBw==
-----END OPENSSH PRIVATE KEY-----
";

        #[test]
        fn reads_openssh_ed25519_keys() {
            let key = Key::from_openssh(OPENSSH_KEY).unwrap();
            let mut hex = [0u8; 64];
            // From the matching .pub file.
            assert_eq!(
                key.public_key_hex(&mut hex).unwrap(),
                "c1155575c017460544a07835e3fdf00c335ac4e72f7a2bc7f6e4934118c5bc80"
            );
            assert!(Key::from_openssh("not a key").is_err());
            let truncated = OPENSSH_KEY.replace(
                "WsTnL3orx/bkk0EYxbyAAAAADmZlcnJvYmFobi10ZXN0AQIDBAUGBw==",
                "WsTn",
            );
            assert!(Key::from_openssh(&truncated).is_err());
        }

        #[test]
        fn signs_what_verifies() {
            let key = Key::from_hex(&"4d".repeat(32)).unwrap();
            let challenge = [0x5au8; 32];
            let mut chex = [0u8; 64];
            let chex = hex_into(&challenge, &mut chex).unwrap();
            let mut out = [0u8; SIGNATURE_HEX_LEN];
            let answer = key.respond(chex.as_bytes(), None, &mut out).unwrap();
            assert_eq!(answer.len(), SIGNATURE_HEX_LEN);
            let mut raw = [0u8; 96];
            hex_decode(answer.as_bytes(), &mut raw).unwrap();
            assert_eq!(&raw[64..], &challenge);
            let pk = ed25519_compact::PublicKey::new(key.public_key());
            let sig = ed25519_compact::Signature::from_slice(&raw[..64]).unwrap();
            assert!(pk.verify(challenge, &sig).is_ok());
            // Bound to a channel: the signed data is challenge XOR binding.
            let binding = [0xffu8; 32];
            let answer = key
                .respond(chex.as_bytes(), Some(&binding), &mut out)
                .unwrap();
            hex_decode(answer.as_bytes(), &mut raw).unwrap();
            assert_eq!(&raw[64..], &[0xa5u8; 32]);
            assert!(Key::from_hex("00").is_err());
            assert!(key.respond(b"zz", None, &mut out).is_err());
        }
    }
}
