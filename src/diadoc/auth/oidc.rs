//! OpenID Connect access tokens from Kontur's provider by the refresh-token flow, which Kontur
//! documents for unattended clients.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderName};
use serde::Deserialize;

use crate::auth::{
    ApiKey, Auth, BoxFuture, ChangeReason, Credential, CredentialSource, Obtain, Secret, Token, non_empty,
};
use crate::client::Client;
use crate::error::{ConfigKind, Error, Result};
use crate::http::GENERIC;

/// Kontur's OpenID provider, `https://identity.kontur.ru/connect/token`: the one token endpoint
/// for all Kontur products.
pub const KONTUR_TOKEN_ENDPOINT: &str = "https://identity.kontur.ru/connect/token";
/// Kontur's test provider, `https://identity.testkontur.ru/connect/token`.
pub const KONTUR_TEST_TOKEN_ENDPOINT: &str = "https://identity.testkontur.ru/connect/token";

/// What is called with each rotated refresh token.
pub(crate) type RotationHook = Arc<dyn Fn(&Token) + Send + Sync>;

/// An access token is refreshed this long before the provider said it expires.
const EARLY: Duration = Duration::from_secs(30);

/// `Authorization: Bearer <access token>` from Kontur's provider ([`KONTUR_TOKEN_ENDPOINT`])
/// by the refresh-token flow: `client_id` from your Kontur manager, `client_secret` from the
/// integrator cabinet, and a refresh token the application got once. See [`OidcRefresh`] for
/// another endpoint and for keeping the rotated refresh token.
pub fn oidc_refresh(
    client_id: impl Into<String>,
    client_secret: impl Into<ApiKey>,
    refresh_token: impl Into<Token>,
) -> Auth {
    OidcRefresh::new(client_id, client_secret, refresh_token).into_auth()
}

/// A token provider for Kontur's OpenID Connect refresh-token flow: it posts
/// `grant_type=refresh_token` with the client id and secret to the token endpoint
/// (form-urlencoded), sends the access token as `Authorization: Bearer` (nothing else, as
/// Kontur's SDKs do with OpenID Connect), and keeps it until shortly before it expires or a
/// call that is safe to repeat comes back `401`. One refresh runs at a time for the client and
/// all its clones.
///
/// The provider rotates refresh tokens: each refresh answers a new one and ends the old one.
/// The new one is kept for the next refresh ([`refresh_token`](Self::refresh_token) reads it)
/// and handed to [`on_rotation`](Self::on_rotation): store it, or the application needs a new
/// grant after a restart. A refresh is never repeated on its own (a repeat would spend the
/// refresh token twice).
///
/// An empty client id, secret or refresh token, or an endpoint that is not a URL, fails
/// `build()`. A refused refresh (`invalid_grant`: the refresh token is used, expired or
/// revoked; `invalid_client`) ends the call with an [`Error::is_auth`] error whose source is
/// the provider's answer.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::{Arc, Mutex};
/// use userapi::diadoc::auth::OidcRefresh;
/// use userapi_fake::diadoc::{FakeDiadoc, LOGIN, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, TOKEN_PATH};
/// let fake = FakeDiadoc::start().await?;
/// let stored = Arc::new(Mutex::new(None));
/// let keep = stored.clone();
/// let auth = OidcRefresh::new(OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, fake.issue_refresh_token())
///     .token_endpoint(fake.base_url().join(TOKEN_PATH)?.as_str())
///     .on_rotation(move |rotated| *keep.lock().unwrap() = Some(rotated.clone()))
///     .into_auth();
/// let diadoc = fake.api_with(auth)?;
/// assert_eq!(diadoc.get_me().await?.login.as_deref(), Some(LOGIN));
/// assert!(stored.lock().unwrap().is_some(), "the rotated refresh token was handed over");
/// # Ok(()) }
/// ```
pub struct OidcRefresh {
    endpoint: String,
    client_id: String,
    client_secret: ApiKey,
    /// The refresh token to use next, and the access token at hand.
    state: tokio::sync::Mutex<State>,
    /// The refresh token to use next, readable without waiting for a refresh in flight.
    current_refresh: Mutex<Token>,
    /// The client that talks to the provider, built when the scheme is installed.
    provider: OnceLock<Client>,
    /// Called with every rotated refresh token.
    pub(crate) rotation: Option<RotationHook>,
}

struct State {
    refresh_token: Token,
    access: Option<(Secret, Option<Instant>)>,
}

