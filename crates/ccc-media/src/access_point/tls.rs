//! The TLS client side of `turns:` probes and of the `wss://` reachability checks:
//! rustls with the ring provider.
//!
//! The provider is passed to each configuration rather than installed process-wide, so
//! this crate works whatever other crates of the program install, and never panics when
//! two providers are compiled in (as ccc-sip's transport does it).

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// Which certificate authorities a TLS server (a `turns:` relay, a `wss://` endpoint)
/// must be vouched for by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsRoots {
    /// The platform's (the operating system's certificate store).
    #[default]
    Platform,
    /// These CA certificates only (DER), for a private deployment or a test CA.
    Custom(Vec<Vec<u8>>),
}

impl TlsRoots {
    /// The CA certificates of a PEM text (one or more `CERTIFICATE` blocks; anything
    /// else in the text is ignored).
    ///
    /// ```
    /// use ccc_media::access_point::TlsRoots;
    /// assert!(TlsRoots::from_pem("no certificate here").is_err());
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let mut ders = Vec::new();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| format!("a PEM certificate: {e}"))?;
            ders.push(cert.to_vec());
        }
        if ders.is_empty() {
            return Err("no CERTIFICATE block in the PEM text".into());
        }
        Ok(Self::Custom(ders))
    }

    /// A rustls client configuration trusting these roots, with the ring provider.
    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        let mut store = rustls::RootCertStore::empty();
        match self {
            Self::Platform => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _ignored) = store.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err("no usable certificate in the platform store".into());
                }
            }
            Self::Custom(ders) => {
                for der in ders {
                    store
                        .add(CertificateDer::from(der.clone()))
                        .map_err(|e| format!("a root certificate: {e}"))?;
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(store)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// The name a server certificate must carry: the host of the URL (an IP address or a
/// DNS name).
pub(crate) fn server_name(host: &str) -> Result<rustls::pki_types::ServerName<'static>, String> {
    rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| format!("{host:?} cannot be a TLS server name: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots() {
        assert!(
            TlsRoots::Custom(vec![b"not DER".to_vec()])
                .client_config()
                .is_err()
        );
        assert!(TlsRoots::Custom(Vec::new()).client_config().is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("relay.example.com").is_ok());
        assert!(server_name("bad name").is_err());
        let garbled = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(TlsRoots::from_pem(garbled).is_err());
    }
}
