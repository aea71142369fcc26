//! The commands of each service, and what they share: the context (flags, output, safety,
//! profile), the client settings, `request METHOD PATH`, and where kept sessions live.

pub mod diadoc;
pub mod metabase;
pub mod novaconnect;
pub mod rightech;
pub mod rounds;

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;
use serde_json::Value;
use userapi::observe::{CallRecord, Observer};
use userapi::{ClientBuilder, Method};

use crate::args::{Cli, Command, RequestArgs, Shell};
use crate::config::Settings;
use crate::confirm::{Go, Plan, Safety};
use crate::exit::{CliError, CliResult};
use crate::output::Output;
use crate::session::Kept;

/// What every command gets.
pub struct Ctx {
    /// Results on stdout.
    pub out: Output,
    /// Writes: `--yes`, `--dry-run`.
    pub safety: Safety,
    /// `--verbose`.
    pub verbose: bool,
    /// The profile and config values.
    pub settings: Settings,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> CliResult {
    if let Command::Completions { shell } = cli.command {
        return completions(shell);
    }
    let settings = Settings::load(cli.global.profile.as_deref())?;
    let ctx = Ctx {
        out: Output::new(&cli.global),
        safety: Safety {
            yes: cli.global.yes,
            dry_run: cli.global.dry_run,
        },
        verbose: cli.global.verbose,
        settings,
    };
    match cli.command {
        Command::Metabase { command } => metabase::run(&ctx, command).await,
        Command::Diadoc { command } => diadoc::run(&ctx, command).await,
        Command::Rounds { command } => rounds::run(&ctx, command).await,
        Command::Novaconnect { command } => novaconnect::run(&ctx, command).await,
        Command::Rightech { command } => rightech::run(&ctx, command).await,
        Command::Completions { .. } => Ok(()),
    }
}

fn completions(shell: Shell) -> CliResult {
    use clap_complete::{Shell as S, generate};
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    generate(shell, &mut cmd, "userapi", &mut out);
    out.flush()?;
    Ok(())
}

/// `--verbose`: one line per call on stderr (method, route template, status, attempts,
/// latency). Route templates hold no ids and no secrets.
struct Verbose;

impl Observer for Verbose {
    fn on_call(&self, call: &CallRecord<'_>) {
        let status = call
            .status
            .map_or_else(|| "no answer".to_owned(), |s| s.as_u16().to_string());
        let error = call.error.map(|e| format!(" [{e}]")).unwrap_or_default();
        eprintln!(
            "{} {} -> {status}{error} ({} attempt{}, {} ms)",
            call.method,
            call.route,
            call.attempts,
            if call.attempts == 1 { "" } else { "s" },
            call.latency.as_millis()
        );
    }
}

impl Ctx {
    /// A client builder with the CLI's settings (user agent, `--verbose`).
    pub fn builder(&self, base_url: &str) -> ClientBuilder {
        let mut b = userapi::Client::builder()
            .base_url(base_url)
            .user_agent(concat!("userapi-cli/", env!("CARGO_PKG_VERSION")));
        if self.verbose {
            b = b.observer(Verbose);
        }
        b
    }

    /// The file a service's kept session lives in, for the current profile.
    pub fn session_file(&self, service: &str) -> CliResult<PathBuf> {
        let name: String = self
            .settings
            .profile
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Ok(crate::config::cache_dir()?.join(format!("{name}.{service}.session")))
    }

