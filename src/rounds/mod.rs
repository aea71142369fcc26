//! The rounds app (a FastAPI service with users and prize rounds): `GET /users/me`,
//! `GET /users/{id}`, `PATCH /users/me`, `GET /users/rounds`.
//!
//! The service has no public base URL: set the one you were given. Every route wants a JWT
//! as `Authorization: Bearer <access_token>`. Use [`Auth::jwt`](crate::Auth::jwt) and the client reads the
//! token's `exp` claim (without verifying it): [`Client::token_expires_at`](crate::Client::token_expires_at) tells when it
//! expires, and a call with an expired token fails at once with [`ErrorKind::Auth`](crate::ErrorKind::Auth) instead of
//! going to the server. Or use [`Auth::provider`](crate::Auth::provider): the client asks your code for a token on
//! each call and, after a 401 on a call that is safe to repeat, once more for a fresh one.
//!
//! Errors are FastAPI's: `{"detail": "..."}` is in [`Error::service_message`], a 422's
//! `{"detail": [{"loc", "msg", "type"}]}` items are in [`Error::field_errors`] (field
//! `body.first_name`, `query.as_owner`), and both 401 and 403 `Not authenticated` (older
//! FastAPI answers 403) count as [`Error::is_auth`].

mod models;

pub use models::{Product, Round, RoundRole, RoundStatus, User, UserId, UserUpdate};

use reqwest::Method;

#[cfg(doc)]
use crate::error::Error;
use crate::error::{ErrorBody, Result, ServiceError};
use crate::http::Service;
use serde_json::Value;

pub(crate) static SERVICE: Service = Service {
    read_error: Some(read_error),
};

