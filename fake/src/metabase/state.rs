//! The fake Metabase's data: users, sessions, API keys, reset tokens, the key-value store, and how ids, keys and sessions are made.

#![allow(unused_imports)]

use super::*;

/// The seeded groups: id, name, `magic_group_type`.
pub(crate) const GROUPS: [(u64, &str, Option<&str>); 3] = [
    (ALL_USERS, "All Users", Some("all-internal-users")),
    (ADMINS, "Administrators", Some("admin")),
    (ANALYSTS, "Analysts", None),
];
/// The Data Analysts group (`data-analyst`), seeded from 0.59 ([`DATA_ANALYSTS_SINCE`]);
/// `is_data_analyst` is membership of it.
pub(crate) const DATA_ANALYSTS: u64 = 4;
/// The locales the fake has, as `available-locales` lists them (code, name): a subset of a
/// Metabase build's, in its spelling (`pt_BR`, `zh_TW`).
pub(crate) const AVAILABLE_LOCALES: [(&str, &str); 12] = [
    ("de", "German"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("nl", "Dutch"),
    ("pt_BR", "Portuguese (Brazil)"),
    ("ru", "Russian"),
    ("uk", "Ukrainian"),
    ("zh_CN", "Chinese (China)"),
    ("zh_TW", "Chinese (Taiwan)"),
];
pub(crate) const SESSION_MAX_AGE: &str = "1209600";
/// How long a reset token lasts (`MB_RESET_TOKEN_TTL_HOURS` defaults to 48).
pub(crate) const RESET_TOKEN_TTL: Duration = Duration::from_secs(48 * 3600);
/// The prefixes whose routes need credentials: checked before the route is looked up.
pub(crate) const AUTH_PREFIXES: [&str; 41] = [
    "action",
    "activity",
    "alert",
    "analytics",
    "api-key",
    "automagic-dashboards",
    "bookmark",
    "bug-reporting",
    "cache",
    "card",
    "cards",
    "channel",
    "cloud-migration",
    "collection",
    "dashboard",
    "database",
    "dataset",
    "field",
    "google",
    "ldap",
    "logger",
    "login-history",
    "model-index",
    "native-query-snippet",
    "permissions",
    "persist",
    "premium-features",
    "preview_embed",
    "revision",
    "search",
    "segment",
    "setting",
    "slack",
    "table",
    "task",
    "tiles",
    "timeline",
    "timeline-event",
    "upload",
    "user",
    "user-key-value",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Personal,
    ApiKey,
}

#[derive(Debug, Clone)]
pub(crate) struct ResetToken {
    pub(crate) token: String,
    pub(crate) issued: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) id: u64,
    pub(crate) kind: Kind,
    pub(crate) email: String,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) password: String,
    pub(crate) active: bool,
    pub(crate) data_analyst: bool,
    pub(crate) qbnewb: bool,
    pub(crate) datasetnewb: bool,
    /// Sorted, All Users included; Administrators makes a superuser.
    pub(crate) groups: Vec<u64>,
    pub(crate) login_attributes: Option<Value>,
    pub(crate) locale: Option<String>,
    pub(crate) date_joined: String,
    pub(crate) last_login: Option<String>,
    pub(crate) updated_at: String,
    pub(crate) reset: Option<ResetToken>,
}

#[derive(Debug, Clone)]
pub(crate) struct KeyRecord {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) user: u64,
    pub(crate) key: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) updated_by: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct LoginRow {
    pub(crate) user: u64,
    pub(crate) session: Option<String>,
    pub(crate) timestamp: String,
    pub(crate) device: String,
    pub(crate) ip: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) value: Value,
    /// Seconds since the epoch.
    pub(crate) expires: Option<i64>,
}

/// A permission group.
#[derive(Debug, Clone)]
pub(crate) struct GroupRec {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) magic: Option<&'static str>,
}

/// What a membership has beyond its (user, group) pair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MembershipMeta {
    pub(crate) id: u64,
    pub(crate) manager: bool,
}

#[derive(Debug)]
pub(crate) struct Instance {
    /// What the fake emulates (version, edition, throttling).
    pub(crate) config: Config,
    pub(crate) groups: Vec<GroupRec>,
    /// (user, group) → membership id and manager flag; kept in step with `Person::groups`
    /// by [`Instance::sync_memberships`].
    pub(crate) memberships: BTreeMap<(u64, u64), MembershipMeta>,
    pub(crate) next_membership_id: u64,
    pub(crate) people: Vec<Person>,
    /// session id → user id
    pub(crate) sessions: HashMap<String, u64>,
    pub(crate) keys: Vec<KeyRecord>,
    pub(crate) next_key_id: u64,
    pub(crate) logins: Vec<LoginRow>,
    /// (user, namespace, key) → value
    pub(crate) values: BTreeMap<(u64, String, String), Stored>,
    pub(crate) last_reset: Option<String>,
    pub(crate) forgot_attempts: HashMap<String, Vec<Instant>>,
    pub(crate) reset_attempts: Vec<Instant>,
    /// Login attempts by user name (lower-cased) and by address.
    pub(crate) login_attempts: HashMap<String, Vec<Instant>>,
    pub(crate) random: RandomState,
    pub(crate) counter: u64,
}

