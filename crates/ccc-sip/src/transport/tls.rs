//! The TLS configurations of `wss://` flows, client ([`TlsRoots`]) and server
//! ([`TlsIdentity`]): rustls with the ring provider.
//!
//! The provider is passed to the configuration rather than installed process-wide, so
//! ccc-sip works whatever other crates of the program install (and does not panic when
//! two providers are compiled in, the trap of tokio-tungstenite's rustls features).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

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

/// The certificate and key a `wss://` server presents. `Debug` hides the key.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The certificate chain, leaf first (DER).
    pub cert_chain: Vec<Vec<u8>>,
    /// The private key (PKCS#8, PKCS#1 or SEC1, DER).
    pub key: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("cert_chain", &self.cert_chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl TlsIdentity {
    /// From PEM text: the certificates (leaf first) and the private key.
    pub fn from_pem(certs: &str, key: &str) -> Result<Self, TransportError> {
        let cert_chain = CertificateDer::pem_slice_iter(certs.as_bytes())
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::Tls(format!("the certificates: {e}")))?;
        if cert_chain.is_empty() {
            return Err(TransportError::Tls("no certificate in the PEM".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
            .map_err(|e| TransportError::Tls(format!("the private key: {e}")))?;
        Ok(Self {
            cert_chain,
            key: key.secret_der().to_vec(),
        })
    }

    pub(crate) fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TransportError> {
        let chain = self
            .cert_chain
            .iter()
            .map(|c| CertificateDer::from(c.clone()))
            .collect();
        let key = PrivateKeyDer::try_from(self.key.clone())
            .map_err(|e| TransportError::Tls(format!("the private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        Ok(Arc::new(config))
    }
}