    /// The kept session of `service` for commands sent to `base_url` (whose variable is
    /// `url_var`).
    ///
    /// # Errors
    /// No cache directory, or a base URL that does not parse: exit code 2.
    pub fn kept(&self, service: &'static str, base_url: &str, url_var: &str) -> CliResult<Kept> {
        Kept::new(self.session_file(service)?, service, base_url, url_var)
    }
}

/// `request METHOD PATH [--data JSON] [--query K=V]...` on `client`.
pub async fn request(
    ctx: &Ctx,
    client: &userapi::Client,
    args: RequestArgs,
    on_err: impl Fn(userapi::Error) -> CliError,
) -> CliResult {
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::usage(format!("{:?} is not an HTTP method", args.method)))?;
    let body: Option<Value> = match &args.data {
        Some(text) => Some(
            serde_json::from_str(text).map_err(|e| CliError::usage(format!("--data is not JSON: {e}")))?,
        ),
        None => None,
    };
    let mut query = Vec::new();
    for pair in &args.query {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(CliError::usage(format!("--query {pair:?} is not K=V")));
        };
        query.push((k.to_owned(), v.to_owned()));
    }
    let segments: Vec<&str> = args.path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(CliError::usage("the path may not hold . or .. segments"));
    }
    let read = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !read || ctx.safety.dry_run {
        let mut path = format!("/{}", segments.join("/"));
        if !query.is_empty() {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            path = format!("{path}?{}", q.join("&"));
        }
        let method_name: &'static str = match method.as_str() {
            "GET" => "GET",
            "HEAD" => "HEAD",
            "OPTIONS" => "OPTIONS",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            _ => "REQUEST",
        };
        let mut plan = Plan::new(method_name, path);
        plan.body = body.clone();
        if ctx.safety.check(
            &format!("send {method} {}", crate::confirm::redact_query(&args.path)),
            &[plan],
        )? == Go::DryRun
        {
            return Ok(());
        }
    }
    let mut req = client.request(method, &segments);
    for (k, v) in &query {
        req = req.query(k, v);
    }
    if let Some(body) = &body {
        req = req.json(body);
    }
    if read {
        req = req.idempotent();
    }
    let bytes = req.send_bytes().await.map_err(on_err)?;
    if bytes.is_empty() {
        crate::output::note("(empty response)");
        return Ok(());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(items)) => {
            let mut list = ctx.out.list(&[]);
            for item in &items {
                list.push(item)?;
            }
            list.finish()
        }
        Ok(v) => ctx.out.one(&v, &[]),
        Err(_) => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Output waiting to be written while the next page is already here: on a fast link a
/// write per page woke the reader once a page.
const FLUSH_BYTES: usize = 256 * 1024;

/// Writes every item of `pager` as pages arrive, with a progress bar on stderr that knows the
/// total once the first page told it. What is written is flushed whenever the next page is
/// not already here (so a slow link shows each page as it comes, and `| head` stops the
/// paging), and at least every `FLUSH_BYTES`.
pub async fn stream<T: serde::Serialize + Send + 'static>(
    out: Output,
    columns: &[&str],
    what: &str,
    mut pager: userapi::Pager<T>,
    on_err: impl Fn(userapi::Error) -> CliError,
) -> CliResult {
    let mut list = out.list(columns);
    let bar = out.progress(what);
    crate::output::widen_stdout_pipe();
    let mut next = pager.next_page().await;
    while let Some(page) = next {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                bar.abandon();
                // What came before the failing page is written first: nothing read is lost.
                list.flush()?;
                return Err(on_err(e));
            }
        };
        if let Some(total) = pager.total() {
            bar.set_length(total);
        }
        for item in &page {
            list.push_item(item)?;
        }
        bar.inc(page.len() as u64);
        next = match already_here(&mut pager) {
            Some(page) => {
                if list.pending_bytes() >= FLUSH_BYTES {
                    list.flush()?;
                }
                page
            }
            None => {
                list.flush()?;
                pager.next_page().await
            }
        };
    }
    bar.finish_and_clear();
    list.finish()
}

/// The next page if it can be had without waiting (`None` if it cannot).
fn already_here<T: Send + 'static>(pager: &mut userapi::Pager<T>) -> Option<Option<userapi::Result<Vec<T>>>> {
    let mut next = std::pin::pin!(pager.next_page());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::future::Future::poll(next.as_mut(), &mut cx) {
        std::task::Poll::Ready(page) => Some(page),
        std::task::Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::already_here;
    use std::time::Duration;
    use userapi::metabase::ListUsers;
    use userapi_fake::metabase::FakeMetabase;

    // A page that has arrived is taken without waiting (and written with the ones before
    // it); one still on its way is not waited for (what came before is written first).
    #[tokio::test]
    async fn a_page_already_here_is_taken_one_on_its_way_is_not_waited_for() {
        let fake = FakeMetabase::start().await.unwrap();
        let api = fake.api().unwrap();
        // The first page and the second (the first of the read-ahead) are slow.
        fake.delay_next(2, Duration::from_millis(300));
        let mut pager = api.users(ListUsers::new().limit(1));
        let first = pager.next_page().await.unwrap().unwrap();
        assert_eq!(first.len(), 1);
        assert!(already_here(&mut pager).is_none());
        tokio::time::sleep(Duration::from_millis(600)).await;
        let second = already_here(&mut pager).expect("the second page has arrived");
        assert_eq!(second.unwrap().unwrap().len(), 1);
    }
}
