//! The negotiation permessage-brotli and permessage-snappy share (as Autobahn defines them):
//! two flags, `client_no_context_takeover` and `server_no_context_takeover`, no values.
//!
//! In an offer, `client_no_context_takeover` says the client *lets* the server ask it not to
//! keep context, `server_no_context_takeover` asks the server not to. In the response,
//! each flag tells that direction to start every message afresh. What a flag changes on the
//! wire is the codec's business (nothing for brotli, the stream identifier for snappy).

use core::fmt::Write;

use ferrobahn_core::deflate::NegotiationError;
use ferrobahn_core::handshake::ExtensionOffer;

/// What both ends agreed on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakeoverParams {
    /// The server starts every message it sends without context.
    pub server_no_context_takeover: bool,
    /// The client starts every message it sends without context.
    pub client_no_context_takeover: bool,
}

/// A client's offer (Autobahn's `PerMessageBrotliOffer` / `PerMessageSnappyOffer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakeoverOffer {
    /// Let the server ask us not to keep context (`client_no_context_takeover`).
    pub accept_no_context_takeover: bool,
    /// Ask the server not to keep context (`server_no_context_takeover`).
    pub request_no_context_takeover: bool,
}

impl Default for TakeoverOffer {
    /// Autobahn's defaults: accept no context takeover, request nothing.
    fn default() -> Self {
        Self {
            accept_no_context_takeover: true,
            request_no_context_takeover: false,
        }
    }
}

/// A server's acceptance policy (Autobahn's `…OfferAccept`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakeoverAccept {
    /// Ask the client not to keep context (only when its offer allows it).
    pub request_no_context_takeover: bool,
    /// Do not keep context ourselves, even when the client did not ask.
    pub no_context_takeover: bool,
}

/// Reads the two flags of an offer or response: (client_…, server_…).
fn flags(ext: &ExtensionOffer<'_>) -> Result<(bool, bool), NegotiationError> {
    let (mut client, mut server) = (false, false);
    for p in ext.params() {
        let (name, value) = p.map_err(|_| NegotiationError::Malformed)?;
        let flag = match name {
            "client_no_context_takeover" => &mut client,
            "server_no_context_takeover" => &mut server,
            _ => return Err(NegotiationError::UnknownParameter),
        };
        if *flag {
            return Err(NegotiationError::DuplicateParameter);
        }
        if value.is_some() {
            return Err(NegotiationError::InvalidValue);
        }
        *flag = true;
    }
    Ok((client, server))
}

impl TakeoverOffer {
    /// Reads a client's offer (server side).
    pub fn parse(ext: &ExtensionOffer<'_>) -> Result<Self, NegotiationError> {
        let (client, server) = flags(ext)?;
        Ok(Self {
            accept_no_context_takeover: client,
            request_no_context_takeover: server,
        })
    }

    /// Writes this offer as one element of a `Sec-WebSocket-Extensions` value.
    pub fn write(&self, name: &str, out: &mut impl Write) -> core::fmt::Result {
        out.write_str(name)?;
        if self.accept_no_context_takeover {
            out.write_str("; client_no_context_takeover")?;
        }
        if self.request_no_context_takeover {
            out.write_str("; server_no_context_takeover")?;
        }
        Ok(())
    }

    /// Checks a server's response against this offer (client side): the server may always
    /// drop its own context, but may ask us to drop ours only when we allowed it, and must
    /// drop its own when we asked.
    pub fn accept_response(
        &self,
        response: &ExtensionOffer<'_>,
    ) -> Result<TakeoverParams, NegotiationError> {
        let (client, server) = flags(response)?;
        if (client && !self.accept_no_context_takeover)
            || (self.request_no_context_takeover && !server)
        {
            return Err(NegotiationError::NotOffered);
        }
        Ok(TakeoverParams {
            server_no_context_takeover: server,
            client_no_context_takeover: client,
        })
    }
}

impl TakeoverAccept {
    /// The parameters this policy agrees to for `offer` (it accepts every valid offer).
    pub fn accept(&self, offer: &TakeoverOffer) -> TakeoverParams {
        TakeoverParams {
            server_no_context_takeover: offer.request_no_context_takeover
                || self.no_context_takeover,
            client_no_context_takeover: self.request_no_context_takeover
                && offer.accept_no_context_takeover,
        }
    }

    /// Writes the response for agreed `params`.
    pub fn response(
        name: &str,
        params: &TakeoverParams,
        out: &mut impl Write,
    ) -> core::fmt::Result {
        out.write_str(name)?;
        if params.server_no_context_takeover {
            out.write_str("; server_no_context_takeover")?;
        }
        if params.client_no_context_takeover {
            out.write_str("; client_no_context_takeover")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrobahn_core::handshake::extensions;

    fn one(v: &str) -> ExtensionOffer<'_> {
        extensions(v.as_bytes()).next().unwrap().unwrap()
    }

    #[test]
    fn offers_round_trip_and_bad_ones_are_declined() {
        let offer = TakeoverOffer {
            accept_no_context_takeover: true,
            request_no_context_takeover: true,
        };
        let mut s = String::new();
        offer.write("permessage-snappy", &mut s).unwrap();
        assert_eq!(
            s,
            "permessage-snappy; client_no_context_takeover; server_no_context_takeover"
        );
        assert_eq!(TakeoverOffer::parse(&one(&s)), Ok(offer));
        for bad in [
            "x; client_no_context_takeover; client_no_context_takeover",
            "x; server_no_context_takeover=1",
            "x; client_max_window_bits",
        ] {
            assert!(TakeoverOffer::parse(&one(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_server_honours_requests_and_may_not_grant_what_was_not_offered() {
        let offer = TakeoverOffer {
            accept_no_context_takeover: false,
            request_no_context_takeover: true,
        };
        let policy = TakeoverAccept {
            request_no_context_takeover: true,
            no_context_takeover: false,
        };
        let params = policy.accept(&offer);
        assert!(params.server_no_context_takeover);
        assert!(
            !params.client_no_context_takeover,
            "client did not allow it"
        );
        let mut s = String::new();
        TakeoverAccept::response("x", &params, &mut s).unwrap();
        assert_eq!(offer.accept_response(&one(&s)), Ok(params));
        // A response that asks the client to drop context it did not allow, or ignores
        // the client's request, fails the handshake.
        assert!(offer
            .accept_response(&one(
                "x; server_no_context_takeover; client_no_context_takeover"
            ))
            .is_err());
        assert!(offer.accept_response(&one("x")).is_err());
    }
}
