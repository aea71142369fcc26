//! Users: the caller, one user, the list and its pager, recipients, creating, updating,
//! deactivating and reactivating users, passwords and onboarding modals.

use std::sync::Arc;

use reqwest::{Method, StatusCode};

use super::models::{
    self, ListUsers, Modal, NewUser, PasswordChanged, PasswordResetUrl, User, UserId, UserList, UserUpdate,
};
use super::session::{Install, install_session, session_in};
use super::{Metabase, SERVICE};
use crate::error::Result;
use crate::http::Call;
use crate::models::PasswordChange;
use crate::pager::{Fetch, Listing, Pager, decode_later};

impl Metabase {
    /// A call on `/api/user/{id}…`: the id (typed, so never 0) first, then `more`.
    fn user_call(
        &self,
        op: &'static str,
        method: Method,
        route: &'static str,
        id: &UserId,
        more: &[&str],
    ) -> Result<Call<'_>> {
        let id = id.to_string();
        let mut ids = vec![id.as_str()];
        ids.extend_from_slice(more);
        self.call(op, method, route, &ids)
    }

    /// `GET /api/user/current`: the current user, with the fields only this endpoint returns.
    /// With an API key it is the key's own user (`api-key-user-…@api-key.invalid`, named
    /// after the key).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_EMAIL, FakeMetabase};
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let me = fake.api()?.get_me().await?;
    /// assert_eq!(me.email.as_deref(), Some(ADMIN_EMAIL));
    /// assert_eq!(me.is_superuser, Some(true));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 401 ([`Error::is_auth`](crate::Error::is_auth)) without valid credentials.
    pub async fn get_me(&self) -> Result<User> {
        self.call("metabase::get_me", Method::GET, "api/user/current", &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user/:id`: one user (self, a superuser, or an EE group manager may read it;
    /// others get 403). Deactivated users can be read.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::USER_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let rasta = fake.api()?.get_user(&USER_ID).await?;
    /// assert_eq!(rasta.common_name.as_deref(), Some("Rasta Toucan"));
    /// assert!(rasta.user_group_memberships.is_some());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 403 for another user's account without the
    /// rights; 404 ([`Error::is_not_found`](crate::Error::is_not_found)) for an unknown id; 401 without credentials.
    pub async fn get_user(&self, id: &UserId) -> Result<User> {
        self.user_call("metabase::get_user", Method::GET, "api/user/{id}", id, &[])?
            .idempotent()
            .send()
            .await
    }

    /// `GET /api/user`: one page of users. Superusers see everyone; EE group managers the
    /// active members of the groups they manage; from 0.59 data analysts (members of the Data
    /// Analysts group) may list too, seeing ids, emails and names; others get 403. API keys'
    /// users are never listed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::{ListUsers, UserStatus};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let page = fake.api()?.list_users(&ListUsers::new().status(UserStatus::All).limit(2)).await?;
    /// assert_eq!((page.data.len(), page.total, page.limit), (2, Some(4), Some(2)));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 403 for a caller who may not list users; 400 for a filter the server refuses
    /// (`tenancy` together with `tenant_id`, a filter an older server does not know is simply
    /// ignored), checked before the caller's rights; 401 without credentials.
    pub async fn list_users(&self, query: &ListUsers) -> Result<UserList> {
        self.list_call(query)?.send().await
    }

    fn list_call(&self, query: &ListUsers) -> Result<Call<'_>> {
        Ok(self
            .call("metabase::list_users", Method::GET, "api/user", &[])?
            .query_struct(query)?
            .idempotent())
    }

    /// Every user matching `query`, as a [`Pager`]: `query.limit` per page (default 100), from
    /// `query.offset`. The first page tells the total; then up to
    /// [`Pager::concurrency`] pages (default 6) are fetched at once, items still in order,
    /// so listing a large instance costs about a sixth of the round trips. Memory stays at a
    /// few pages whatever the total.
    ///
    /// A server that ignores paging ends the stream with [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) rather than
    /// looping (see [`pager`](crate::pager)); an old server's bare array (no total) is read
    /// until a short page.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::{ListUsers, UserStatus};
    /// use userapi_fake::metabase::FakeMetabase;
    /// let fake = FakeMetabase::start().await?;
    /// let mut users = fake.api()?.users(ListUsers::new().status(UserStatus::All).limit(2));
    /// let mut ids = Vec::new();
    /// while let Some(user) = users.next().await {
    ///     ids.push(user?.id);
    /// }
    /// assert_eq!(Some(ids.len() as u64), users.total());
    /// let first_two = fake.api()?.users(ListUsers::new().limit(2)).next_page().await.unwrap()?;
    /// assert_eq!(first_two.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn users(&self, query: ListUsers) -> Pager<User> {
        let page_size = query.limit.unwrap_or(100).max(1);
        let start = query.offset.unwrap_or(0);
        let api = self.clone();
        let fetch: Fetch<User> = Arc::new(move |offset, limit| {
            let api = api.clone();
            let query = query.clone().offset(offset).limit(limit);
            Box::pin(async move {
                let raw = api.list_call(&query)?.send_raw().await?;
                Ok(decode_later(raw, |list: UserList| Listing {
                    items: list.data,
                    total: list.total,
                    offset: list.offset,
                }))
            })
        });
        Pager::new(fetch, |user| user.id.get(), start, page_size)
    }

    /// The user whose email is exactly `email`, compared as Metabase compares emails
    /// (case-insensitively), active or deactivated; `None` when there is none. `GET
    /// /api/user`'s `query` is a substring match over names and emails, so this pages through
    /// its matches ([`users`](Self::users), `status=all`, 100 a page) until it finds the one
    /// user or the matches run out. A server that ignores paging ends it with
    /// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) rather than looping.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::USER_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// let rasta = api.find_user_by_email("RASTA@metabase.com").await?.expect("found");
    /// assert_eq!(rasta.id, USER_ID);
    /// assert!(api.find_user_by_email("rasta@metabase").await?.is_none()); // no substring match
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank email; those of
    /// [`list_users`](Self::list_users) (403 for a caller who may not list users).
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        const OP: &str = "metabase::find_user_by_email";
        super::non_blank(OP, "the email", email)?;
        let wanted = email.trim().to_lowercase();
        let query = ListUsers::new()
            .query(email.trim())
            .status(models::UserStatus::All)
            .limit(100);
        let mut pager = self.users(query).concurrency(1);
        while let Some(user) = pager.next().await {
            let user = user?;
            if user.email.as_deref().is_some_and(|e| e.to_lowercase() == wanted) {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    /// `GET /api/user/recipients`: the users the caller may send things to (any user may
    /// call it; which users it returns depends on the instance's user-visibility setting).
    /// Current servers echo but do not apply paging here, so there is no paging to ask for.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let everyone = fake.api()?.list_recipients().await?;
    /// assert_eq!(everyone.total, Some(3)); // the active people
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 401 without credentials.
    pub async fn list_recipients(&self) -> Result<UserList> {
        self.call(
            "metabase::list_recipients",
            Method::GET,
            "api/user/recipients",
            &[],
        )?
        .idempotent()
        .send()
        .await
    }

    /// `POST /api/user`: creates a user (superusers only). Answers 200 with the user, its
    /// `user_group_memberships` included. Never retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::NewUser;
    /// use userapi::Auth;
    /// use userapi::auth::Password;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let new = NewUser::new("ada@example.com").name("Ada", "Byron").password("Analyt1cal-engine");
    /// let ada = fake.api()?.create_user(&new).await?;
    /// assert_eq!(ada.common_name.as_deref(), Some("Ada Byron"));
    /// let as_ada = fake.api_with(Auth::none())?;
    /// as_ada.login("ada@example.com", &Password::new("Analyt1cal-engine")).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a blank email. HTTP 400 with field error `email` for an
    /// invalid or taken address (`Email address already in use.`), 400 for memberships
    /// without the All Users group, or a tenant on an instance without tenants; 403 for a
    /// caller who is not a superuser.
    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        const OP: &str = "metabase::create_user";
        user.check(OP)?;
        self.call(OP, Method::POST, "api/user", &[])?
            .json(user)?
            .send()
            .await
    }

    /// `PUT /api/user/:id`: changes what `update` sets (self or superuser; only active users
    /// can be updated, others give 404). An empty update is refused before sending. The same
    /// update twice gives the same user, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_GROUP, ALL_USERS_GROUP, OTHER_USER_ID};
    /// use userapi::metabase::{GroupMembership, UserUpdate};
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let groups = vec![GroupMembership::new(ALL_USERS_GROUP), GroupMembership::new(ADMIN_GROUP)];
    /// let user = fake.api()?.update_user(&OTHER_USER_ID, &UserUpdate::new().first_name("Lucky").groups(groups)).await?;
    /// assert_eq!(user.is_superuser, Some(true)); // the Administrators group
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty update. HTTP 404 for an unknown or deactivated
    /// user; 403 for someone else's account, or a non-superuser changing groups;
    /// 400 with field errors (`email`: `Email address already associated to another user.`,
    /// `locale`, `is_superuser` disagreeing with the Administrators group, …).
    pub async fn update_user(&self, id: &UserId, update: &UserUpdate) -> Result<User> {
        const OP: &str = "metabase::update_user";
        update.check(OP)?;
        self.user_call(OP, Method::PUT, "api/user/{id}", id, &[])?
            .json(update)?
            .idempotent()
            .send()
            .await
    }

    /// `PUT /api/user/:id/password`: sets a new password. Never retried.
    ///
    /// The current password ([`PasswordChange::current`]) is required in practice unless the
    /// caller is a superuser. On one's own
    /// account the server answers with a **new session** and the old one stops working: if
    /// this client was using a session, it switches to the new one itself, and the result is
    /// [`PasswordChanged::NewSession`]. A superuser changing another user's password gets
    /// [`PasswordChanged::Changed`] (HTTP 204); that user's sessions end.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::{ADMIN_ID, ADMIN_PASSWORD, FakeMetabase};
    /// use userapi::metabase::PasswordChanged;
    /// use userapi::models::PasswordChange;
    ///
    /// let fake = FakeMetabase::start().await?;
    /// let api = fake.api()?; // user 1's session
    /// let change = PasswordChange::new("Fresh-pass9").current(ADMIN_PASSWORD);
    /// let changed = api.change_password(&ADMIN_ID, &change).await?;
    /// assert!(matches!(changed, PasswordChanged::NewSession(_)));
    /// api.get_me().await?; // already on the new session
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty new password. HTTP 400 with field error
    /// `password` (`password is too common.`) or `old_password` (`Invalid password`); 403 for
    /// someone else's password without being a superuser; 404 for an unknown or deactivated
    /// user. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) for an empty session id (the client keeps its credentials).
    pub async fn change_password(&self, id: &UserId, change: &PasswordChange) -> Result<PasswordChanged> {
        const OP: &str = "metabase::change_password";
        models::NewPassword {
            password: change.new_password().as_secret(),
            old_password: change.current_password().map(|p| p.as_secret()),
        }
        .check(OP)?;
        let id = id.to_string();
        let (new_password, old_password) =
            (change.new_password().clone(), change.current_password().cloned());
        // The request and the switch to the new session run in a task of their own: once the
        // server has applied the change it has ended the old session, so the new one must be
        // installed even if the caller stops waiting.
        self.client
            .detached(move |client| async move {
                let body = models::NewPassword {
                    password: new_password.as_secret(),
                    old_password: old_password.as_ref().map(|p| p.as_secret()),
                };
                let raw = client
                    .call(&SERVICE, OP, Method::PUT, "api/user/{id}/password", &[&id])?
                    .json(&body)?
                    .secret_response()
                    .send_raw()
                    .await?;
                if raw.status == StatusCode::NO_CONTENT || raw.body.trim_ascii().is_empty() {
                    return Ok(PasswordChanged::Changed);
                }
                let response: models::PasswordResponse = raw.json()?;
                match session_in(&raw, response.session_id)? {
                    Some(session) => {
                        install_session(&client, &session, Install::Always { new_password })?;
                        Ok(PasswordChanged::NewSession(session))
                    }
                    None => Ok(PasswordChanged::Changed),
                }
            })
            .await
    }

    /// `PUT /api/user/:id/reactivate`: reactivates a deactivated user (superusers only;
    /// `is_superuser` is reset to false). An active user gives 400 `Not able to reactivate
    /// an active user`, so this is not retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::DEACTIVATED_USER_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let back = fake.api()?.reactivate_user(&DEACTIVATED_USER_ID).await?;
    /// assert_eq!(back.is_active, Some(true));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 (`Not able to reactivate an active user`) for an active user; 404 for an unknown id; 403 for a caller who is not a superuser.
    pub async fn reactivate_user(&self, id: &UserId) -> Result<User> {
        self.user_call(
            "metabase::reactivate_user",
            Method::PUT,
            "api/user/{id}/reactivate",
            id,
            &[],
        )?
        .send()
        .await
    }

    /// `DELETE /api/user/:id`: **deactivates** the user; it is not deleted and can be
    /// reactivated with [`reactivate_user`](Self::reactivate_user). Superusers only;
    /// deactivating the last admin gives 400. Safe to repeat (an inactive user answers 200).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi_fake::metabase::OTHER_USER_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// fake.api()?.deactivate_user(&OTHER_USER_ID).await?;
    /// assert_eq!(fake.is_active(&OTHER_USER_ID), Some(false));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 (`You cannot remove the last member of the 'Admin' group!`); 404 for an unknown id; 403 for a caller who is not a superuser.
    pub async fn deactivate_user(&self, id: &UserId) -> Result<()> {
        let _: serde::de::IgnoredAny = self
            .user_call(
                "metabase::deactivate_user",
                Method::DELETE,
                "api/user/{id}",
                id,
                &[],
            )?
            .idempotent()
            .send()
            .await?;
        Ok(())
    }

    /// `POST /api/user/:id/password-reset-url`: a link that lets the user set a new
    /// password, for an administrator to hand over by a channel other than email (newest
    /// servers; superusers only). Older servers answer 404 `API endpoint does not exist.`:
    /// check [`ServerInfo`](super::ServerInfo) first, or treat that 404 as "not available".
    /// The link holds a reset token (a credential) and each call issues a new one, so it is
    /// never retried and never shown in `Debug` or errors.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::Version;
    /// use userapi::auth::Password;
    /// use userapi::Auth;
    /// use userapi_fake::metabase::{FakeMetabase, USER_ID};
    /// let fake = FakeMetabase::builder().version(&Version::new(59, 0)).start().await?;
    /// let link = fake.api()?.password_reset_url(&USER_ID).await?;
    /// let token = link.token.expect("the usual form");
    /// fake.api_with(Auth::none())?.reset_password(&token, &Password::new("Handed-over-9")).await?;
    ///
    /// let older = FakeMetabase::builder().version(&Version::new(58, 7)).start().await?;
    /// assert!(older.api()?.password_reset_url(&USER_ID).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 404 for an unknown user, or a server without this endpoint; 403 for a caller who
    /// is not a superuser. [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) when the answer
    /// holds no link.
    pub async fn password_reset_url(&self, id: &UserId) -> Result<PasswordResetUrl> {
        let raw = self
            .user_call(
                "metabase::password_reset_url",
                Method::POST,
                "api/user/{id}/password-reset-url",
                id,
                &[],
            )?
            .secret_response()
            .send_raw()
            .await?;
        let value: serde_json::Value = match raw.json() {
            Ok(v) => v,
            // A bare link as text.
            Err(_) => serde_json::Value::String(String::from_utf8_lossy(&raw.body).into_owned()),
        };
        PasswordResetUrl::from_answer(&value)
            .ok_or_else(|| raw.protocol_error("the answer holds no password-reset link"))
    }

    /// `PUT /api/user/:id/modal/:modal`: marks an onboarding modal as seen (self or superuser).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::Modal;
    /// use userapi_fake::metabase::ADMIN_ID;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let api = fake.api()?;
    /// api.dismiss_modal(&ADMIN_ID, Modal::QbNewb).await?;
    /// assert_eq!(api.get_me().await?.is_qbnewb, Some(false));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// HTTP 400 for a modal the server does not know; 500 (`Internal server error.`) for an
    /// unknown user or an API key's user; 403 for someone else's account without being a
    /// superuser.
    pub async fn dismiss_modal(&self, id: &UserId, modal: Modal) -> Result<()> {
        let _: serde::de::IgnoredAny = self
            .user_call(
                "metabase::dismiss_modal",
                Method::PUT,
                "api/user/{id}/modal/{modal}",
                id,
                &[modal.as_str()],
            )?
            .idempotent()
            .send()
            .await?;
        Ok(())
    }
}
