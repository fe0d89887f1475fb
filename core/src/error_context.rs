//! What an error hystrix makes knows about where it came from: the
//! command's name, the setting that decided it and that setting's value,
//! read when the error was made. The message is only built when the error
//! is displayed, so making the error stays cheap on the refusal paths.

use crate::error::ErrorKind;
use std::fmt;
use std::sync::Arc;

/// The command and setting behind an error hystrix made (a timeout, a
/// refusal, a fallback that was refused or failed).
#[derive(Clone, PartialEq, Eq)]
pub struct Context {
    command: ContextName,
    value: u64,
    kind: ErrorKind,
    /// The setting's place in [`CONTEXT_SETTINGS`] (a byte, not a `&str`:
    /// the context, and every error holding one, stays 16 bytes smaller).
    setting: u8,
}

/// Defines [`CONTEXT_SETTINGS`] and [`CONTEXT_SETTINGS_JOINED`] from one
/// list of names.
macro_rules! context_settings {
    ($($name:literal),+) => {
        /// The settings an error's context can name, in the order of
        /// [`Context::setting_index`]; index 0 is none (`""`).
        pub const CONTEXT_SETTINGS: &[&str] = &["", $($name),+];
        /// [`CONTEXT_SETTINGS`] joined by commas (index 0, none, is the
        /// empty name before the first comma): for a host that takes the
        /// list as one string, made when this is compiled.
        pub const CONTEXT_SETTINGS_JOINED: &str = concat!($(",", $name),+);
    };
}
context_settings!(
    "timeout_ms",
    "deadline_ms",
    "sleep_window_ms",
    "force_open",
    "max_concurrent_requests",
    "limit",
    "rate_limit_for_period",
    "fallback_max_concurrent_requests"
);

/// A setting's place in [`CONTEXT_SETTINGS`], if it is there.
const fn find_setting(name: &str) -> Option<u8> {
    let mut i = 0;
    while i < CONTEXT_SETTINGS.len() {
        if str_eq(CONTEXT_SETTINGS[i], name) {
            return Some(i as u8);
        }
        i += 1;
    }
    None
}

/// A setting's place in [`CONTEXT_SETTINGS`], found when the program is
/// compiled (an unknown name does not compile).
pub(crate) const fn setting_index(name: &str) -> u8 {
    match find_setting(name) {
        Some(i) => i,
        None => panic!("not a setting an error's context names"),
    }
}

/// `a == b`, usable in a `const fn`.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Bytes of a command's name a context holds inline.
const INLINE_NAME: usize = 22;

/// A command's name in a context: a short one (most are) copied inline, so
/// that making and dropping the error touches no count shared by every
/// thread — refusals of one command on many threads at once, as in an
/// outage, would all contend on it —; a longer one shared. A command makes
/// its own once, and each context copies it.
#[derive(Clone)]
pub(crate) struct ContextName(Name);

#[derive(Clone)]
enum Name {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Shared(Arc<str>),
}

impl ContextName {
    /// `name` as contexts hold it.
    pub(crate) fn of(name: &Arc<str>) -> ContextName {
        let len = name.len();
        if len > INLINE_NAME {
            return ContextName(Name::Shared(name.clone()));
        }
        let mut bytes = [0; INLINE_NAME];
        bytes[..len].copy_from_slice(name.as_bytes());
        ContextName(Name::Inline { len: len as u8, bytes })
    }

    fn as_str(&self) -> &str {
        match &self.0 {
            // The bytes of a `str` cut at its own length: always UTF-8.
            Name::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            Name::Shared(name) => name,
        }
    }
}

impl PartialEq for ContextName {
    fn eq(&self, other: &ContextName) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ContextName {}

impl fmt::Debug for ContextName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Shows the setting by name (`setting: "timeout_ms"`), as it reads.
impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("kind", &self.kind)
            .field("command", &self.command)
            .field("setting", &self.setting())
            .field("value", &self.value)
            .finish()
    }
}

