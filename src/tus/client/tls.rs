//! Which servers the client trusts: certificates pinned from PEM (the
//! intake server's CA, or its self-signed certificate), optionally with the
//! operating system's roots.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::Error;

/// Trust anchors for `https://` endpoints. The default trusts nothing, so
/// only `http://` to a loopback address works.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pinned: Vec<CertificateDer<'static>>,
    system: bool,
}

impl Trust {
    /// Trusts the certificates in `pem` (one or more `CERTIFICATE` blocks):
    /// CA certificates, or a self-signed server certificate, which then
    /// acts as its own anchor (it must name the server's host).
    pub fn pinned_pem(pem: &[u8]) -> Result<Self, Error> {
        let mut trust = Self::default();
        trust.add_pem(pem)?;
        Ok(trust)
    }

    /// Trusts the operating system's roots (through
    /// `rustls-platform-verifier`), plus whatever is pinned.
    pub fn system() -> Self {
        Self {
            pinned: Vec::new(),
            system: true,
        }
    }

    /// Adds the certificates of `pem`; fails if it holds none or a block
    /// is malformed.
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<(), Error> {
        let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| Error::Usage(format!("trusted certificates: bad PEM: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Usage(
                "trusted certificates: no CERTIFICATE in the PEM".to_owned(),
            ));
        }
        self.pinned.extend(certs);
        Ok(())
    }

    /// Also trusts the operating system's roots.
    #[must_use]
    pub fn with_system_roots(mut self) -> Self {
        self.system = true;
        self
    }

    /// The rustls configuration, on the `ring` provider.
    pub(super) fn client_config(&self) -> Result<ClientConfig, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Usage(format!("TLS: {e}")))?;
        let config = if self.system {
            let verifier = platform_verifier(&self.pinned, provider)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            for cert in &self.pinned {
                roots
                    .add(cert.clone())
                    .map_err(|e| Error::Usage(format!("trusted certificate refused: {e}")))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        Ok(config)
    }
}

/// The operating system's verifier, with the pinned certificates added
/// (`.dangerous()` above only because rustls calls every custom verifier
/// so; this one verifies fully).
fn platform_verifier(
    pinned: &[CertificateDer<'static>],
    provider: Arc<CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, Error> {
    rustls_platform_verifier::Verifier::new_with_extra_roots(pinned.iter().cloned(), provider)
        .map_err(|e| Error::Usage(format!("system trust store: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_errors_are_usage_errors() {
        assert!(matches!(Trust::pinned_pem(b""), Err(Error::Usage(_))));
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(Trust::pinned_pem(broken), Err(Error::Usage(_))));
    }

    #[test]
    fn configurations_build() {
        assert!(Trust::default().client_config().is_ok());
    }
}
