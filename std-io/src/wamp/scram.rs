//! WAMP-SCRAM (authmethod `scram`), client side, and the stored keys a router checks it
//! against ([`scram_secret`]), as Autobahn|Python and Crossbar.io speak it
//! (the draft of wamp-proto issue 135): SCRAM-SHA-256 over an argon2id (or PBKDF2) salted
//! password, the router's signature checked on WELCOME.
//!
//! ```text
//!   HELLO.authextra.nonce = base64(16 random bytes)                (client nonce)
//!   CHALLENGE.extra: nonce (ours + the router's), kdf, salt (base64), iterations, memory
//!   salted  = argon2id v1.3 (t = iterations, m = memory KiB, p = 1, 32 bytes), taken as
//!             its unpadded base64 text (Autobahn's PHC-string quirk); or PBKDF2-HMAC-SHA256
//!   auth    = "n=AUTHID,r=CLIENT_NONCE,r=NONCE,s=SALT,i=ITERATIONS,c=,r=NONCE"
//!   proof   = HMAC(salted, "Client Key") XOR HMAC(SHA256(HMAC(salted, "Client Key")), auth)
//!   AUTHENTICATE signature = base64(proof)
//!   WELCOME.authextra.scram_server_signature == HMAC(HMAC(salted, "Server Key"), auth)
//! ```
//!
//! Needs a heap (argon2's memory); authids are used as they are (no SASLprep: ASCII authids
//! only). Channel binding is not part of what the routers implement yet.

use base64::Engine as _;
use ferrobahn_core::wamp::auth::scram;
use sha2::Sha256;

use super::WampError;
pub use ferrobahn_core::wamp::router::config::ScramSecret;

/// The salted password SCRAM keys come from: argon2id v1.3 (t = iterations, m = memory KiB,
/// p = 1, 32 bytes) as its unpadded base64 text (Autobahn's quirk), or PBKDF2-HMAC-SHA256.
fn salted_password(
    kdf: &str,
    password: &str,
    salt: &[u8],
    iterations: u32,
    memory: Option<u32>,
) -> Result<Vec<u8>, WampError> {
    match kdf {
        "argon2id-13" | "argon2id13" => {
            let memory =
                memory.ok_or_else(|| WampError::Auth("SCRAM argon2id needs `memory`".into()))?;
            let params = argon2::Params::new(memory, iterations, 1, Some(32))
                .map_err(|e| WampError::Auth(format!("SCRAM argon2 parameters: {e}")))?;
            let a =
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
            let mut raw = [0u8; 32];
            a.hash_password_into(password.as_bytes(), salt, &mut raw)
                .map_err(|e| WampError::Auth(format!("SCRAM argon2: {e}")))?;
            Ok(base64::engine::general_purpose::STANDARD_NO_PAD
                .encode(raw)
                .into_bytes())
        }
        "pbkdf2" => {
            let mut raw = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut raw);
            Ok(raw.to_vec())
        }
        other => Err(WampError::Auth(format!("SCRAM kdf {other:?} unknown"))),
    }
}

/// What a router stores for a WAMP-SCRAM principal with this password: the salted
/// password's stored key and server key (Crossbar's `stored-key` and `server-key`). `kdf` is
/// `argon2id-13` (with `memory` in KiB) or `pbkdf2`.
pub fn scram_secret(
    password: &str,
    kdf: &str,
    salt: &[u8],
    iterations: u32,
    memory: Option<u32>,
) -> Result<ScramSecret, WampError> {
    let salted = salted_password(kdf, password, salt, iterations, memory)?;
    let (stored_key, server_key) = scram::keys(&salted);
    Ok(ScramSecret {
        kdf: kdf.to_owned(),
        iterations,
        memory: if kdf == "pbkdf2" { None } else { memory },
        salt: salt.to_vec(),
        stored_key,
        server_key,
    })
}

/// The state of one SCRAM exchange.
pub(crate) struct Scram {
    pub(crate) client_nonce: String,
    salted: Vec<u8>,
    auth_message: String,
}

