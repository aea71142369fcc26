//! How a TLS failure is recognised in a `reqwest::Error`.

use std::error::Error as StdError;

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
}
