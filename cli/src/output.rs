//! Results on stdout (table, JSON, JSON Lines, CSV); progress on stderr.
//!
//! Machine output never mixes with messages: notes and progress go to stderr. Lists are
//! written item by item and flushed whenever the next page is not already here (and at least
//! every 256 KiB), so a slow link shows each page as it comes and `| head` stops the paging
//! (a closed pipe ends the command quietly).

use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::Value;

use crate::args::{Format, Global};
use crate::exit::{CliError, CliResult};

/// Where results go, in which format.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    format: Format,
    progress: bool,
}

impl Output {
    /// The format the flags and the terminal ask for.
    pub fn new(global: &Global) -> Output {
        let format = match (global.format, global.json) {
            (Some(f), _) => f,
            (None, true) => Format::Json,
            (None, false) if std::io::stdout().is_terminal() => Format::Table,
            (None, false) => Format::Json,
        };
        Output {
            format,
            progress: !global.no_progress && std::io::stderr().is_terminal(),
        }
    }

    /// The format for a stream (`export`): CSV if asked for, JSON Lines otherwise.
    pub fn streaming(mut self) -> Output {
        if self.format != Format::Csv {
            self.format = Format::Jsonl;
        }
        self
    }

    /// One result. The table shows `columns` (all fields when empty) as rows of two cells.
    pub fn one(&self, item: &impl Serialize, columns: &[&str]) -> CliResult {
        let value = to_value(item)?;
        match self.format {
            Format::Table => {
                let mut table = table();
                table.set_header(["field", "value"]);
                match &value {
                    Value::Object(map) => {
                        let keys: Vec<&str> = if columns.is_empty() {
                            map.keys().map(String::as_str).collect()
                        } else {
                            columns.to_vec()
                        };
                        for key in keys {
                            table.add_row([key.to_owned(), cell(map.get(key).unwrap_or(&Value::Null))]);
                        }
                    }
                    other => {
                        table.add_row(["value".to_owned(), cell(other)]);
                    }
                }
                write_out(format!("{table}\n").as_bytes())
            }
            _ => {
                let mut list = self.list(columns);
                list.push(&value)?;
                list.finish()
            }
        }
    }

    /// A list, item by item.
    pub fn list(&self, columns: &[&str]) -> ListWriter {
        ListWriter {
            format: self.format,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            table: None,
            csv_header: false,
            pending: Vec::new(),
        }
    }

    /// A progress bar on stderr (hidden unless stderr is a terminal and not `--no-progress`).
    pub fn progress(&self, what: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}: {pos} {wide_bar} {percent}% eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_owned());
        bar
    }
}

/// Writes a list in the chosen format.
#[derive(Debug)]
pub struct ListWriter {
    format: Format,
    columns: Vec<String>,
    table: Option<Table>,
    csv_header: bool,
    /// JSON Lines or CSV written since the last flush: one write per page, not per item.
    pending: Vec<u8>,
}

impl ListWriter {
    /// One item, as it serializes: JSON and JSON Lines are written straight from it, the
    /// other formats read its fields.
    pub fn push_item(&mut self, item: &impl Serialize) -> CliResult {
        match self.format {
            Format::Json | Format::Jsonl => self.push_json(item),
            _ => self.push(&to_value(item)?),
        }
    }

    /// One JSON line, written at the next flush.
    fn push_json(&mut self, item: &impl Serialize) -> CliResult {
        serde_json::to_writer(&mut self.pending, item)
            .map_err(|e| CliError::new(crate::exit::OTHER, format!("cannot write JSON: {e}")))?;
        self.pending.push(b'\n');
        Ok(())
    }

    /// Bytes pushed and not yet written.
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    /// Writes what was pushed since the last flush (so `| head` stops the paging).
    pub fn flush(&mut self) -> CliResult {
        if self.pending.is_empty() {
            return Ok(());
        }
        let out = write_out(&self.pending);
        self.pending.clear();
        out
    }

