//! Diadoc's credentials: Kontur's own scheme, `Authorization: DiadocAuth
//! ddauth_api_client_id=<id>[,ddauth_token=<token>]`, with a token you hold
//! ([`diadoc_auth`]) or from a login on demand ([`login`]); and OpenID Connect access tokens
//! as `Authorization: Bearer`, from a refresh token ([`oidc_refresh`]), or as you get them
//! ([`Auth::bearer`], [`Auth::provider`]).

use reqwest::header::{AUTHORIZATION, HeaderName};

use crate::auth::{
    ApiKey, Auth, BoxFuture, Credential, CredentialSource, Obtain, Password, Secret, Token, non_empty,
};
use crate::error::Error;

mod oidc;

pub use oidc::{KONTUR_TEST_TOKEN_ENDPOINT, KONTUR_TOKEN_ENDPOINT, OidcRefresh, oidc_refresh};

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

/// A login and password with the API client id: the client logs in lazily on its first call
/// (`POST /V3/Authenticate?type=password`), sends `DiadocAuth
/// ddauth_api_client_id=<id>,ddauth_token=<token>`, and logs in again, once for all
/// concurrent calls, when a call that is safe to repeat comes back `401` (Diadoc's tokens
/// last about 24 hours and cannot be refreshed); that call is then sent once more. A call that
/// is not safe to repeat (creating an employee) ends with its `401`, and the next call logs in
/// again. A failed login ends the call with its error. An empty login or password, or a
/// client id that cannot go in the header, fails `build()`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use userapi::diadoc;
/// use userapi_fake::diadoc::{CLIENT_ID, FakeDiadoc, LOGIN, PASSWORD};
/// let fake = FakeDiadoc::start().await?;
/// let api = fake.api_with(diadoc::auth::login(CLIENT_ID, LOGIN, PASSWORD))?;
/// assert_eq!(api.client().auth().scheme_name(), "diadoc-login");
/// assert_eq!(api.get_me().await?.login.as_deref(), Some(LOGIN)); // logs in first
/// fake.expire_tokens(); // a day later
/// assert_eq!(api.get_me().await?.login.as_deref(), Some(LOGIN)); // 401, logs in again, repeats
/// # Ok(()) }
/// ```
pub fn login(client_id: impl Into<ApiKey>, login: impl Into<String>, password: impl Into<Password>) -> Auth {
    Auth::custom(Login {
        client_id: client_id.into(),
        login: login.into(),
        password: password.into(),
    })
}

/// The scheme behind [`login`]; `client.auth().source::<Login>()` finds it.
pub struct Login {
    client_id: ApiKey,
    login: String,
    password: Password,
}

impl Login {
    /// The API client id (`ddauth_api_client_id`).
    pub fn client_id(&self) -> &ApiKey {
        &self.client_id
    }

    /// The login it signs in with.
    pub fn login(&self) -> &str {
        &self.login
    }
}

impl CredentialSource for Login {
    fn scheme(&self) -> &'static str {
        "diadoc-login"
    }

    fn header_names(&self) -> &[HeaderName] {
        &NAMES
    }

    fn secrets(&self) -> Vec<Secret> {
        vec![
            self.client_id.as_secret().clone(),
            self.password.as_secret().clone(),
        ]
    }

    fn fixed(&self) -> Result<Option<Credential>, Error> {
        // The client id alone must make a valid header (the one the login sends).
        diadoc_auth(self.client_id.clone(), None).fixed()?;
        if self.login.trim().is_empty() || self.password.is_empty() {
            return Err(Error::config(
                crate::ConfigKind::Credential,
                "diadoc::auth::login needs a login and a password (one is empty)",
            ));
        }
        Ok(None)
    }

    fn obtain<'a>(&'a self, request: Obtain<'a>) -> BoxFuture<'a, Result<Credential, Error>> {
        Box::pin(async move {
            let (token, _) =
                super::authenticate(request.client(), &self.client_id, &self.login, &self.password).await?;
            let credential = diadoc_auth(self.client_id.clone(), Some(token)).fixed()?;
            credential.ok_or_else(|| request.failure("DiadocAuth gave no header", None))
        })
    }

    fn can_refresh(&self) -> bool {
        true
    }

    /// A token stored by an earlier run: sent until the server refuses it, then one login.
    fn restore(&self, stored: &Secret) -> Option<Result<Credential, Error>> {
        let token = Token::new(stored.expose().to_owned());
        Some(
            diadoc_auth(self.client_id.clone(), Some(token))
                .fixed()
                .and_then(|c| {
                    c.ok_or_else(|| {
                        Error::config(crate::ConfigKind::StoredCredential, "DiadocAuth gave no header")
                    })
                }),
        )
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
