//! Secrets read from stdin (`--password-stdin`): the first line of a pipe, or, on a
//! terminal, a line typed after a prompt with echo off.

use std::io::{BufRead, IsTerminal};

use crate::exit::CliResult;

/// Reads one line from stdin, without its line end. On a terminal, `prompt` is shown on
/// stderr and echo is off while the line is typed (a newline is still shown when Enter is
/// pressed); the terminal's modes come back on every way out: the line read, end of input,
/// an error, a panic, and an interrupt, hang-up, quit or termination signal (whose default
/// action then runs, as without a prompt).
///
/// # Errors
/// stdin cannot be read; on a terminal whose echo cannot be turned off, exit code 2 (the
/// secret is not read with echo on).
pub fn read_line(prompt: &str) -> CliResult<String> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        let _hidden = hidden::Hidden::new()?;
        eprint!("{prompt}");
        stdin.lock().read_line(&mut line)?;
    } else {
        stdin.lock().read_line(&mut line)?;
    }
    let len = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(len);
    Ok(line)
}

#[cfg(unix)]
mod hidden {
    //! Echo off on the terminal stdin is, for as long as a [`Hidden`] lives.

    use std::mem::MaybeUninit;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::exit::{CliError, CliResult};

    /// The terminal's descriptor (stdin).
    const FD: libc::c_int = 0;

    /// The signals whose default action ends the process: their handler puts the terminal's
    /// modes back first.
    const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

    /// The terminal's modes before echo was turned off (read by the signal handler).
    static SAVED: OnceLock<libc::termios> = OnceLock::new();
    /// Whether echo is off now (the handler then restores [`SAVED`]).
    static HIDDEN: AtomicBool = AtomicBool::new(false);

    /// Restores the modes, then lets the signal do what it does by default. Calls only
    /// async-signal-safe functions (`tcsetattr`, `signal`, `raise`) and atomics.
    extern "C" fn on_signal(signal: libc::c_int) {
        if HIDDEN.swap(false, Ordering::SeqCst)
            && let Some(modes) = SAVED.get()
        {
            // SAFETY: `modes` is a valid termios for the whole program.
            unsafe { libc::tcsetattr(FD, libc::TCSANOW, modes) };
        }
        // SAFETY: the default action, raised again: delivered once this handler returns (the
        // signal is blocked while it runs).
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }

    /// Echo off until dropped.
    pub struct Hidden {
        /// The signal actions in force before, put back on drop.
        previous: Vec<(libc::c_int, libc::sigaction)>,
    }

    fn refuse(why: std::io::Error) -> CliError {
        CliError::usage(format!(
            "cannot turn off echo on this terminal to read a secret: {why}"
        ))
        .hint("pipe the secret in instead, e.g. printf '%s\\n' \"$SECRET\" | userapi …")
    }

    impl Hidden {
        /// Turns echo off on stdin (a terminal).
        ///
        /// # Errors
        /// The terminal's modes cannot be read or set: exit code 2.
        pub fn new() -> CliResult<Hidden> {
            let mut modes = MaybeUninit::<libc::termios>::uninit();
            // SAFETY: tcgetattr fills `modes` when it returns 0.
            if unsafe { libc::tcgetattr(FD, modes.as_mut_ptr()) } != 0 {
                return Err(refuse(std::io::Error::last_os_error()));
            }
            // SAFETY: filled above.
            let modes = unsafe { modes.assume_init() };
            // Only one secret is read per run; a second keeps the first modes, which are the
            // same (each Hidden puts them back).
            let saved = *SAVED.get_or_init(|| modes);
            let mut hidden = Hidden { previous: Vec::new() };
            for signal in SIGNALS {
                // SAFETY: a zeroed sigaction is valid (no flags, empty mask); `on_signal` is
                // async-signal-safe; the old action is written into `old`.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                    libc::sigemptyset(&mut action.sa_mask);
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, &action, &mut old) == 0 {
                        hidden.previous.push((signal, old));
                    }
                }
            }
            HIDDEN.store(true, Ordering::SeqCst);
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            // SAFETY: a valid termios, on stdin.
            if unsafe { libc::tcsetattr(FD, libc::TCSANOW, &quiet) } != 0 {
                let e = std::io::Error::last_os_error();
                drop(hidden);
                return Err(refuse(e));
            }
            Ok(hidden)
        }
    }

    impl Drop for Hidden {
        fn drop(&mut self) {
            if let Some(modes) = SAVED.get() {
                // SAFETY: a valid termios, on stdin.
                unsafe { libc::tcsetattr(FD, libc::TCSANOW, modes) };
            }
            HIDDEN.store(false, Ordering::SeqCst);
            for (signal, old) in self.previous.drain(..) {
                // SAFETY: an action sigaction itself returned.
                unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
            }
        }
    }
}

#[cfg(not(unix))]
mod hidden {
    //! No way to turn echo off here: a secret is not read from a terminal.

    use crate::exit::{CliError, CliResult};

    pub struct Hidden;

    impl Hidden {
        pub fn new() -> CliResult<Hidden> {
            Err(CliError::usage("cannot hide a secret typed on this terminal")
                .hint("pipe the secret in instead, e.g. echo %SECRET% | userapi …"))
        }
    }
}