    /// One item (written at the next flush for JSON Lines and CSV).
    pub fn push(&mut self, item: &Value) -> CliResult {
        if self.columns.is_empty()
            && let Value::Object(map) = item
        {
            self.columns = map.keys().cloned().collect();
        }
        match self.format {
            Format::Json | Format::Jsonl => self.push_json(item),
            Format::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                if !self.csv_header {
                    w.write_record(&self.columns).map_err(csv_err)?;
                    self.csv_header = true;
                }
                let row: Vec<String> = self.columns.iter().map(|c| csv_cell(item.get(c))).collect();
                w.write_record(&row).map_err(csv_err)?;
                let bytes = w.into_inner().map_err(|e| csv_err(e.into_error().into()))?;
                self.pending.extend_from_slice(&bytes);
                Ok(())
            }
            Format::Table => {
                let table = self.table.get_or_insert_with(|| {
                    let mut t = table();
                    t.set_header(self.columns.clone());
                    t
                });
                table.add_row(
                    self.columns
                        .iter()
                        .map(|c| cell(item.get(c).unwrap_or(&Value::Null))),
                );
                Ok(())
            }
        }
    }

    /// The end of the list (the table is printed here; an empty CSV still has its header).
    pub fn finish(mut self) -> CliResult {
        self.flush()?;
        match self.format {
            Format::Table => match self.table.take() {
                Some(t) => write_out(format!("{t}\n").as_bytes()),
                None => {
                    eprintln!("(no results)");
                    Ok(())
                }
            },
            Format::Csv if !self.csv_header && !self.columns.is_empty() => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                w.write_record(&self.columns).map_err(csv_err)?;
                let bytes = w.into_inner().map_err(|e| csv_err(e.into_error().into()))?;
                write_out(&bytes)
            }
            _ => Ok(()),
        }
    }
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// A value as table text.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => crate::exit::one_line(s),
        other => other.to_string(),
    }
}

/// A value as a CSV field (strings as they are: the writer quotes as RFC 4180 says).
fn csv_cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn csv_err(e: csv::Error) -> CliError {
    CliError::new(crate::exit::OTHER, format!("cannot write CSV: {e}"))
}

/// A serializable result as JSON.
pub fn to_value(item: &impl Serialize) -> CliResult<Value> {
    serde_json::to_value(item)
        .map_err(|e| CliError::new(crate::exit::OTHER, format!("cannot show the result: {e}")))
}

/// Asks the kernel for a larger pipe when stdout is one (Linux; 1 MiB, or less if the
/// system's limit is lower; failure changes nothing). A page of users is larger than a
/// default pipe's 64 KiB, so without it every page's write waits for the reader several times
/// over, and an export spends its time switching between the two processes.
pub fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    {
        const WANTED: libc::c_int = 1 << 20;
        // SAFETY: fstat on descriptor 1 only writes into the zeroed struct it is given.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above; a closed descriptor 1 makes fstat fail, which is checked.
        if unsafe { libc::fstat(1, &mut stat) } != 0 || stat.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return;
        }
        // SAFETY: F_SETPIPE_SZ takes an int and changes only the pipe's capacity; an error
        // (a capacity above /proc/sys/fs/pipe-max-size, or the user's pipe quota) is ignored.
        let widened = unsafe { libc::fcntl(1, libc::F_SETPIPE_SZ, WANTED) };
        if widened < 0 {
            let max = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
                .ok()
                .and_then(|s| s.trim().parse::<libc::c_int>().ok())
                .filter(|&m| m > 0 && m < WANTED);
            if let Some(max) = max {
                // SAFETY: as above.
                unsafe { libc::fcntl(1, libc::F_SETPIPE_SZ, max) };
            }
        }
    }
}

/// Writes to stdout and flushes. A closed pipe exits quietly with success.
fn write_out(bytes: &[u8]) -> CliResult {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}

/// A note for the user, on stderr.
pub fn note(msg: &str) {
    eprintln!("{msg}");
}
