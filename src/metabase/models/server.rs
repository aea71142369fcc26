//! The server's public properties (`GET /api/session/properties`): its version and edition,
//! premium features, password rules and locales; and Metabase's version tags.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::models::{Extra, response_model};

response_model! {
    /// The part of `GET /api/session/properties` a client administering users needs. The
    /// server answers dozens of settings, named in kebab-case, which vary by version: every
    /// other one is kept in [`extra`](Self::extra) under its own name.
    ///
    /// The setup token (non-null until the instance is set up) is a credential: it is never
    /// kept, only whether there is one ([`setup_pending`](Self::setup_pending)).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct ServerInfo {
        /// `version`: the release tag, git hash and date.
        #[serde(default)]
        pub version: Option<VersionInfo>,
        /// `token-features`: premium feature → enabled (every key present, all `false`
        /// without a token; the set grows per release). See [`feature`](Self::feature).
        #[serde(default, rename = "token-features")]
        pub token_features: Option<BTreeMap<String, bool>>,
        /// `premium-features`: what very old versions published instead of `token-features`.
        #[serde(default, rename = "premium-features")]
        pub premium_features: Option<BTreeMap<String, bool>>,
        /// `password-complexity`: the instance's password rules.
        #[serde(default, rename = "password-complexity")]
        pub password_complexity: Option<PasswordComplexity>,
        /// `available-locales`: `(code, name)` pairs, e.g. `("pt_BR", "Portuguese (Brazil)")`.
        #[serde(default, rename = "available-locales")]
        pub available_locales: Option<Vec<(String, String)>>,
        /// `site-name`.
        #[serde(default, rename = "site-name")]
        pub site_name: Option<String>,
        /// `site-url`.
        #[serde(default, rename = "site-url")]
        pub site_url: Option<String>,
        /// Whether the instance still waits for its setup (`setup-token` is not null).
        #[serde(default, rename(deserialize = "setup-token"), deserialize_with = "present")]
        pub setup_pending: Option<bool>,
        /// Settings this version does not model, under their own (kebab-case) names.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// `Some(true)` for any non-null value, `Some(false)` for null: what is there, never what.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Option::<serde::de::IgnoredAny>::deserialize(d).map(|v| Some(v.is_some()))
}

impl ServerInfo {
    /// The release the server runs, read from [`version`](Self::version)'s tag; `None` for
    /// a development or nightly build (`vLOCAL_DEV`, `vUNKNOWN`) or no tag at all.
    pub fn release(&self) -> Option<Version> {
        Version::parse(self.version.as_ref()?.tag.as_deref()?)
    }

    /// Whether the server's release is `at_least` or newer, comparing the Metabase major,
    /// point and hotfix numbers (the edition digit, `0` or `1`, plays no part): `None` when
    /// the version is unknown (see [`release`](Self::release)).
    ///
    /// ```
    /// use userapi::metabase::{ServerInfo, Version};
    /// let info: ServerInfo = serde_json::from_str(r#"{"version": {"tag": "v1.50.3.1"}}"#)?;
    /// assert_eq!(info.version_at_least(&Version::new(50, 3)), Some(true));
    /// assert_eq!(info.version_at_least(&Version::new(51, 0)), Some(false));
    /// let dev: ServerInfo = serde_json::from_str(r#"{"version": {"tag": "vLOCAL_DEV"}}"#)?;
    /// assert_eq!(dev.version_at_least(&Version::new(50, 0)), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn version_at_least(&self, at_least: &Version) -> Option<bool> {
        Some(self.release()?.cmp_release(at_least) != Ordering::Less)
    }

    /// Whether a premium feature (`advanced_permissions`, `sso_jwt`, `tenants`, …) is on:
    /// `None` when the server publishes no feature map, `Some(false)` for a feature it does
    /// not name.
    pub fn feature(&self, name: &str) -> Option<bool> {
        let features = self.token_features.as_ref().or(self.premium_features.as_ref())?;
        Some(features.get(name).copied().unwrap_or(false))
    }

    /// Whether the build is Pro/Enterprise (a `v1.…` tag); `None` when the version is unknown.
    pub fn is_enterprise_build(&self) -> Option<bool> {
        self.release().map(|v| v.is_enterprise())
    }
}

