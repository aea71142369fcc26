//! The command line: `userapi [GLOBAL FLAGS] <service> <command> [ARGS]`. Global flags are
//! `global = true`, so they are accepted anywhere on the line.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, shown at the end of `--help` (and in the README).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  anything else
  2  usage error, bad input, missing credential, or a write not confirmed
  3  authentication refused (401/403)
  4  not found
  5  refused by the server for another 4xx (validation, conflict)
  6  server error (5xx)
  7  network error or timeout

Credentials come from the same environment variables as the SDK's examples
(METABASE_URL, METABASE_API_KEY, MB_URL, MB_API_KEY, DIADOC_CLIENT_ID, RIGHTECH_TOKEN, ...)
or from a profile in $XDG_CONFIG_HOME/userapi/config.toml.";

/// `userapi`: user administration for Metabase, Kontur Diadoc, Rightech IoT Cloud,
/// NovaConnect and the rounds app.
#[derive(Debug, Parser)]
#[command(
    name = "userapi",
    version,
    about = "User administration for Metabase, Kontur Diadoc, Rightech IoT Cloud, NovaConnect and the rounds app",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// Flags accepted anywhere on the line.
    #[command(flatten)]
    pub global: Global,
    /// The service (or `completions`).
    #[command(subcommand)]
    pub command: Command,
}

/// The global flags.
#[derive(Debug, Clone, Default, Args)]
pub struct Global {
    /// Use this profile of $XDG_CONFIG_HOME/userapi/config.toml.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Machine output: one JSON object per result, lists as JSON Lines.
    #[arg(long, global = true)]
    pub json: bool,
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Do not ask before a write.
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Print the requests a write would send (secrets redacted) and send none.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Method, route, status, attempts and latency of each call on stderr; the whole error chain.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// No progress bar.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table.
    Table,
    /// One JSON object per result (lists as JSON Lines).
    Json,
    /// JSON Lines.
    Jsonl,
    /// CSV with a header row (RFC 4180).
    Csv,
}

/// The services, and `completions`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Metabase: users, groups, API keys.
    #[command(after_help = "Example:\n  userapi metabase users list --status all --json")]
    Metabase {
        #[command(subcommand)]
        command: MetabaseCommand,
    },
    /// Kontur Diadoc: the current user and the employees of a box.
    #[command(after_help = "Example:\n  userapi diadoc employees list BOX_ID")]
    Diadoc {
        #[command(subcommand)]
        command: DiadocCommand,
    },
    /// The rounds app: the current user and users by id.
    #[command(after_help = "Example:\n  userapi rounds users get 42")]
    Rounds {
        #[command(subcommand)]
        command: RoundsCommand,
    },
    /// NovaConnect: the current user.
    #[command(after_help = "Example:\n  userapi novaconnect me")]
    Novaconnect {
        #[command(subcommand)]
        command: NovaConnectCommand,
    },
    /// Rightech IoT Cloud: users, roles, tokens.
    #[command(after_help = "Example:\n  userapi rightech roles list")]
    Rightech {
        #[command(subcommand)]
        command: RightechCommand,
    },
    /// Shell completions, printed on stdout.
    #[command(
        after_help = "Example:\n  userapi completions bash > ~/.local/share/bash-completion/completions/userapi"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// PowerShell.
    Powershell,
}

/// `users list` filters.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    /// Active users.
    Active,
    /// Deactivated users.
    Deactivated,
    /// Both.
    All,
}

/// `users list`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  userapi metabase users list --status all --all --format csv")]
pub struct ListArgs {
    /// Which users.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Text to search for.
    #[arg(long)]
    pub query: Option<String>,
    /// At most this many users (the page size with --all).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Every user, page by page.
    #[arg(long)]
    pub all: bool,
}

/// `users export`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  userapi metabase users export --status all --format csv > users.csv")]
pub struct ExportArgs {
    /// Which users.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Users per page.
    #[arg(long, value_name = "N")]
    pub page_size: Option<u64>,
}

