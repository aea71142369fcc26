//! The server itself: its public properties (version, edition, premium features, password
//! rules, locales), `GET /api/session/properties`.

use reqwest::Method;

use super::Metabase;
use super::models::ServerInfo;
use crate::error::Result;

impl Metabase {
    /// `GET /api/session/properties`: what the server publishes about itself, as
    /// [`ServerInfo`]: its version ([`ServerInfo::version_at_least`] compares it), premium
    /// features ([`ServerInfo::feature`]), password rules and locales; every other setting is
    /// kept in [`ServerInfo::extra`]. No credentials needed (a signed-in caller sees more
    /// settings); a read, so it may be retried.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use userapi::metabase::Version;
    /// use userapi::Auth;
    /// # let fake = userapi_fake::metabase::FakeMetabase::start().await?;
    /// let info = fake.api_with(Auth::none())?.server_info().await?;
    /// assert_eq!(info.version_at_least(&Version::new(50, 0)), Some(true));
    /// assert_eq!(info.feature("advanced_permissions"), Some(false)); // open source
    /// assert_eq!(info.password_complexity.unwrap().total, Some(6));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Transport and server errors as usual; [`ErrorKind::Decode`](crate::ErrorKind::Decode)
    /// when a modelled setting has another shape.
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.call(
            "metabase::server_info",
            Method::GET,
            "api/session/properties",
            &[],
        )?
        .idempotent()
        .send()
        .await
    }
}