/// The challenge's parameters.
pub(crate) struct ScramChallenge<'a> {
    pub nonce: &'a str,
    pub kdf: &'a str,
    pub salt: &'a str,
    pub iterations: u64,
    pub memory: Option<u64>,
}

impl Scram {
    pub(crate) fn new() -> Self {
        let mut nonce = [0u8; 16];
        crate::entropy::fill(&mut nonce);
        Self {
            client_nonce: base64::engine::general_purpose::STANDARD.encode(nonce),
            salted: Vec::new(),
            auth_message: String::new(),
        }
    }

    /// The AUTHENTICATE signature for the challenge.
    pub(crate) fn respond(
        &mut self,
        authid: &str,
        password: &str,
        c: &ScramChallenge<'_>,
    ) -> Result<String, WampError> {
        let b64 = &base64::engine::general_purpose::STANDARD;
        // The router's nonce extends ours (base64 of our bytes followed by its own).
        let ours = b64.decode(&self.client_nonce).unwrap_or_default();
        let theirs = b64
            .decode(c.nonce)
            .map_err(|_| WampError::Auth("SCRAM nonce is not base64".into()))?;
        if theirs.len() <= ours.len() || !theirs.starts_with(&ours) {
            return Err(WampError::Auth("SCRAM nonce does not extend ours".into()));
        }
        let salt = b64
            .decode(c.salt)
            .map_err(|_| WampError::Auth("SCRAM salt is not base64".into()))?;
        let iterations =
            u32::try_from(c.iterations).map_err(|_| WampError::Auth("SCRAM iterations".into()))?;
        let memory = c.memory.and_then(|m| u32::try_from(m).ok());
        self.salted = salted_password(c.kdf, password, &salt, iterations, memory)?;
        self.auth_message =
            scram::auth_message(authid, &self.client_nonce, c.nonce, c.salt, c.iterations);
        let proof = scram::client_proof(&self.salted, self.auth_message.as_bytes());
        Ok(b64.encode(proof))
    }

    /// Checks the router's `scram_server_signature` (base64).
    pub(crate) fn verify_server(&self, signature_b64: &str) -> Result<(), WampError> {
        let got = base64::engine::general_purpose::STANDARD
            .decode(signature_b64)
            .map_err(|_| WampError::Auth("SCRAM server signature is not base64".into()))?;
        let (_, server_key) = scram::keys(&self.salted);
        let want = scram::server_signature(&server_key, self.auth_message.as_bytes());
        // Not secret-dependent timing worth guarding: the value is public once sent.
        if got == want {
            Ok(())
        } else {
            Err(WampError::Auth(
                "the router's SCRAM signature is wrong".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_autobahns_scram() {
        // Autobahn|Python 26.10.2's AuthScram with the same nonces, salt and parameters.
        let mut s = Scram::new();
        s.client_nonce = "AAECAwQFBgcICQoLDA0ODw==".into();
        let c = ScramChallenge {
            nonce: "AAECAwQFBgcICQoLDA0OD6qqqqqqqqqqqqqqqqqqqqo=",
            kdf: "argon2id-13",
            salt: "ZGVmZ2hpamtsbW5vcHFycw==",
            iterations: 4,
            memory: Some(512),
        };
        assert_eq!(
            s.respond("carol", "secret3", &c).unwrap(),
            "3h+pq1RmQnwiapc2vGBnxO5nPSz1yOZ6Td9IDtdHr4g="
        );
        s.verify_server("Pxkp8GAHk37FILtg/Cv4Kk1oJ92lLK29xjzDhu6gi5Y=")
            .unwrap();
        assert!(s.verify_server("AAAA").is_err());
        // A router nonce that does not extend ours is refused.
        let bad = ScramChallenge {
            nonce: "ZGVmZ2hpamtsbW5vcHFycw==",
            ..c
        };
        assert!(s.respond("carol", "secret3", &bad).is_err());
    }
}
