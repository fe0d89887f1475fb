//! What an error hystrix makes knows about where it came from: the
//! command's name, the setting that decided it and that setting's value,
//! read when the error was made. The message is only built when the error
//! is displayed, so making the error stays cheap on the refusal paths.

use crate::error::ErrorKind;
use std::fmt;
use std::sync::Arc;

/// The command and setting behind an error hystrix made (a timeout, a
/// refusal, a fallback that was refused or failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    kind: ErrorKind,
    command: Arc<str>,
    setting: &'static str,
    value: u64,
}

impl Context {
    /// A context for an error of `kind` from the command called `command`,
    /// decided by `setting` (a SPEC key, `"limit"` for the adaptive limit,
    /// or `""` when no setting is involved) whose value was `value`.
    pub fn new(kind: ErrorKind, command: Arc<str>, setting: &'static str, value: u64) -> Context {
        Context { kind, command, setting, value }
    }

    /// The kind of the error this context describes.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The name of the command (empty for an anonymous command).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The setting involved (`""` when none is).
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// The setting's value when the error was made (`1` for a boolean
    /// setting that was on).
    pub fn value(&self) -> u64 {
        self.value
    }
}

/// `command 'NAME'`, or `an anonymous command`.
pub(crate) struct CommandName<'a>(pub(crate) &'a str);

impl fmt::Display for CommandName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("an anonymous command")
        } else {
            write!(f, "command '{}'", self.0)
        }
    }
}

/// The message head every binding words alike (semantics §3, "Error
/// messages"): `command 'payments' timed out after 250 ms (timeout_ms)`.
impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = CommandName(&self.command);
        let (setting, value) = (self.setting, self.value);
        match self.kind {
            ErrorKind::Timeout => write!(f, "{who} timed out after {value} ms ({setting})"),
            ErrorKind::ShortCircuited if setting == "force_open" => write!(f, "{who}: circuit open (force_open)"),
            ErrorKind::ShortCircuited => write!(f, "{who}: circuit open ({setting} {value})"),
            ErrorKind::Rejected => write!(f, "{who} rejected: bulkhead full ({setting} {value})"),
            ErrorKind::RateLimited => write!(f, "{who} rate limited ({setting} {value})"),
            ErrorKind::FallbackRejected => write!(f, "{who}: fallback rejected ({setting} {value})"),
            ErrorKind::Cancelled => write!(f, "{who}: cancelled by the caller"),
            other if setting.is_empty() => write!(f, "{who}: {}", other.description()),
            other => write!(f, "{who}: {} ({setting} {value})", other.description()),
        }
    }
}
