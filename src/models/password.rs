//! [`PasswordChange`]: a new password and, where the service wants it, the current one.

use crate::auth::Password;

/// A change of password: the new one and, where the service asks for it, the current one.
/// Named, so the two can never be passed the wrong way round.
///
/// ```
/// use userapi::models::PasswordChange;
/// let change = PasswordChange::new("N3w-secret-pass").current("0ld-secret-pass");
/// assert_eq!(change.new_password().expose(), "N3w-secret-pass");
/// assert_eq!(change.current_password().map(|p| p.expose()), Some("0ld-secret-pass"));
/// assert_eq!(format!("{change:?}").matches("redacted").count(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordChange {
    new_password: Password,
    current_password: Option<Password>,
}

impl PasswordChange {
    /// Sets `new_password`.
    pub fn new(new_password: impl Into<Password>) -> Self {
        PasswordChange {
            new_password: new_password.into(),
            current_password: None,
        }
    }

    /// The current password, which proves the change (some services require it).
    pub fn current(mut self, current_password: impl Into<Password>) -> Self {
        self.current_password = Some(current_password.into());
        self
    }

    /// The new password.
    pub fn new_password(&self) -> &Password {
        &self.new_password
    }

    /// The current password, if given.
    pub fn current_password(&self) -> Option<&Password> {
        self.current_password.as_ref()
    }
}