/// `request METHOD PATH`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  userapi metabase request GET /api/user/current\n  userapi metabase request PUT /api/user/2 --data '{\"first_name\":\"Ra\"}' --yes"
)]
pub struct RequestArgs {
    /// GET, POST, PUT, PATCH, DELETE...
    pub method: String,
    /// The path under the service's base URL, e.g. /api/user/current.
    pub path: String,
    /// A JSON body.
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
    /// A query parameter (repeatable).
    #[arg(long = "query", value_name = "K=V")]
    pub query: Vec<String>,
}

/// `userapi metabase …`.
#[derive(Debug, Subcommand)]
pub enum MetabaseCommand {
    /// The current user.
    #[command(after_help = "Example:\n  userapi metabase me")]
    Me,
    /// Users.
    Users {
        #[command(subcommand)]
        command: MetabaseUsers,
    },
    /// Permission groups.
    Groups {
        #[command(subcommand)]
        command: MetabaseGroups,
    },
    /// API keys.
    ApiKeys {
        #[command(subcommand)]
        command: MetabaseApiKeys,
    },
    /// Log in with METABASE_USERNAME and METABASE_PASSWORD and keep the session (mode 0600).
    #[command(
        after_help = "Example:\n  METABASE_USERNAME=me@example.com METABASE_PASSWORD=... userapi metabase login"
    )]
    Login,
    /// Any endpoint, through the same pipeline (credentials, retries, error mapping).
    Request(RequestArgs),
}

/// `userapi metabase users …`.
#[derive(Debug, Subcommand)]
pub enum MetabaseUsers {
    /// List users.
    List(ListArgs),
    /// One user, by id or email.
    #[command(after_help = "Example:\n  userapi metabase users get rasta@example.com")]
    Get {
        /// A user id or an email.
        id: String,
    },
    /// Create (invite) a user.
    #[command(
        after_help = "Example:\n  userapi metabase users create --email ada@example.com --first-name Ada --yes"
    )]
    Create {
        /// The email.
        #[arg(long)]
        email: String,
        /// First name.
        #[arg(long)]
        first_name: Option<String>,
        /// Last name.
        #[arg(long)]
        last_name: Option<String>,
        /// A group to add the user to (repeatable).
        #[arg(long = "group", value_name = "ID")]
        groups: Vec<u64>,
    },
    /// Update a user.
    #[command(after_help = "Example:\n  userapi metabase users update 2 --first-name Rasta --yes")]
    Update {
        /// A user id or an email.
        id: String,
        /// First name.
        #[arg(long)]
        first_name: Option<String>,
        /// Last name.
        #[arg(long)]
        last_name: Option<String>,
        /// Email.
        #[arg(long)]
        email: Option<String>,
        /// Locale (e.g. en).
        #[arg(long)]
        locale: Option<String>,
    },
    /// Deactivate a user.
    #[command(after_help = "Example:\n  userapi metabase users deactivate 2 --yes")]
    Deactivate {
        /// A user id or an email.
        id: String,
    },
    /// Reactivate a user.
    #[command(after_help = "Example:\n  userapi metabase users reactivate 2 --yes")]
    Reactivate {
        /// A user id or an email.
        id: String,
    },
    /// Every user, streamed page by page (JSON Lines, or CSV with --format csv).
    Export(ExportArgs),
    /// Remove from every group but All Users, deactivate, list (and with --revoke-keys
    /// delete) the API keys this person last created or regenerated.
    #[command(
        after_help = "Example:\n  userapi metabase users offboard rasta@example.com --revoke-keys --dry-run"
    )]
    Offboard {
        /// The person's email.
        email: String,
        /// Delete their API keys too.
        #[arg(long)]
        revoke_keys: bool,
    },
}

/// `userapi metabase groups …`.
#[derive(Debug, Subcommand)]
pub enum MetabaseGroups {
    /// List groups.
    #[command(after_help = "Example:\n  userapi metabase groups list")]
    List,
    /// One group with its members.
    #[command(after_help = "Example:\n  userapi metabase groups show 3")]
    Show {
        /// The group id.
        id: String,
    },
    /// Add a user to a group.
    #[command(after_help = "Example:\n  userapi metabase groups add-member 3 rasta@example.com --yes")]
    AddMember {
        /// The group id.
        group: String,
        /// A user id or an email.
        user: String,
    },
    /// Remove a user from a group.
    #[command(after_help = "Example:\n  userapi metabase groups remove-member 3 2 --yes")]
    RemoveMember {
        /// The group id.
        group: String,
        /// A user id or an email.
        user: String,
    },
}