response_model! {
    /// `version` of [`ServerInfo`]: `{"tag": "v0.58.7", "hash": "abc1234", "date": "2025-12-15"}`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct VersionInfo {
        /// The release tag (`v0.58.7`, `v1.58.7`, `v0.57.3.1`, `v0.51.0-beta`, `vLOCAL_DEV`).
        #[serde(default)]
        pub tag: Option<String>,
        /// The 7-character git hash.
        #[serde(default)]
        pub hash: Option<String>,
        /// The last commit's date.
        #[serde(default)]
        pub date: Option<String>,
        /// The branch (older builds).
        #[serde(default)]
        pub branch: Option<String>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

response_model! {
    /// `password-complexity` of [`ServerInfo`]: the least number of characters in all and of
    /// each kind a new password needs (`{"total": 6, "digit": 1}` by default).
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct PasswordComplexity {
        /// Characters in all.
        #[serde(default)]
        pub total: Option<u64>,
        /// Lower-case letters.
        #[serde(default)]
        pub lower: Option<u64>,
        /// Upper-case letters.
        #[serde(default)]
        pub upper: Option<u64>,
        /// Digits.
        #[serde(default)]
        pub digit: Option<u64>,
        /// Other characters.
        #[serde(default)]
        pub special: Option<u64>,
        /// Fields this version does not model.
        #[serde(flatten, skip_deserializing)]
        pub extra: Extra,
    }
}

/// A Metabase release, read leniently from a tag `v<edition>.<major>.<point>[.<hotfix>][-<pre>]`:
/// edition `0` is open source and `1` Pro/Enterprise of the same release (`v1.58.7` is the
/// Enterprise build of 58.7). Releases compare on major, point and hotfix; a pre-release
/// (`-beta`, `-RC1`) comes before its release. [`Version::new`] makes one to compare with.
///
/// ```
/// use userapi::metabase::Version;
/// let v = Version::parse("v0.57.3.1").expect("a release tag");
/// assert_eq!((v.major(), v.point(), v.hotfix()), (57, 3, 1));
/// assert!(v > Version::new(57, 3));
/// assert!(Version::parse("v0.51.0-beta").unwrap() < Version::new(51, 0));
/// assert!(Version::parse("vLOCAL_DEV").is_none());
/// assert!(Version::parse("v2.50.1").is_none(), "the edition digit is 0 or 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    edition: Option<u8>,
    major: u32,
    point: u32,
    hotfix: u32,
    pre: Option<String>,
}

impl Version {
    /// Release `major.point` (e.g. `Version::new(50, 3)` for 0.50.3 and 1.50.3), to compare
    /// a server's with.
    pub fn new(major: u32, point: u32) -> Self {
        Version {
            edition: None,
            major,
            point,
            hotfix: 0,
            pre: None,
        }
    }

    /// The same release with a hotfix number (`v0.57.3.1`).
    pub fn with_hotfix(mut self, hotfix: u32) -> Self {
        self.hotfix = hotfix;
        self
    }

    /// Reads a tag (`v0.50.3`, `0.50.3`, `v1.50.3.1`, `v0.51.0-beta`); `None` for anything
    /// else (`vLOCAL_DEV`, `vUNKNOWN`, junk, numbers too large), never a panic.
    pub fn parse(tag: &str) -> Option<Version> {
        let tag = tag.trim();
        let tag = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
        let (numbers, pre) = match tag.split_once(['-', '+']) {
            Some((n, p)) => (n, Some(p)),
            None => (tag, None),
        };
        let parts: Vec<&str> = numbers.split('.').collect();
        if !(3..=4).contains(&parts.len()) {
            return None;
        }
        let num = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let edition = num(parts[0]).filter(|e| *e <= 1)? as u8;
        let pre = match pre {
            Some(p) if p.trim().is_empty() => return None,
            Some(p) => Some(p.to_owned()),
            None => None,
        };
        Some(Version {
            edition: Some(edition),
            major: num(parts[1])?,
            point: num(parts[2])?,
            hotfix: match parts.get(3) {
                Some(h) => num(h)?,
                None => 0,
            },
            pre,
        })
    }

    /// The Metabase major release (`50` in `v0.50.3`).
    pub fn major(&self) -> u32 {
        self.major
    }

    /// The point release (`3` in `v0.50.3`).
    pub fn point(&self) -> u32 {
        self.point
    }