pub(crate) fn person(
    id: u64,
    email: &str,
    first: &str,
    last: &str,
    password: &str,
    superuser: bool,
) -> Person {
    let mut groups = vec![ALL_USERS];
    if superuser {
        groups.push(ADMINS);
    }
    Person {
        id,
        kind: Kind::Personal,
        email: email.to_owned(),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        password: password.to_owned(),
        active: true,
        data_analyst: false,
        qbnewb: true,
        datasetnewb: true,
        groups,
        login_attributes: None,
        locale: None,
        date_joined: "2024-03-01T10:15:30.123456Z".to_owned(),
        last_login: Some("2024-03-05T08:00:01.5Z".to_owned()),
        updated_at: "2024-03-05T08:00:01.5Z".to_owned(),
        reset: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Time, the fake's own
// ---------------------------------------------------------------------------------------------

/// How an `expires_at` reads.
pub(crate) enum Expiry {
    /// An instant, in seconds since the epoch.
    At(i64),
    /// A date-time without an offset: it passes the string check but is no instant.
    NoOffset,
    /// Not a date-time string.
    Malformed,
}

/// `YYYY-MM-DDTHH:MM[:SS[.fff…]]` then `Z` or `±HH:MM`.
pub(crate) fn parse_expiry(s: &str) -> Expiry {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let num = |t: &str| t.parse::<i64>().unwrap_or(-1);
    let Some((date, time)) = s.split_once('T') else {
        return Expiry::Malformed;
    };
    let dp: Vec<&str> = date.split('-').collect();
    if dp.len() != 3
        || dp[0].len() != 4
        || dp[1].len() != 2
        || dp[2].len() != 2
        || !dp.iter().all(|p| digits(p))
    {
        return Expiry::Malformed;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, Some(0))
    } else if time.len() > 6 && matches!(time.as_bytes()[time.len() - 6], b'+' | b'-') {
        let (c, o) = time.split_at(time.len() - 6);
        let (oh, om) = (&o[1..3], &o[4..6]);
        if &o[3..4] != ":" || !digits(oh) || !digits(om) {
            return Expiry::Malformed;
        }
        let sign = if o.starts_with('-') { -1 } else { 1 };
        (c, Some(sign * (num(oh) * 3600 + num(om) * 60)))
    } else {
        (time, None)
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, "0"));
    let tp: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&tp.len()) || !tp.iter().all(|p| p.len() == 2 && digits(p)) || !digits(frac) {
        return Expiry::Malformed;
    }
    let (y, mo, d) = (num(dp[0]), num(dp[1]), num(dp[2]));
    let (h, mi, sec) = (num(tp[0]), num(tp[1]), tp.get(2).map_or(0, |s| num(s)));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Expiry::Malformed;
    }
    let Some(offset) = offset else {
        return Expiry::NoOffset;
    };
    let days = civil_to_days(y, mo as u32, d as u32);
    Expiry::At(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

impl Instance {
    pub(crate) fn random(&mut self) -> u64 {
        self.counter += 1;
        let mut h = self.random.build_hasher();
        h.write_u64(self.counter);
        h.finish()
    }

    pub(crate) fn uuid(&mut self) -> String {
        let (a, b) = (self.random(), self.random());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// `mb_` and the standard Base64 of 32 random bytes: 47 characters.
    pub(crate) fn new_key(&mut self) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes: Vec<u8> = (0..4).flat_map(|_| self.random().to_le_bytes()).collect();
        let mut out = String::from("mb_");
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub(crate) fn new_session(&mut self, user: u64) -> String {
        let session = self.uuid();
        self.sessions.insert(session.clone(), user);
        session
    }

    pub(crate) fn person(&self, id: u64) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    pub(crate) fn person_mut(&mut self, id: u64) -> Option<&mut Person> {
        self.people.iter_mut().find(|p| p.id == id)
    }

    pub(crate) fn email_taken(&self, email: &str, except: Option<u64>) -> bool {
        self.people
            .iter()
            .any(|p| Some(p.id) != except && p.email.eq_ignore_ascii_case(email))
    }

    pub(crate) fn active_admins(&self) -> usize {
        self.people
            .iter()
            .filter(|p| p.kind == Kind::Personal && p.active && p.superuser())
            .count()
    }

    pub(crate) fn add_person(
        &mut self,
        kind: Kind,
        email: String,
        first_name: Option<String>,
        last_name: Option<String>,
        password: String,
        groups: Vec<u64>,
    ) -> u64 {
        let id = self.people.iter().map(|p| p.id).max().unwrap_or(0) + 1;
        let now = now_iso();
        let mut person = Person {
            id,
            kind,
            email,
            first_name,
            last_name,
            password,
            active: true,
            data_analyst: false,
            qbnewb: true,
            datasetnewb: true,
            groups: Vec::new(),
            login_attributes: None,
            locale: None,
            date_joined: now.clone(),
            last_login: None,
            updated_at: now,
            reset: None,
        };
        person.set_groups(groups);
        self.people.push(person);
        id
    }

    /// A session for a login (`POST /api/session`, a reset, one's own password change): the
    /// login history row, `last_login`, and the cookies.
    pub(crate) fn start_login(&mut self, user: u64, req: &Request, body: Value, remember: bool) -> Response {
        let session = self.new_session(user);
        let now = now_iso();
        self.logins.push(LoginRow {
            user,
            session: Some(session.clone()),
            timestamp: now.clone(),
            device: describe_agent(req.header("user-agent")),
            ip: client_address(req),
        });
        if let Some(p) = self.person_mut(user) {
            p.last_login = Some(now);
        }
        let body = match body {
            Value::Object(mut m) => {
                m.entry("session_id").or_insert_with(|| json!(session));
                Value::Object(m)
            }
            _ => json!({"id": session}),
        };
        session_cookies(Response::json(200, &body), &session, remember)
    }

    /// Who is calling: a live session of an active user, else a valid API key of an active
    /// key user.
    pub(crate) fn caller(&self, req: &Request) -> Option<Caller> {
        let by_session = session_named(req).and_then(|s| self.sessions.get(s).copied());
        let by_key = || {
            let key = req.header("x-api-key")?;
            if !(12..=254).contains(&key.len()) || !key.starts_with("mb_") {
                return None;
            }
            self.keys.iter().find(|k| k.key == key).map(|k| k.user)
        };
        let id = by_session.or_else(by_key)?;
        let p = self.person(id).filter(|p| p.active)?;
        Some(Caller {
            id,
            superuser: p.superuser(),
        })
    }
}

impl Instance {
    /// An empty instance emulating `config`: the seeded groups, no one in them.
    pub(crate) fn empty(config: Config) -> Instance {
        let analysts = config.since(DATA_ANALYSTS_SINCE);
        Instance {
            config,
            groups: GROUPS
                .iter()
                .map(|(id, name, magic)| GroupRec {
                    id: *id,
                    name: (*name).to_owned(),
                    magic: *magic,
                })
                .chain(analysts.then(|| GroupRec {
                    id: DATA_ANALYSTS,
                    name: "Data Analysts".to_owned(),
                    magic: Some("data-analyst"),
                }))
                .collect(),
            memberships: BTreeMap::new(),
            next_membership_id: 1,
            people: Vec::new(),
            sessions: HashMap::new(),
            keys: Vec::new(),
            next_key_id: 1,
            logins: Vec::new(),
            values: BTreeMap::new(),
            last_reset: None,
            forgot_attempts: HashMap::new(),
            reset_attempts: Vec::new(),
            login_attempts: HashMap::new(),
            random: RandomState::new(),
            counter: 0,
        }
    }

    pub(crate) fn group(&self, id: u64) -> Option<&GroupRec> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub(crate) fn group_exists(&self, id: u64) -> bool {
        self.group(id).is_some()
    }

    pub(crate) fn group_name(&self, id: u64) -> String {
        self.group(id).map_or_else(|| "?".to_owned(), |g| g.name.clone())
    }

    /// Gives every (user, group) pair a membership id (in user, then group order) and
    /// forgets the pairs that are gone.
    /// Also keeps `is_data_analyst` in step with the Data Analysts group where it exists.
    pub(crate) fn sync_memberships(&mut self) {
        if self.group_exists(DATA_ANALYSTS) && self.config.since(DATA_ANALYSTS_SINCE) {
            for p in &mut self.people {
                p.data_analyst = p.groups.contains(&DATA_ANALYSTS);
            }
        }
        let pairs: Vec<(u64, u64)> = self
            .people
            .iter()
            .flat_map(|p| p.groups.iter().map(move |g| (p.id, *g)))
            .collect();
        self.memberships.retain(|pair, _| pairs.contains(pair));
        for pair in pairs {
            if !self.memberships.contains_key(&pair) {
                let id = self.next_membership_id;
                self.next_membership_id += 1;
                self.memberships
                    .insert(pair, MembershipMeta { id, manager: false });
            }
        }
    }

    /// Whether `user` manages `group` (only ever true on Enterprise).
    pub(crate) fn manages(&self, user: u64, group: u64) -> bool {
        self.memberships.get(&(user, group)).is_some_and(|m| m.manager)
    }
}
