//! [`IntoBaseUrl`]: what names a base URL, and an error about one that never repeats its
//! password.

use url::Url;

use crate::error::{ConfigKind, Error, Result};

/// Anything that names a base URL: `&str`, `String` or [`Url`].
pub trait IntoBaseUrl: sealed::Sealed {
    /// Parses it.
    fn into_base_url(self) -> Result<Url>;
}

impl IntoBaseUrl for Url {
    fn into_base_url(self) -> Result<Url> {
        Ok(self)
    }
}

impl IntoBaseUrl for &str {
    fn into_base_url(self) -> Result<Url> {
        Url::parse(self).map_err(|e| {
            Error::config(
                ConfigKind::BaseUrl,
                format!("the base URL {:?} does not parse: {e}", without_userinfo(self)),
            )
        })
    }
}

/// The URL text with everything between its scheme and its last `@` replaced, so that an
/// error never repeats a password written into a URL, however it is spelled (`http:u:p@h`,
/// `http:/u:p@h`, a raw `/`, `?`, `#` or `@` in the password). An `@` later in the path hides
/// more than the userinfo, which is the safe side.
pub(super) fn without_userinfo(url: &str) -> String {
    let Some(at) = url.rfind('@') else {
        return url.to_owned();
    };
    let scheme_end = url
        .find(':')
        .filter(|&i| {
            url[..i].starts_with(|c: char| c.is_ascii_alphabetic())
                && url[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        })
        .map_or(0, |i| i + 1);
    let slashes = url[scheme_end..]
        .bytes()
        .take_while(|b| matches!(b, b'/' | b'\\'))
        .count();
    let start = (scheme_end + slashes).min(at);
    format!("{}{}{}", &url[..start], crate::auth::REDACTED, &url[at..])
}

impl IntoBaseUrl for String {
    fn into_base_url(self) -> Result<Url> {
        self.as_str().into_base_url()
    }
}

impl IntoBaseUrl for &String {
    fn into_base_url(self) -> Result<Url> {
        self.as_str().into_base_url()
    }
}

mod sealed {
    /// Only the crate's own base URL types: the trait may grow without breaking anyone.
    pub trait Sealed {}
    impl Sealed for url::Url {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
}