impl Context {
    /// A context for an error of `kind` from the command called `command`,
    /// decided by `setting` (one of [`CONTEXT_SETTINGS`]: a SPEC key,
    /// `"limit"` for the adaptive limit, or `""` when no setting is
    /// involved) whose value was `value`.
    ///
    /// # Panics
    /// If `setting` is not one of [`CONTEXT_SETTINGS`].
    pub fn new(kind: ErrorKind, command: Arc<str>, setting: &str, value: u64) -> Context {
        let Some(at) = find_setting(setting) else {
            panic!("Context::new: {setting:?} is not a setting an error names (one of {CONTEXT_SETTINGS:?})")
        };
        Context { kind, command: ContextName::of(&command), setting: at, value }
    }

    /// [`Context::new`] with the name as the command keeps it for contexts
    /// (a short one is copied, the command's shared name not counted) and
    /// the setting by its index ([`setting_index`]).
    #[inline]
    pub(crate) fn of(kind: ErrorKind, command: &ContextName, setting: u8, value: u64) -> Context {
        Context { kind, command: command.clone(), setting, value }
    }

    /// The kind of the error this context describes.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The name of the command (empty for an anonymous command).
    pub fn command(&self) -> &str {
        self.command.as_str()
    }

    /// The setting involved (`""` when none is).
    pub fn setting(&self) -> &'static str {
        CONTEXT_SETTINGS[usize::from(self.setting)]
    }

    /// [`Context::setting`]'s place in [`CONTEXT_SETTINGS`] (0: none).
    pub fn setting_index(&self) -> usize {
        usize::from(self.setting)
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
        let who = CommandName(self.command.as_str());
        let (setting, value) = (self.setting(), self.value);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_read_back_alike_and_compare_by_text() {
        for name in ["", "payments", "a-name-of-22-bytes-xyz", "a-name-of-23-bytes-xyzw", "ünïcödé-named-command-ñ"]
        {
            let shared: Arc<str> = Arc::from(name);
            let c = Context::of(ErrorKind::Timeout, &ContextName::of(&shared), setting_index("timeout_ms"), 250);
            assert_eq!(c.command(), name);
            assert_eq!(matches!(c.command.0, Name::Inline { .. }), name.len() <= INLINE_NAME, "{name}");
            // The public constructor and a clone give equal contexts.
            assert_eq!(c, Context::new(ErrorKind::Timeout, shared.clone(), "timeout_ms", 250));
            assert_eq!(c.clone(), c);
            assert_ne!(c, Context::new(ErrorKind::Timeout, Arc::from(format!("{name}!")), "timeout_ms", 250));
            let who = if name.is_empty() { "an anonymous command".to_string() } else { format!("command '{name}'") };
            assert_eq!(c.to_string(), format!("{who} timed out after 250 ms (timeout_ms)"));
            assert_eq!(format!("{:?}", c.command), format!("{name:?}"));
        }
        // A short name leaves the command's shared name uncounted.
        let shared: Arc<str> = Arc::from("payments");
        let held = ContextName::of(&shared);
        let c = Context::of(ErrorKind::Rejected, &held, setting_index("max_concurrent_requests"), 10);
        assert_eq!(Arc::strong_count(&shared), 1);
        drop(c);
    }

    #[test]
    fn settings_travel_as_their_index_and_read_back_by_name() {
        let name: Arc<str> = Arc::from("payments");
        for (at, setting) in CONTEXT_SETTINGS.iter().enumerate() {
            let c = Context::new(ErrorKind::Rejected, name.clone(), setting, 7);
            assert_eq!((c.setting(), c.setting_index()), (*setting, at));
            assert_eq!(setting_index(setting), at as u8);
        }
        // The joined form is the same list.
        assert_eq!(CONTEXT_SETTINGS_JOINED.split(',').collect::<Vec<_>>(), CONTEXT_SETTINGS);
        // Debug shows the setting by name.
        let c = Context::new(ErrorKind::Timeout, name.clone(), "timeout_ms", 5);
        assert_eq!(
            format!("{c:?}"),
            r#"Context { kind: Timeout, command: "payments", setting: "timeout_ms", value: 5 }"#
        );
        // A byte for the setting: the context (and every error) stays small.
        assert!(std::mem::size_of::<Context>() <= 40, "{}", std::mem::size_of::<Context>());
    }

    #[test]
    #[should_panic(expected = "\"timeout\" is not a setting an error names")]
    fn an_unknown_setting_is_refused_by_name() {
        let _ = Context::new(ErrorKind::Timeout, Arc::from("x"), "timeout", 1);
    }
}
