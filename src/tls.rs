//! TLS settings of the client the builder makes: extra root certificates, the built-in roots,
//! the backend; and how a TLS failure is recognised in a `reqwest::Error`.

use std::error::Error as StdError;
use std::fmt;

use crate::error::{ConfigKind, Error, Result};

/// A root certificate for the client to trust, e.g. the private CA of a self-hosted service
/// (see [`ClientBuilder::add_root_certificate`](crate::ClientBuilder::add_root_certificate)).
///
/// Works with either TLS backend. Without a TLS feature (`rustls` or `native-tls`) there is
/// nothing to trust it with, and both constructors return [`ErrorKind::Config`](crate::ErrorKind::Config).
#[derive(Clone)]
pub struct Certificate {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    pub(crate) certs: Vec<reqwest::Certificate>,
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    pub(crate) certs: Vec<()>,
}

impl Certificate {
    /// One or more PEM certificates (`-----BEGIN CERTIFICATE-----` blocks; a bundle of several
    /// is trusted whole). Text without a certificate block, or a block that does not decode,
    /// is [`ErrorKind::Config`](crate::ErrorKind::Config).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for text without a certificate, a block that does not decode, or a
    /// build without a TLS feature.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate> {
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| {
                Error::config(
                    ConfigKind::Tls,
                    "the PEM text holds a certificate block that does not decode",
                )
            })?;
            if certs.is_empty() {
                return Err(Error::config(
                    ConfigKind::Tls,
                    "the PEM text holds no `-----BEGIN CERTIFICATE-----` block",
                ));
            }
            Ok(Certificate { certs })
        }
        #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
        {
            let _ = pem;
            Err(no_tls("a root certificate"))
        }
    }

    /// One DER certificate (the binary form, often a `.cer` or `.der` file). Bytes that are not
    /// one DER structure, PEM text for instance, are [`ErrorKind::Config`](crate::ErrorKind::Config).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for bytes that are not one DER certificate, or a build without a TLS
    /// feature.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        if der.starts_with(b"-----BEGIN") {
            return Err(Error::config(
                ConfigKind::Tls,
                "the certificate is PEM text, not DER: use Certificate::from_pem",
            ));
        }
        if !is_one_der_sequence(der) {
            return Err(Error::config(
                ConfigKind::Tls,
                "the certificate is not DER: not one ASN.1 sequence",
            ));
        }
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            let cert = reqwest::Certificate::from_der(der)
                .map_err(|_| Error::config(ConfigKind::Tls, "the DER certificate does not decode"))?;
            Ok(Certificate { certs: vec![cert] })
        }
        #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
        Err(no_tls("a root certificate"))
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("certificates", &self.certs.len())
            .finish()
    }
}

/// Which TLS library the client uses, when both features are compiled in
/// ([`ClientBuilder::tls_backend`](crate::ClientBuilder::tls_backend)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsBackend {
    /// rustls (the `rustls` feature, on by default).
    Rustls,
    /// The platform's library, OpenSSL on Linux (the `native-tls` feature).
    NativeTls,
}

/// The TLS settings of a builder, applied to the `reqwest::ClientBuilder` it makes.
#[derive(Debug, Default)]
pub(crate) struct TlsSettings {
    pub(crate) roots: Vec<Certificate>,
    pub(crate) built_in_roots: Option<bool>,
    pub(crate) backend: Option<TlsBackend>,
}