/// `userapi metabase api-keys …`.
#[derive(Debug, Subcommand)]
pub enum MetabaseApiKeys {
    /// List API keys (masked).
    #[command(after_help = "Example:\n  userapi metabase api-keys list")]
    List,
    /// Create an API key (printed only with --show-secret).
    #[command(
        after_help = "Example:\n  userapi metabase api-keys create ci-key --group 1 --yes --show-secret"
    )]
    Create {
        /// The key's name.
        name: String,
        /// The group the key acts as.
        #[arg(long, value_name = "ID")]
        group: String,
        /// Print the new key on stdout: the one exception to "no secret is ever printed".
        /// Metabase shows a new key only once; without this flag it is redacted, on stdout
        /// and stderr alike.
        #[arg(long)]
        show_secret: bool,
    },
    /// Regenerate an API key (the new one printed only with --show-secret).
    #[command(after_help = "Example:\n  userapi metabase api-keys regenerate 1 --yes --show-secret")]
    Regenerate {
        /// The key id.
        id: String,
        /// Print the new key on stdout: the one exception to "no secret is ever printed".
        /// Metabase shows a new key only once; without this flag it is redacted, on stdout
        /// and stderr alike.
        #[arg(long)]
        show_secret: bool,
    },
    /// Delete an API key.
    #[command(after_help = "Example:\n  userapi metabase api-keys delete 1 --yes")]
    Delete {
        /// The key id.
        id: String,
    },
}

/// `userapi diadoc …`.
#[derive(Debug, Subcommand)]
pub enum DiadocCommand {
    /// The current user.
    #[command(after_help = "Example:\n  userapi diadoc me")]
    Me,
    /// Employees of a box.
    Employees {
        #[command(subcommand)]
        command: DiadocEmployees,
    },
    /// Log in with DIADOC_LOGIN and DIADOC_PASSWORD and keep the token (mode 0600).
    #[command(after_help = "Example:\n  userapi diadoc login")]
    Login,
    /// Any endpoint, through the same pipeline.
    Request(RequestArgs),
}

/// `userapi diadoc employees …`.
#[derive(Debug, Subcommand)]
pub enum DiadocEmployees {
    /// The employees of a box.
    #[command(after_help = "Example:\n  userapi diadoc employees list BOX_ID --all")]
    List {
        /// The box id.
        r#box: String,
        /// Every page.
        #[arg(long)]
        all: bool,
        /// Employees per page.
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// One employee.
    #[command(after_help = "Example:\n  userapi diadoc employees get BOX_ID USER_ID")]
    Get {
        /// The box id.
        r#box: String,
        /// The user id.
        user: String,
    },
    /// Add an employee by login (email).
    #[command(
        after_help = "Example:\n  userapi diadoc employees create BOX_ID --login ada@example.com --yes"
    )]
    Create {
        /// The box id.
        r#box: String,
        /// The person's login (email).
        #[arg(long)]
        login: String,
        /// The department id (default: the head department).
        #[arg(long)]
        department: Option<String>,
        /// Position.
        #[arg(long)]
        position: Option<String>,
        /// Make an administrator of the box.
        #[arg(long)]
        administrator: bool,
    },
    /// Update an employee.
    #[command(
        after_help = "Example:\n  userapi diadoc employees update BOX_ID USER_ID --position Accountant --yes"
    )]
    Update {
        /// The box id.
        r#box: String,
        /// The user id.
        user: String,
        /// Position.
        #[arg(long)]
        position: Option<String>,
        /// The department id.
        #[arg(long)]
        department: Option<String>,
        /// Administrator of the box or not.
        #[arg(long)]
        administrator: Option<bool>,
    },
    /// Remove an employee from the box.
    #[command(after_help = "Example:\n  userapi diadoc employees delete BOX_ID USER_ID --yes")]
    Delete {
        /// The box id.
        r#box: String,
        /// The user id.
        user: String,
    },
}