/// FastAPI's validation errors: `{"detail": [{"loc": [...], "msg", "type"}]}` become field
/// errors named by the dotted `loc`; `{"detail": "..."}` is read by the generic reading.
fn read_error(body: &ErrorBody<'_>, out: &mut ServiceError) {
    match body.member("detail") {
        Some(Value::Array(items)) => {
            for item in items {
                let loc = item.get("loc").and_then(Value::as_array).map(|parts| {
                    parts
                        .iter()
                        .map(|p| match p {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                });
                if let (Some(field), Some(msg)) = (loc, item.get("msg").and_then(Value::as_str)) {
                    out.push_field(&field, msg);
                }
            }
            if out.message().is_none() && !out.fields().is_empty() {
                out.set_message("request validation failed");
            }
        }
        Some(Value::Object(detail)) if out.message().is_none() => {
            if let Some(m) = detail.get("message").and_then(Value::as_str) {
                out.set_message(m);
            }
        }
        _ => {}
    }
}

crate::client::service_handle! {
    /// The rounds app's endpoints over a [`Client`](crate::Client).
    pub struct Rounds {
    }
    service: SERVICE,
    name: "rounds",
    accessor: rounds,
    token: crate::Auth::jwt,
}

impl Rounds {
    /// `GET /users/me`: the current user. Safe to retry.
    ///
    /// # Errors
    /// [`ErrorKind::Auth`](crate::ErrorKind::Auth) for an expired [`Auth::jwt`](crate::Auth::jwt) token (nothing is sent), [`ErrorKind::Http`](crate::ErrorKind::Http)
    /// 401 or 403 ([`Error::is_auth`]) when the server refuses the token, [`ErrorKind::Decode`](crate::ErrorKind::Decode)
    /// for a body that is not a user.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::rounds::{FakeRounds, ME};
    /// let fake = FakeRounds::start().await?;
    /// let me = fake.api()?.get_me().await?;
    /// assert_eq!((me.id.as_str(), me.first_name.as_deref()), (ME, Some("Dana")));
    /// # Ok(()) }
    /// ```
    pub async fn get_me(&self) -> Result<User> {
        self.client
            .call(&SERVICE, "rounds::get_me", Method::GET, "users/me", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /users/{id}`: any user, in the same shape as [`get_me`](Self::get_me).
    ///
    /// A [`UserId`] is never `me`, `rounds`, empty, `.` or `..`, so this call always reaches
    /// `GET /users/{id}`; the id is percent-encoded as one path segment. Safe to retry.
    ///
    /// # Errors
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) 404 ([`Error::is_not_found`]) for an unknown id; the errors of
    /// [`get_me`](Self::get_me).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rounds::UserId;
    /// use userapi_fake::rounds::{FakeRounds, OTHER};
    /// let fake = FakeRounds::start().await?;
    /// let rounds = fake.api()?;
    /// let other = rounds.get_user(&UserId::new(OTHER)?).await?;
    /// assert_eq!(other.first_name.as_deref(), Some("Arman"));
    /// let err = rounds.get_user(&"nobody".parse()?).await.unwrap_err();
    /// assert!(err.is_not_found());
    /// # Ok(()) }
    /// ```
    pub async fn get_user(&self, id: &UserId) -> Result<User> {
        self.client
            .call(
                &SERVICE,
                "rounds::get_user",
                Method::GET,
                "users/{id}",
                &[id.as_str()],
            )?
            .idempotent()
            .send()
            .await
    }

    /// `PATCH /users/me`: changes the fields set in `update` and returns the whole user.
    ///
    /// An update that sets nothing is refused before sending. The phone number and
    /// verification flag cannot be changed here. Safe to retry: sending the same values twice
    /// leaves the same profile.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty update, before sending; [`ErrorKind::Http`](crate::ErrorKind::Http) 422 with
    /// [`Error::field_errors`] (`body.first_name`) when the server refuses a value; the
    /// errors of [`get_me`](Self::get_me).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rounds::UserUpdate;
    /// use userapi_fake::rounds::{FakeRounds, ME};
    /// let fake = FakeRounds::start().await?;
    /// let me = fake
    ///     .api()?
    ///     .update_me(&UserUpdate::new().last_name("Serikova").clear_avatar_url())
    ///     .await?;
    /// assert_eq!(me.last_name.as_deref(), Some("Serikova"));
    /// assert_eq!(fake.user(ME).unwrap().avatar_url, None);
    /// # Ok(()) }
    /// ```
    pub async fn update_me(&self, update: &UserUpdate) -> Result<User> {
        const OP: &str = "rounds::update_me";
        update.check(OP)?;
        self.client
            .call(&SERVICE, OP, Method::PATCH, "users/me", &[])?
            .json(update)?
            .idempotent()
            .send()
            .await
    }

    /// `GET /users/rounds`: the rounds the current user takes part in
    /// ([`RoundRole::Participant`]) or organised ([`RoundRole::Owner`], `as_owner=true`). The
    /// service returns the whole list, unpaged. Safe to retry.
    ///
    /// # Errors
    /// The errors of [`get_me`](Self::get_me); [`ErrorKind::Decode`](crate::ErrorKind::Decode) for a body that is not a
    /// list of rounds.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::rounds::RoundRole;
    /// use userapi_fake::rounds::FakeRounds;
    /// let fake = FakeRounds::start().await?;
    /// let owned = fake.api()?.list_rounds(RoundRole::Owner).await?;
    /// assert_eq!(owned[0].entry_fee_hundredths(), Some(50_000));
    /// # Ok(()) }
    /// ```
    pub async fn list_rounds(&self, role: RoundRole) -> Result<Vec<Round>> {
        let call = self
            .client
            .call(&SERVICE, "rounds::list_rounds", Method::GET, "users/rounds", &[])?;
        let call = match role {
            RoundRole::Participant => call,
            RoundRole::Owner => call.query("as_owner", "true"),
        };
        call.idempotent().send().await
    }
}

#[cfg(test)]
crate::properties::service_properties! {
    service: SERVICE,
    decodes: [User, Vec<Round>, Round, Product, RoundStatus, UserId],
    schemes: [crate::Auth::jwt],
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn path_of(client: &crate::Client, id: &UserId) -> String {
        let call = client
            .call(&SERVICE, "t", Method::GET, "users/{id}", &[id.as_str()])
            .unwrap();
        call.target_for_test().path().to_owned()
    }

    #[test]
    fn no_user_id_is_another_route_or_a_path_step() {
        let long = "x".repeat(UserId::MAX_BYTES + 1);
        for bad in ["me", "rounds", "", ".", "..", long.as_str()] {
            let err = UserId::new(bad).unwrap_err();
            assert!(err.is_invalid_input(), "{bad:?}: {err:?}");
            assert!(bad.parse::<UserId>().is_err(), "{bad:?}");
            assert!(UserId::try_from(bad.to_owned()).is_err(), "{bad:?}");
            let json = serde_json::to_string(bad).unwrap();
            assert!(serde_json::from_str::<UserId>(&json).is_err(), "{bad:?}");
        }
        let client = crate::Client::builder()
            .base_url("https://h.example/")
            .build()
            .unwrap();
        let max = "x".repeat(UserId::MAX_BYTES);
        for good in ["Me", "me ", "rounds2", "...", "a/b?c", max.as_str()] {
            let id = UserId::new(good).unwrap();
            assert_eq!(id.as_str(), good);
            assert_eq!(
                serde_json::from_str::<UserId>(&serde_json::to_string(good).unwrap()).unwrap(),
                id
            );
            assert_ne!(path_of(&client, &id), "/users/me");
            assert_ne!(path_of(&client, &id), "/users/rounds");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any id that makes a `UserId` is one segment under `/users/`, never `me` or `rounds`.
        #[test]
        fn a_user_id_is_always_one_segment_of_users(text in crate::properties::odd_text()) {
            static CLIENT: std::sync::OnceLock<crate::Client> = std::sync::OnceLock::new();
            let client = CLIENT.get_or_init(|| {
                crate::Client::builder().base_url("https://h.example/").build().unwrap()
            });
            match UserId::new(&text) {
                Ok(id) => {
                    let path = path_of(client, &id);
                    let segments: Vec<&str> = path.split('/').collect();
                    prop_assert_eq!(segments.len(), 3, "{}", path);
                    prop_assert_eq!(segments[1], "users");
                    prop_assert!(segments[2] != "me" && segments[2] != "rounds", "{}", path);
                    let decoded = url::form_urlencoded::parse(
                        format!("x={}", segments[2].replace('+', "%2B")).as_bytes(),
                    )
                    .next()
                    .map(|(_, v)| v.into_owned());
                    prop_assert_eq!(decoded.as_deref(), Some(text.as_str()));
                }
                Err(err) => {
                    prop_assert!(err.is_invalid_input());
                    prop_assert!(
                        matches!(text.as_str(), "" | "me" | "rounds" | "." | "..")
                            || text.len() > UserId::MAX_BYTES
                    );
                }
            }
        }
    }
}