impl TlsSettings {
    pub(crate) fn apply(self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        #[allow(unused_mut)]
        let mut builder = builder;
        match self.backend {
            None => {}
            #[cfg(feature = "rustls")]
            Some(TlsBackend::Rustls) => builder = builder.tls_backend_rustls(),
            #[cfg(feature = "native-tls")]
            Some(TlsBackend::NativeTls) => builder = builder.tls_backend_native(),
            #[allow(unreachable_patterns)]
            Some(other) => {
                let feature = match other {
                    TlsBackend::Rustls => "rustls",
                    TlsBackend::NativeTls => "native-tls",
                };
                return Err(Error::config(
                    ConfigKind::Tls,
                    format!("TlsBackend::{other:?} needs the `{feature}` feature of userapi"),
                ));
            }
        }
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            let certs = self.roots.into_iter().flat_map(|c| c.certs);
            builder = if self.built_in_roots == Some(false) {
                builder.tls_certs_only(certs)
            } else {
                builder.tls_certs_merge(certs)
            };
        }
        Ok(builder)
    }
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) fn no_tls(what: &str) -> Error {
    Error::config(
        ConfigKind::Tls,
        format!(
            "{what} needs TLS, and userapi was built without it: enable its `rustls` (default) \
         or `native-tls` feature"
        ),
    )
}

/// Whether `der` is exactly one ASN.1 SEQUENCE, as every X.509 certificate is.
fn is_one_der_sequence(der: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = der else {
        return false;
    };
    let (len, body) = if first & 0x80 == 0 {
        (usize::from(*first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return false;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        (len, &rest[n..])
    };
    len == body.len()
}

/// Whether a TLS library failed somewhere in the error's chain: known by its type where the
/// type can be named (rustls's and native-tls's errors, bare or inside an `io::Error`), by the
/// chain's words otherwise, and then only for a failure to connect.
pub(crate) fn is_tls_failure(e: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(c) = cause {
        if is_tls_error_type(c) {
            return true;
        }
        cause = c.source();
    }
    if !e.is_connect() {
        return false;
    }
    let mut cause: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(c) = cause {
        let text = c.to_string().to_ascii_lowercase();
        if [
            "certificate",
            "tls handshake",
            "ssl routines",
            "handshake failure",
        ]
        .iter()
        .any(|w| text.contains(w))
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Whether `e` is a TLS library's error, or an `io::Error` (nested, as rustls's are) around one.
/// An `io::Error`'s `source()` skips the error it wraps, so the wrapped one is looked at here.
fn is_tls_error_type(mut e: &(dyn StdError + 'static)) -> bool {
    loop {
        #[cfg(feature = "rustls")]
        if e.is::<rustls::Error>() {
            return true;
        }
        #[cfg(feature = "native-tls")]
        if e.is::<native_tls::Error>() {
            return true;
        }
        match e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => e = inner,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_shape() {
        assert!(is_one_der_sequence(&[0x30, 0x00]));
        assert!(is_one_der_sequence(&[0x30, 0x02, 1, 2]));
        assert!(is_one_der_sequence(&[0x30, 0x81, 0x01, 9]));
        assert!(!is_one_der_sequence(&[0x30, 0x03, 1, 2]));
        assert!(!is_one_der_sequence(&[0x31, 0x00]));
        assert!(!is_one_der_sequence(&[0x30, 0x80]));
        assert!(!is_one_der_sequence(b""));
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn rustls_errors_are_found_inside_nested_io_errors() {
        use std::io;
        let rustls = || rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = io::Error::other(io::Error::new(io::ErrorKind::InvalidData, rustls()));
        assert!(is_tls_error_type(&nested));
        assert!(is_tls_error_type(&rustls()));
        let plain = io::Error::other(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(!is_tls_error_type(&plain));
    }

    #[test]
    fn bad_certificates_are_config_errors() {
        for err in [
            Certificate::from_pem(b"not a certificate").unwrap_err(),
            Certificate::from_pem(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
                .unwrap_err(),
            Certificate::from_der(b"-----BEGIN CERTIFICATE-----\n").unwrap_err(),
            Certificate::from_der(&[0x30, 0x05, 1]).unwrap_err(),
        ] {
            assert!(err.is_config(), "{err:?}");
        }
        let pem_as_der = Certificate::from_der(b"-----BEGIN CERTIFICATE-----\n").unwrap_err();
        assert!(pem_as_der.to_string().contains("from_pem"), "{pem_as_der}");
    }
}
