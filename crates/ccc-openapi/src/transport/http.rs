//! What the HTTP transports share: the reqwest client with rustls and ring, bounded
//! bodies, and errors that never carry the URL (it holds the signature).

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::error::Error;

/// Which certificate authorities HTTPS trusts.
#[derive(Debug, Clone, Default)]
pub enum TlsRoots {
    /// The platform's certificate store.
    #[default]
    Platform,
    /// These CA certificates only (DER), for a private deployment or a test CA.
    Custom(Vec<Vec<u8>>),
}

/// A reqwest client on rustls with the ring provider, passed in rather than installed
/// process-wide, so no second provider is ever needed.
pub(crate) fn client(
    roots: &TlsRoots,
    timeout: Duration,
    connect_timeout: Duration,
    cookies: bool,
) -> Result<reqwest::Client, String> {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        TlsRoots::Platform => {
            // An empty store is not an error here: plain-HTTP base URLs (the emulator)
            // need none, and an HTTPS call then fails with a clear TLS error.
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
        }
        TlsRoots::Custom(ders) => {
            for der in ders {
                store
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| format!("a root certificate: {e}"))?;
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(store)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .cookie_store(cookies)
        .build()
        .map_err(|e| e.without_url().to_string())
}

/// The error of a failed exchange; the URL (which carries the signature) is dropped.
pub(crate) fn transport_error(action: &str, timeout: Duration, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout {
            action: action.to_owned(),
            after: timeout,
        };
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Transport {
        action: action.to_owned(),
        message,
        source: Some(Box::new(e)),
    }
}

/// Reads the body of `response`, at most `limit` bytes.
pub(crate) async fn read_body(
    action: &str,
    timeout: Duration,
    limit: usize,
    mut response: reqwest::Response,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(action, timeout, e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(Error::Transport {
                action: action.to_owned(),
                message: format!("the answer is larger than {limit} bytes"),
                source: None,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `application/x-www-form-urlencoded` of `pairs`, RFC 3986 encoded.
pub(crate) fn form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                crate::sign::percent_encode(k),
                crate::sign::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