    /// The hotfix number (`1` in `v0.57.3.1`; `0` without one).
    pub fn hotfix(&self) -> u32 {
        self.hotfix
    }

    /// The pre-release label (`beta` in `v0.51.0-beta`), if any.
    pub fn pre_release(&self) -> Option<&str> {
        self.pre.as_deref()
    }

    /// Whether the tag is a Pro/Enterprise build (`v1.…`); false for one made with
    /// [`Version::new`].
    pub fn is_enterprise(&self) -> bool {
        self.edition == Some(1)
    }

    /// The release order: major, point, hotfix, then a pre-release before the release.
    fn cmp_release(&self, other: &Version) -> Ordering {
        (self.major, self.point, self.hotfix)
            .cmp(&(other.major, other.point, other.hotfix))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

/// Releases in order; two builds of one release (open source and Enterprise) are equal in
/// order but not `==`, so use [`Ord::cmp`] (or `<`, `>=`) to compare releases.
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp_release(other))
    }
}

impl fmt::Display for Version {
    /// As a tag: `v0.50.3`, `v1.57.3.1`, `v0.51.0-beta` (`v0.` for one made with [`Version::new`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.edition.unwrap_or(0), self.major, self.point)?;
        if self.hotfix != 0 {
            write!(f, ".{}", self.hotfix)?;
        }
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_leniently_and_never_panic() {
        for junk in [
            "",
            "v",
            "vLOCAL_DEV",
            "vUNKNOWN",
            "vLOCAL",
            "v0.50",
            "v0.50.3.1.2",
            "v2.50.3",
            "v0.x.3",
            "v0.50.3-",
            "v0.99999999999.1",
            "v０.50.3",
            "v0..3",
            "v-1.50.3",
            "\u{0}",
            "v0.50.3\u{301}",
        ] {
            assert!(Version::parse(junk).is_none(), "{junk:?}");
        }
        let v = Version::parse(" v1.50.3.1 ").unwrap();
        assert!(v.is_enterprise());
        assert_eq!(v.to_string(), "v1.50.3.1");
        assert_eq!(Version::parse("0.50.3").unwrap().to_string(), "v0.50.3");
        assert_eq!(Version::parse("v0.51.0-RC1").unwrap().pre_release(), Some("RC1"));
        assert!(Version::parse("v0.50.10").unwrap() > Version::parse("v0.50.9").unwrap());
        assert!(Version::parse("v0.50.3").unwrap() >= Version::new(50, 3));
        assert_ne!(
            Version::parse("v0.50.3").unwrap(),
            Version::parse("v1.50.3").unwrap()
        );
        assert_eq!(
            Version::parse("v0.50.3")
                .unwrap()
                .partial_cmp(&Version::parse("v1.50.3").unwrap()),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn properties_keep_unknown_settings_and_never_the_setup_token() {
        let info: ServerInfo = serde_json::from_str(
            r#"{"version": {"tag": "v0.58.7", "hash": "abc1234", "date": "2025-12-15"},
                "token-features": {"advanced_permissions": false, "support-users": true},
                "password-complexity": {"total": 6, "digit": 1},
                "available-locales": [["en", "English"], ["pt_BR", "Portuguese (Brazil)"]],
                "setup-token": "0f4b6d1e-secret", "site-name": "Acme", "enable-embedding": false}"#,
        )
        .unwrap();
        assert_eq!(info.setup_pending, Some(true));
        assert!(!format!("{info:?}").contains("secret"));
        assert!(!serde_json::to_string(&info).unwrap().contains("secret"));
        assert_eq!(info.extra["enable-embedding"], false);
        assert_eq!(info.feature("support-users"), Some(true));
        assert_eq!(info.feature("advanced_permissions"), Some(false));
        assert_eq!(info.feature("from_the_future"), Some(false));
        assert_eq!(info.password_complexity.as_ref().unwrap().total, Some(6));
        assert_eq!(info.available_locales.as_ref().unwrap()[1].0, "pt_BR");
        assert_eq!(info.version_at_least(&Version::new(58, 7)), Some(true));
        assert_eq!(info.is_enterprise_build(), Some(false));
        let bare: ServerInfo = serde_json::from_str(r#"{"version": {}, "setup-token": null}"#).unwrap();
        assert_eq!(
            (bare.release(), bare.feature("x"), bare.setup_pending),
            (None, None, Some(false))
        );
    }
}
