//! A certificate authority and a leaf certificate made at test time.
//!
//! rustls rejects a CA certificate used as the server's own (`CaUsedAsEndEntity`), so the
//! server gets a leaf signed by a separate CA, and clients trust the CA.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};

use crate::PeerError;

/// A test CA and one server certificate for `127.0.0.1` and `localhost`, as PEM.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate clients trust.
    pub ca_pem: String,
    /// The same, DER-encoded.
    pub ca_der: Vec<u8>,
    /// The server's certificate (leaf).
    pub leaf_pem: String,
    /// The server's private key.
    pub leaf_key_pem: String,
}

impl TestCa {
    /// A new CA and leaf.
    pub fn new() -> Result<Self, PeerError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "ccc-rs test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key)?;

        let leaf_key = KeyPair::generate()?;
        let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()])?;
        leaf_params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf = leaf_params.signed_by(&leaf_key, &issuer)?;
        Ok(Self {
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            leaf_pem: leaf.pem(),
            leaf_key_pem: leaf_key.serialize_pem(),
        })
    }
}
