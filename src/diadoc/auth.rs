//! Kontur's own scheme, `Authorization: DiadocAuth ddauth_api_client_id=<id>[,ddauth_token=<token>]`.
//!
//! Diadoc also takes OpenID Connect access tokens as `Authorization: Bearer`
//! ([`Auth::bearer`], or [`Auth::provider`] for tokens that expire).

use reqwest::header::{AUTHORIZATION, HeaderName};

use crate::auth::{ApiKey, Auth, Credential, CredentialSource, Secret, Token, non_empty};
use crate::error::Error;

/// `Authorization: DiadocAuth ddauth_api_client_id=<client_id>[,ddauth_token=<token>]`: the
/// API client id Kontur issued, and the token once there is one (from
/// [`Diadoc::login`](super::Diadoc::login), which installs it).
///
/// An empty client id, or a client id or token with `,`, `=` or white space (which would
/// forge another parameter), fails `build()`.
///
/// ```
/// use userapi::diadoc;
/// let auth = diadoc::auth::diadoc_auth("my-client-id", None);
/// assert_eq!(auth.scheme_name(), "diadoc");
/// ```
pub fn diadoc_auth(client_id: impl Into<ApiKey>, token: Option<Token>) -> Auth {
    Auth::custom(DiadocAuth {
        client_id: client_id.into(),
        token,
    })
}

/// The scheme behind [`diadoc_auth`]; `client.auth().source::<DiadocAuth>()` finds it.
pub struct DiadocAuth {
    client_id: ApiKey,
    token: Option<Token>,
}

impl DiadocAuth {
    /// The API client id (`ddauth_api_client_id`).
    pub fn client_id(&self) -> &ApiKey {
        &self.client_id
    }

    /// The token (`ddauth_token`), once there is one.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }
}

static NAMES: [HeaderName; 1] = [AUTHORIZATION];

impl CredentialSource for DiadocAuth {
    fn scheme(&self) -> &'static str {
        "diadoc"
    }

    fn header_names(&self) -> &[HeaderName] {
        &NAMES
    }

    fn secrets(&self) -> Vec<Secret> {
        let mut v = vec![self.client_id.as_secret().clone()];
        v.extend(self.token.iter().map(|t| t.as_secret().clone()));
        v
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        non_empty(self.client_id.as_secret(), "the Diadoc client id")?;
        self.client_id
            .as_secret()
            .check_header_safe("the Diadoc client id")?;
        param(self.client_id.expose(), "the Diadoc client id")?;
        let mut value = format!("DiadocAuth ddauth_api_client_id={}", self.client_id.expose());
        if let Some(t) = &self.token {
            non_empty(t.as_secret(), "the Diadoc token")?;
            t.as_secret().check_header_safe("the Diadoc token")?;
            // Tokens are base64: `=` only as the trailing padding.
            param(t.expose().trim_end_matches('='), "the Diadoc token")?;
            value.push_str(",ddauth_token=");
            value.push_str(t.expose());
        }
        // What an application keeps is the token (the client id is configuration).
        let credential = Credential::header(AUTHORIZATION, &Secret::new(value))?.redacting(self.secrets());
        Ok(Some(match &self.token {
            Some(t) => credential.keeping(t.as_secret().clone()),
            None => Credential {
                keep: None,
                ..credential
            },
        }))
    }
}

/// A DiadocAuth parameter value: `,`, `=` or white space would end it and start another
/// parameter (a client id `cid,ddauth_token=x` forges a token).
fn param(value: &str, what: &str) -> Result<(), Error> {
    if value.chars().any(|c| c == ',' || c == '=' || c.is_whitespace()) {
        return Err(Error::config(
            crate::ConfigKind::Credential,
            format!("{what} contains ',', '=' or white space, which would change the DiadocAuth parameters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(auth: &Auth) -> reqwest::header::HeaderValue {
        auth.fixed().unwrap().unwrap().header.unwrap().1
    }

    #[test]
    fn diadoc_header_shape() {
        let value = header(&diadoc_auth("cid", Some(Token::new("tok"))));
        assert_eq!(value, "DiadocAuth ddauth_api_client_id=cid,ddauth_token=tok");
        assert!(value.is_sensitive());
        assert_eq!(
            header(&diadoc_auth("cid", None)),
            "DiadocAuth ddauth_api_client_id=cid"
        );
    }

    #[test]
    fn diadoc_parameters_cannot_smuggle_others() {
        for id in ["cid,ddauth_token=FORGED", "cid=x", "c id", "cid\t", "cid,"] {
            let err = diadoc_auth(id, None).fixed().unwrap_err();
            assert!(err.to_string().contains("DiadocAuth"), "{id:?}: {err}");
            assert!(!err.to_string().contains(id), "{err}");
        }
        for token in ["t,ddauth_api_client_id=other", "a=b", "a b"] {
            assert!(
                diadoc_auth("cid", Some(Token::new(token))).fixed().is_err(),
                "{token:?}"
            );
        }
        // Real tokens are base64 with padding.
        assert!(
            diadoc_auth("testClient-8ee1", Some(Token::new("3IU0/Ui5+WSq6lrPw==")))
                .fixed()
                .is_ok()
        );
    }

    #[test]
    fn neither_part_prints() {
        let a = diadoc_auth("client-xyz", Some(Token::new("tok-abc")));
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("client-xyz") && !dbg.contains("tok-abc"), "{dbg}");
    }

    #[test]
    fn an_empty_client_id_is_named() {
        let err = diadoc_auth("", None).fixed().unwrap_err();
        assert!(err.to_string().contains("the Diadoc client id is empty"), "{err}");
    }
}