impl fmt::Debug for OidcRefresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcRefresh")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OidcRefresh {
    /// The flow at Kontur's provider ([`KONTUR_TOKEN_ENDPOINT`]).
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<ApiKey>,
        refresh_token: impl Into<Token>,
    ) -> Self {
        let refresh_token = refresh_token.into();
        OidcRefresh {
            endpoint: KONTUR_TOKEN_ENDPOINT.to_owned(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            current_refresh: Mutex::new(refresh_token.clone()),
            state: tokio::sync::Mutex::new(State {
                refresh_token,
                access: None,
            }),
            provider: OnceLock::new(),
            rotation: None,
        }
    }

    /// Another token endpoint (Kontur's test provider, [`KONTUR_TEST_TOKEN_ENDPOINT`], or a
    /// fake's).
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Calls `f` with each new refresh token the provider answers, once the old one is spent.
    pub fn on_rotation(mut self, f: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.rotation = Some(Arc::new(f));
        self
    }

    /// The scheme, for [`ClientBuilder::auth`](crate::ClientBuilder::auth).
    pub fn into_auth(self) -> Auth {
        Auth::custom(self)
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The refresh token the next refresh will spend: the one given, or the latest rotated one.
    pub fn refresh_token(&self) -> Token {
        self.current_refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The provider's client: the endpoint's directory as its base URL, no credentials.
    fn provider(&self) -> Result<&Client> {
        if let Some(c) = self.provider.get() {
            return Ok(c);
        }
        let bad = |why: String| {
            Error::config(
                ConfigKind::BaseUrl,
                format!("the OpenID Connect token endpoint {why}"),
            )
        };
        let url = url::Url::parse(&self.endpoint).map_err(|e| bad(format!("does not parse: {e}")))?;
        if url.query().is_some() || url.path().ends_with('/') || url.cannot_be_a_base() {
            return Err(bad(
                "must be a URL ending in its path, such as …/connect/token".into()
            ));
        }
        let client = Client::builder()
            .base_url(url.join(".").map_err(|e| bad(e.to_string()))?)
            .build()?;
        Ok(self.provider.get_or_init(|| client))
    }

    /// The last segment of the endpoint's path (`token`).
    fn endpoint_name(&self) -> &str {
        let path = self.endpoint.split(['?', '#']).next().unwrap_or("");
        path.rsplit('/').next().unwrap_or("")
    }

    /// A new access token, spending the refresh token in `state`.
    async fn refresh(&self, state: &mut State, request: &Obtain<'_>) -> Result<Secret> {
        let provider = self.provider()?;
        let call = provider
            .call_segments(
                &GENERIC,
                "diadoc::oidc_refresh",
                Method::POST,
                &[self.endpoint_name()],
            )?
            .form(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", state.refresh_token.expose()),
                    ("client_id", &self.client_id),
                    ("client_secret", self.client_secret.expose()),
                ],
                [
                    state.refresh_token.as_secret().clone(),
                    self.client_secret.as_secret().clone(),
                ],
            )
            .secret_response();
        let raw = match call.send_raw().await {
            Ok(raw) => raw,
            Err(err) if err.status().is_some() => {
                // RFC 6749 §5.2: `error` is the code, `error_description` the words.
                let code = err
                    .http()
                    .and_then(|h| h.body_json())
                    .and_then(|b| Some(crate::error::clip(b.get("error")?.as_str()?)));
                let why = match (code, err.service_message()) {
                    (Some(code), Some(m)) if m != code => format!("{code}: {m}"),
                    (Some(code), _) => code,
                    (None, m) => m.unwrap_or("no reason given").to_owned(),
                };
                return Err(request.failure(
                    format!(
                        "the OpenID Connect provider refused the refresh token ({why}); a new grant is needed"
                    ),
                    Some(Box::new(err)),
                ));
            }
            Err(err) => return Err(err),
        };
        let answer: TokenAnswer = raw.json()?;
        if answer.access_token.trim().is_empty() {
            return Err(raw.protocol_error("the provider answered an empty access_token"));
        }
        if answer
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(raw.protocol_error("the provider answered a token that is not a Bearer token"));
        }
        let access = Secret::new(answer.access_token);
        access
            .check_header_safe("the access token")
            .map_err(|_| raw.protocol_error("the provider answered an access token no header can carry"))?;
        if let Some(rotated) = answer.refresh_token.filter(|r| !r.trim().is_empty()) {
            let rotated = Token::new(rotated);
            state.refresh_token = rotated.clone();
            *self.current_refresh.lock().unwrap_or_else(|e| e.into_inner()) = rotated.clone();
            if let Some(hook) = &self.rotation {
                hook(&rotated);
            }
            // What an application stores to start again is the refresh token.
            request.credential_changed(ChangeReason::Refresh, rotated.as_secret().clone());
        }
        let expires = answer
            .expires_in
            .map(|s| Instant::now() + Duration::from_secs(s).saturating_sub(EARLY));
        state.access = Some((access.clone(), expires));
        Ok(access)
    }
}

/// The provider's answer (RFC 6749 §5.1).
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

static NAMES: [HeaderName; 1] = [AUTHORIZATION];

impl CredentialSource for OidcRefresh {
    fn scheme(&self) -> &'static str {
        "diadoc-oidc"
    }

    fn header_names(&self) -> &[HeaderName] {
        &NAMES
    }

    fn secrets(&self) -> Vec<Secret> {
        vec![
            self.client_secret.as_secret().clone(),
            self.refresh_token().as_secret().clone(),
        ]
    }

    fn fixed(&self) -> Result<Option<Credential>> {
        if self.client_id.trim().is_empty() {
            return Err(Error::config(
                ConfigKind::Credential,
                "the OpenID Connect client id is empty",
            ));
        }
        non_empty(self.client_secret.as_secret(), "the OpenID Connect client secret")?;
        non_empty(
            self.refresh_token().as_secret(),
            "the OpenID Connect refresh token",
        )?;
        self.provider()?;
        Ok(None)
    }

    fn obtain<'a>(&'a self, request: Obtain<'a>) -> BoxFuture<'a, Result<Credential>> {
        Box::pin(async move {
            // One refresh at a time: a call that waited here finds the new token at hand.
            let mut state = self.state.lock().await;
            let fresh = state
                .access
                .as_ref()
                .filter(|(_, expires)| expires.is_none_or(|e| Instant::now() < e));
            let token = match fresh {
                Some((token, _)) if !request.refresh() => token.clone(),
                _ => self.refresh(&mut state, &request).await?,
            };
            Ok(Credential::bearer(&token)?.keeping(state.refresh_token.as_secret().clone()))
        })
    }

    /// Asked every attempt: the source keeps the token and knows when it expires.
    fn keeps_obtained(&self) -> bool {
        false
    }

    fn can_refresh(&self) -> bool {
        true
    }
}