/// `userapi rounds …`.
#[derive(Debug, Subcommand)]
pub enum RoundsCommand {
    /// The current user.
    #[command(after_help = "Example:\n  userapi rounds me")]
    Me,
    /// Users.
    Users {
        #[command(subcommand)]
        command: RoundsUsers,
    },
    /// Any endpoint, through the same pipeline.
    Request(RequestArgs),
}

/// `userapi rounds users …`.
#[derive(Debug, Subcommand)]
pub enum RoundsUsers {
    /// One user by id.
    #[command(after_help = "Example:\n  userapi rounds users get 42")]
    Get {
        /// The user id.
        id: String,
    },
}

/// `userapi novaconnect …`.
#[derive(Debug, Subcommand)]
pub enum NovaConnectCommand {
    /// The current user.
    #[command(after_help = "Example:\n  userapi novaconnect me")]
    Me,
    /// Any endpoint, through the same pipeline.
    Request(RequestArgs),
}

/// `userapi rightech …`.
#[derive(Debug, Subcommand)]
pub enum RightechCommand {
    /// Users.
    Users {
        #[command(subcommand)]
        command: RightechUsers,
    },
    /// Roles.
    Roles {
        #[command(subcommand)]
        command: RightechRoles,
    },
    /// Tokens.
    Tokens {
        #[command(subcommand)]
        command: RightechTokens,
    },
    /// Any endpoint, through the same pipeline.
    Request(RequestArgs),
}

/// `userapi rightech users …`.
#[derive(Debug, Subcommand)]
pub enum RightechUsers {
    /// List users.
    #[command(after_help = "Example:\n  userapi rightech users list --query ada --json")]
    List {
        /// Text to search for.
        #[arg(long)]
        query: Option<String>,
        /// At most this many users (the page size with --all).
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        /// Every user, page by page.
        #[arg(long)]
        all: bool,
    },
    /// One user by id.
    #[command(after_help = "Example:\n  userapi rightech users get 5d8a18d5d0025e0012fb6a34")]
    Get {
        /// The user id.
        id: String,
    },
    /// Create a user; the password is read from the first line of stdin.
    #[command(
        after_help = "Example:\n  printf '%s\\n' \"$PW\" | userapi rightech users create --email a@example.com --login ada --name Ada --role ROLE_ID --password-stdin --yes"
    )]
    Create {
        /// Email.
        #[arg(long)]
        email: String,
        /// Login.
        #[arg(long)]
        login: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Role id.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of stdin.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Update a user.
    #[command(after_help = "Example:\n  userapi rightech users update USER_ID --name 'Ada L' --yes")]
    Update {
        /// The user id.
        id: String,
        /// Name.
        #[arg(long)]
        name: Option<String>,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Role id.
        #[arg(long)]
        role: Option<String>,
        /// Disable or enable.
        #[arg(long)]
        disabled: Option<bool>,
    },
    /// Delete a user.
    #[command(after_help = "Example:\n  userapi rightech users delete USER_ID --yes")]
    Delete {
        /// The user id.
        id: String,
    },
    /// Every user, streamed page by page (JSON Lines, or CSV with --format csv).
    Export(ExportArgs),
}

/// `userapi rightech roles …`.
#[derive(Debug, Subcommand)]
pub enum RightechRoles {
    /// List roles.
    #[command(after_help = "Example:\n  userapi rightech roles list")]
    List,
}

/// `userapi rightech tokens …`.
#[derive(Debug, Subcommand)]
pub enum RightechTokens {
    /// Issue a token for a user (not installed anywhere; printed only with --show-secret).
    #[command(after_help = "Example:\n  userapi rightech tokens create USER_ID --yes --show-secret")]
    Create {
        /// The user id.
        user: String,
        /// Print the issued token on stdout: the one exception to "no secret is ever
        /// printed". Without this flag it is redacted, on stdout and stderr alike.
        #[arg(long)]
        show_secret: bool,
    },
}
