//! The TLS client configuration of `wss://` flows: rustls with the ring provider.
//!
//! The provider is passed to the configuration rather than installed process-wide, so
//! ccc-sip works whatever other crates of the program install (and does not panic when
//! two providers are compiled in, the trap of tokio-tungstenite's rustls features).

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use super::TransportError;

/// Which certificate authorities a `wss://` flow trusts.
#[derive(Debug, Clone, Default)]
pub enum TlsRoots {
    /// The platform's (the operating system's certificate store).
    #[default]
    Platform,
    /// These CA certificates only (DER), for a private deployment or a test CA.
    Custom(Vec<Vec<u8>>),
}

impl TlsRoots {
    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TransportError> {
        let mut store = rustls::RootCertStore::empty();
        match self {
            Self::Platform => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _ignored) = store.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(TransportError::Tls(
                        "no usable certificate in the platform store".into(),
                    ));
                }
            }
            Self::Custom(ders) => {
                for der in ders {
                    store
                        .add(CertificateDer::from(der.clone()))
                        .map_err(|e| TransportError::Tls(format!("a root certificate: {e}")))?;
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .with_root_certificates(store)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}
