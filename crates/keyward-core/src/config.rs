//! The configuration file of SPEC §8: which files are read, how a system file and
//! a user's file combine setting by setting, and what each setting may hold. An
//! invalid file is a usage error (exit 2) naming the file, the line and the setting.

use crate::domain::settings::Settings;
use crate::error::{Error, Result};
use crate::safe_text::escape;
use chrono::TimeDelta;
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::{Spanned, Value};

/// A copied key stays on the clipboard at most this long: past an hour,
/// clearing it would protect little, and 0 ("never") would turn the guard off.
pub const CLIPBOARD_CLEAR_MAX_SECONDS: u64 = 3_600;
/// The expiring-soon threshold looks at most a year ahead; 0 marks no key as soon.
pub const EXPIRING_SOON_MAX_DAYS: u32 = 365;

/// Every setting, with its default filled in where the files say nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The store, when neither `--db` nor `KEYWARD_DB` names one.
    pub store: Option<PathBuf>,
    /// The file whose `store` setting chose the store, to name beside it:
    /// "store /srv/kw/k.db (set by /etc/keyward/config.toml)".
    pub store_set_by: Option<PathBuf>,
    /// How long a copied key stays on the clipboard (1 to 3600).
    pub clipboard_clear_seconds: u64,
    /// How long a key lives when it is made without `--expires`.
    pub default_expiry: TimeDelta,
    /// Keys expiring within this many days are shown as expiring soon (0 to 365).
    pub expiring_soon_days: u32,
    pub color: ColorChoice,
    /// Mail delivery of the outbox as the files combined say it (the user's
    /// settings over the system's); for a personal store only. `None` keeps
    /// messages in the outbox.
    pub notify: Option<NotifyConfig>,
    /// Delivery as the system file alone says it: the only one for a shared
    /// store, so no operator's own file can redirect or silence the admins'
    /// mail.
    pub host_notify: Option<NotifyConfig>,
    /// The user's file, when it has a `[notify]` table (to name when it is
    /// ignored).
    pub user_notify_file: Option<PathBuf>,
    /// The system file, when its `[notify]` does not count for a shared
    /// store because root does not own it (`KEYWARD_SYSTEM_CONFIG` pointing
    /// at a file of one's own).
    pub system_notify_not_roots: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            store: None,
            store_set_by: None,
            clipboard_clear_seconds: 30,
            default_expiry: TimeDelta::days(90),
            expiring_soon_days: 14,
            color: ColorChoice::Auto,
            notify: None,
            host_notify: None,
            user_notify_file: None,
            system_notify_not_roots: None,
        }
    }
}

/// Whether to colour the screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a terminal (or not), with `NO_COLOR`
    /// set (or not). An explicit `always` in a file beats `NO_COLOR`, as
    /// no-color.org asks of configuration files.
    pub fn enabled(self, terminal: bool, no_color: bool) -> bool {
        match self {
            ColorChoice::Auto => terminal && !no_color,
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host.
    None,
}

/// The `[notify]` table. After validation exactly one of `smtp_host` and
/// `sendmail` is set, at most one password source, and with SMTP, `smtp_user`
/// and a password source come together or not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyConfig {
    /// The sender's address.
    pub from: String,
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_user: Option<String>,
    /// The environment variable holding the SMTP password (read when sending).
    pub smtp_password_env: Option<String>,
    /// The file holding the SMTP password (read when sending).
    pub smtp_password_file: Option<PathBuf>,
    /// A PEM file of CA certificates to trust besides the system's, for a
    /// relay whose certificate an internal CA signed.
    pub smtp_ca_file: Option<PathBuf>,
    /// A command that reads a message on standard input, instead of SMTP.
    pub sendmail: Option<String>,
}

impl Config {
    /// Reads `/etc/keyward/config.toml` when present, then the user's file:
    /// `explicit` (from `--config` or `KEYWARD_CONFIG`), which must exist, or
    /// else `$XDG_CONFIG_HOME/keyward/config.toml` / `~/.config/keyward/config.toml`.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let user = explicit
            .map(Path::to_path_buf)
            .or_else(crate::paths::user_config);
        Config::load_from(
            &crate::paths::system_config(),
            user.as_deref(),
            explicit.is_some(),
        )
    }

    /// Reads `system` when present, then `user`, whose settings override the
    /// system's one by one. A missing `user` is an error only when `explicit`.
    pub fn load_from(system: &Path, user: Option<&Path>, explicit: bool) -> Result<Config> {
        let mut layer = read_layer(system, false)?.unwrap_or_default();
        let host_notify = layer.notify.clone().map(NotifyLayer::resolve).transpose()?;
        // The host's delivery is root's: a "system" file named through
        // KEYWARD_SYSTEM_CONFIG but owned by anyone else is no host's word.
        let roots = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(system).is_ok_and(|m| m.uid() == 0)
        };
        let (host_notify, system_notify_not_roots) = match host_notify {
            Some(n) if roots => (Some(n), None),
            Some(_) => (None, Some(system.to_path_buf())),
            None => (None, None),
        };
        let mut user_notify_file = None;
        if let Some(later) = match user {
            Some(user) => read_layer(user, explicit)?,
            None => None,
        } {
            if later.notify.is_some() {
                user_notify_file = user.map(Path::to_path_buf);
            }
            layer = layer.merge(later);
        }
        let mut config = layer.resolve()?;
        config.host_notify = host_notify;
        config.user_notify_file = user_notify_file;
        config.system_notify_not_roots = system_notify_not_roots;
        Ok(config)
    }

    /// What the service's operations read.
    pub fn settings(&self) -> Settings {
        Settings {
            default_expiry: self.default_expiry,
        }
    }

    /// How long a copied key stays on the clipboard.
    pub fn clipboard_clear(&self) -> Duration {
        Duration::from_secs(self.clipboard_clear_seconds)
    }
}

/// One file as written: each setting with where it stands, so that a bad value
/// is named with its line. Unknown settings are refused, so a typo is named too.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of settings")]
struct RawFile {
    store: Raw,
    clipboard_clear_seconds: Raw,
    default_expiry: Raw,
    expiring_soon_days: Raw,
    color: Raw,
    notify: Option<Spanned<RawNotify>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [notify] table")]
struct RawNotify {
    from: Raw,
    smtp_host: Raw,
    smtp_port: Raw,
    smtp_tls: Raw,
    smtp_user: Raw,
    smtp_password_env: Raw,
    smtp_password_file: Raw,
    smtp_ca_file: Raw,
    sendmail: Raw,
}

type Raw = Option<Spanned<Value>>;

/// One file's settings, checked, not yet combined with the other file's.
#[derive(Default)]
struct Layer {
    store: Option<PathBuf>,
    /// The file this layer was read from, when it sets `store`.
    store_set_by: Option<PathBuf>,
    clipboard_clear_seconds: Option<u64>,
    default_expiry: Option<TimeDelta>,
    expiring_soon_days: Option<u32>,
    color: Option<ColorChoice>,
    notify: Option<NotifyLayer>,
}

#[derive(Clone)]
struct NotifyLayer {
    /// "FILE line N" of the `[notify]` table, to name it when the combined
    /// table lacks something.
    at: String,
    from: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<SmtpTls>,
    smtp_user: Option<String>,
    smtp_password_env: Option<String>,
    smtp_password_file: Option<PathBuf>,
    smtp_ca_file: Option<PathBuf>,
    sendmail: Option<String>,
}

impl Layer {
    /// This file's settings overridden by `later`'s, one by one.
    fn merge(self, later: Layer) -> Layer {
        Layer {
            store_set_by: if later.store.is_some() {
                later.store_set_by
            } else {
                self.store_set_by
            },
            store: later.store.or(self.store),
            clipboard_clear_seconds: later
                .clipboard_clear_seconds
                .or(self.clipboard_clear_seconds),
            default_expiry: later.default_expiry.or(self.default_expiry),
            expiring_soon_days: later.expiring_soon_days.or(self.expiring_soon_days),
            color: later.color.or(self.color),
            notify: match (self.notify, later.notify) {
                (Some(earlier), Some(later)) => Some(earlier.merge(later)),
                (earlier, later) => later.or(earlier),
            },
        }
    }

    fn resolve(self) -> Result<Config> {
        let defaults = Config::default();
        Ok(Config {
            store: self.store,
            store_set_by: self.store_set_by,
            clipboard_clear_seconds: self
                .clipboard_clear_seconds
                .unwrap_or(defaults.clipboard_clear_seconds),
            default_expiry: self.default_expiry.unwrap_or(defaults.default_expiry),
            expiring_soon_days: self
                .expiring_soon_days
                .unwrap_or(defaults.expiring_soon_days),
            color: self.color.unwrap_or(defaults.color),
            notify: self.notify.map(NotifyLayer::resolve).transpose()?,
            host_notify: None,
            user_notify_file: None,
            system_notify_not_roots: None,
        })
    }
}

impl NotifyLayer {
    /// Setting by setting, except that the choices between SMTP and sendmail,
    /// and between the two password sources, are made whole by one file: a user
    /// who picks sendmail cannot unset the system file's `smtp_host`, so picking
    /// one drops the other file's pick.
    fn merge(self, later: NotifyLayer) -> NotifyLayer {
        let (smtp_host, sendmail) = if later.smtp_host.is_some() || later.sendmail.is_some() {
            (later.smtp_host, later.sendmail)
        } else {
            (self.smtp_host, self.sendmail)
        };
        let (smtp_password_env, smtp_password_file) =
            if later.smtp_password_env.is_some() || later.smtp_password_file.is_some() {
                (later.smtp_password_env, later.smtp_password_file)
            } else {
                (self.smtp_password_env, self.smtp_password_file)
            };
        NotifyLayer {
            at: later.at,
            from: later.from.or(self.from),
            smtp_host,
            smtp_port: later.smtp_port.or(self.smtp_port),
            smtp_tls: later.smtp_tls.or(self.smtp_tls),
            smtp_user: later.smtp_user.or(self.smtp_user),
            smtp_password_env,
            smtp_password_file,
            smtp_ca_file: later.smtp_ca_file.or(self.smtp_ca_file),
            sendmail,
        }
    }

    /// Checks what only the combined table can show: a sender, a way to send,
    /// and SMTP credentials that come in pairs.
    fn resolve(self) -> Result<NotifyConfig> {
        let at = &self.at;
        let missing = |problem: &str| Error::usage(format!("{at}: notify: {problem}"));
        let Some(from) = self.from else {
            return Err(missing(
                "needs from, the address notifications are sent from",
            ));
        };
        if self.smtp_host.is_none() && self.sendmail.is_none() {
            return Err(missing(
                "needs smtp_host (send by SMTP) or sendmail (send by a command)",
            ));
        }
        if self.smtp_host.is_some() {
            let password = self.smtp_password_env.is_some() || self.smtp_password_file.is_some();
            if password && self.smtp_user.is_none() {
                return Err(missing("a password is given but no smtp_user"));
            }
            if !password && self.smtp_user.is_some() {
                return Err(missing(
                    "smtp_user needs smtp_password_env or smtp_password_file",
                ));
            }
        }
        Ok(NotifyConfig {
            from,
            smtp_host: self.smtp_host,
            smtp_port: self.smtp_port.unwrap_or(587),
            smtp_tls: self.smtp_tls.unwrap_or_default(),
            smtp_user: self.smtp_user,
            smtp_password_env: self.smtp_password_env,
            smtp_password_file: self.smtp_password_file,
            smtp_ca_file: self.smtp_ca_file,
            sendmail: self.sendmail,
        })
    }
}

/// Reads and checks one file; `None` when it is absent and not `required`.
fn read_layer(path: &Path, required: bool) -> Result<Option<Layer>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::usage(format!(
                "no configuration file at {} (given by --config or KEYWARD_CONFIG)",
                shown(path)
            )));
        }
        Err(e) => {
            return Err(Error::usage(format!(
                "cannot read the configuration file {}: {e}",
                shown(path)
            )));
        }
    };
    // A file anyone else may change could set `sendmail` to run their
    // command as every admin: refused, as ssh refuses such files.
    if let Some(why) = std::fs::metadata(path)
        .ok()
        .and_then(|m| crate::access::untrusted(&m))
    {
        return Err(Error::usage(format!(
            "the configuration file {} is not trusted: {why}",
            shown(path)
        )));
    }
    parse_layer(path, &text).map(Some)
}

/// Checks one file's text; every error names `path`, a line and a setting.
fn parse_layer(path: &Path, text: &str) -> Result<Layer> {
    let file = Source { path, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        // serde says "field"; the file and SPEC §8 say "setting".
        let message = e.message().trim().replace(['\n', '\r'], " ").replacen(
            "unknown field",
            "unknown setting",
            1,
        );
        match e.span() {
            Some(span) => Error::usage(format!("{}: {message}", file.at(&span))),
            None => Error::usage(format!("{}: {message}", shown(path))),
        }
    })?;
    let store = file
        .setting("store", raw.store)
        .map(|s| s.store())
        .transpose()?;
    Ok(Layer {
        store_set_by: store.as_ref().map(|_| path.to_path_buf()),
        store,
        clipboard_clear_seconds: file
            .setting("clipboard_clear_seconds", raw.clipboard_clear_seconds)
            .map(|s| s.integer(1, CLIPBOARD_CLEAR_MAX_SECONDS as i64))
            .transpose()?
            .map(|n| n as u64),
        default_expiry: file
            .setting("default_expiry", raw.default_expiry)
            .map(|s| s.duration())
            .transpose()?,
        expiring_soon_days: file
            .setting("expiring_soon_days", raw.expiring_soon_days)
            .map(|s| s.integer(0, i64::from(EXPIRING_SOON_MAX_DAYS)))
            .transpose()?
            .map(|n| n as u32),
        color: file
            .setting("color", raw.color)
            .map(|s| {
                s.choice(&[
                    ("auto", ColorChoice::Auto),
                    ("always", ColorChoice::Always),
                    ("never", ColorChoice::Never),
                ])
            })
            .transpose()?,
        notify: raw.notify.map(|n| file.notify(n)).transpose()?,
    })
}

/// The file being read, to turn a byte offset into a line.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl<'a> Source<'a> {
    /// "FILE line N" for the place `span` starts.
    fn at(&self, span: &Range<usize>) -> String {
        let before = &self.text.as_bytes()[..span.start.min(self.text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{} line {line}", shown(self.path))
    }

    fn setting(&'a self, name: &'static str, raw: Raw) -> Option<Setting<'a>> {
        raw.map(|v| Setting {
            file: self,
            name,
            span: v.span(),
            value: v.into_inner(),
        })
    }

    fn notify(&self, raw: Spanned<RawNotify>) -> Result<NotifyLayer> {
        let at = self.at(&raw.span());
        let raw = raw.into_inner();
        let string = |name, raw| {
            self.setting(name, raw)
                .map(|s| s.non_empty_string())
                .transpose()
        };
        let sendmail = self.setting("notify.sendmail", raw.sendmail);
        let smtp_host = self.setting("notify.smtp_host", raw.smtp_host);
        if let (Some(a), Some(b)) = (&sendmail, &smtp_host) {
            let later = if a.span.start > b.span.start { a } else { b };
            return Err(later.fail("give either smtp_host or sendmail, not both"));
        }
        let password_env = self.setting("notify.smtp_password_env", raw.smtp_password_env);
        let password_file = self.setting("notify.smtp_password_file", raw.smtp_password_file);
        if let (Some(a), Some(b)) = (&password_env, &password_file) {
            let later = if a.span.start > b.span.start { a } else { b };
            return Err(later.fail("give either smtp_password_env or smtp_password_file, not both"));
        }
        Ok(NotifyLayer {
            at,
            from: self
                .setting("notify.from", raw.from)
                .map(|s| s.email())
                .transpose()?,
            smtp_host: smtp_host.map(|s| s.non_empty_string()).transpose()?,
            smtp_port: self
                .setting("notify.smtp_port", raw.smtp_port)
                .map(|s| s.integer(1, i64::from(u16::MAX)))
                .transpose()?
                .map(|n| n as u16),
            smtp_tls: self
                .setting("notify.smtp_tls", raw.smtp_tls)
                .map(|s| {
                    s.choice(&[
                        ("starttls", SmtpTls::Starttls),
                        ("tls", SmtpTls::Tls),
                        ("none", SmtpTls::None),
                    ])
                })
                .transpose()?,
            smtp_user: string("notify.smtp_user", raw.smtp_user)?,
            smtp_password_env: password_env.map(|s| s.env_name()).transpose()?,
            smtp_password_file: password_file.map(|s| s.absolute_path()).transpose()?,
            smtp_ca_file: self
                .setting("notify.smtp_ca_file", raw.smtp_ca_file)
                .map(|s| s.absolute_path())
                .transpose()?,
            sendmail: sendmail.map(|s| s.non_empty_string()).transpose()?,
        })
    }
}

/// One setting as written, checked into its type.
struct Setting<'a> {
    file: &'a Source<'a>,
    name: &'static str,
    span: Range<usize>,
    value: Value,
}

impl Setting<'_> {
    /// "FILE line N: SETTING: PROBLEM".
    fn fail(&self, problem: impl std::fmt::Display) -> Error {
        Error::usage(format!(
            "{}: {}: {problem}",
            self.file.at(&self.span),
            self.name
        ))
    }

    fn string(&self, expected: &str) -> Result<&str> {
        match &self.value {
            Value::String(s) => Ok(s),
            other => Err(self.fail(format_args!(
                "expected {expected}, found {}",
                other.type_str()
            ))),
        }
    }

    fn non_empty_string(&self) -> Result<String> {
        let s = self.string("a string")?;
        if s.trim().is_empty() {
            return Err(self.fail("is empty"));
        }
        Ok(s.to_owned())
    }

    /// A whole number in `min..=max`, so that callers may cast it to a type
    /// that holds that range.
    fn integer(&self, min: i64, max: i64) -> Result<i64> {
        match self.value {
            Value::Integer(n) if (min..=max).contains(&n) => Ok(n),
            Value::Integer(n) => {
                Err(self.fail(format_args!("{n} is out of range; use {min} to {max}")))
            }
            ref other => Err(self.fail(format_args!(
                "expected a whole number from {min} to {max}, found {}",
                other.type_str()
            ))),
        }
    }

    fn duration(&self) -> Result<TimeDelta> {
        let s = self.string("a duration like \"30d\", \"24h\" or \"2w\"")?;
        crate::domain::expiry::parse_duration(s).map_err(|e| self.fail(e))
    }

    fn choice<T: Copy>(&self, choices: &[(&str, T)]) -> Result<T> {
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        let list = names.join(", ");
        let s = self.string(&format!("one of {list}"))?;
        choices
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, v)| *v)
            .ok_or_else(|| self.fail(format_args!("{} is not one of {list}", quoted(s))))
    }

    /// The store: a PostgreSQL URL (checked as `--db` checks it, and never
    /// echoed with its password), or an absolute path.
    fn store(&self) -> Result<PathBuf> {
        let s = self.string("a path or a postgres:// URL")?;
        if crate::store::pg::connect::names_a_server(s) {
            crate::store::pg::connect::check_url(s).map_err(|e| self.fail(e))?;
            return Ok(PathBuf::from(s));
        }
        self.absolute_path()
    }

    /// An absolute path: a relative one would depend on the directory keyward
    /// happens to be started from.
    fn absolute_path(&self) -> Result<PathBuf> {
        let s = self.string("a path")?;
        let path = PathBuf::from(s);
        if !path.is_absolute() {
            return Err(self.fail(format_args!("{} is not an absolute path", quoted(s))));
        }
        Ok(path)
    }

    fn email(&self) -> Result<String> {
        let s = self.string("an email address")?;
        crate::domain::email::parse_email(s).map_err(|e| self.fail(e))
    }

    /// The name of an environment variable.
    fn env_name(&self) -> Result<String> {
        let s = self.non_empty_string()?;
        if s.contains(['=', '\0']) || s.chars().any(char::is_whitespace) {
            return Err(self.fail(format_args!(
                "{} is not the name of an environment variable",
                quoted(&s)
            )));
        }
        Ok(s)
    }
}

/// A path in a message, with anything a terminal would obey made visible.
fn shown(path: &Path) -> String {
    escape(&path.to_string_lossy()).into_owned()
}

/// A value from a file in a message, quoted as it would be written.
fn quoted(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system file and a user file in a fresh directory; `None` writes no file.
    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn new() -> Files {
            Files {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }

        /// Loads with `system.toml` and `user.toml`, each only if written.
        fn load(&self) -> Result<Config> {
            Config::load_from(
                &self.path("system.toml"),
                Some(&self.path("user.toml")),
                false,
            )
        }
    }

    /// Loads `text` as the only (user) file and returns the error message.
    fn error_of(text: &str) -> String {
        let files = Files::new();
        files.write("user.toml", text);
        let err = files.load().unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        let message = err.to_string();
        assert!(!message.contains('\n'), "one line: {message:?}");
        let prefix = format!("{} ", files.path("user.toml").display());
        message
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("names the file: {message}"))
            .to_owned()
    }

    #[test]
    fn no_files_give_every_default() {
        let files = Files::new();
        let config = files.load().unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.store, None);
        assert_eq!(config.clipboard_clear_seconds, 30);
        assert_eq!(config.clipboard_clear(), Duration::from_secs(30));
        assert_eq!(config.default_expiry, TimeDelta::days(90));
        assert_eq!(config.expiring_soon_days, 14);
        assert_eq!(config.color, ColorChoice::Auto);
        assert_eq!(config.notify, None);
        assert_eq!(config.settings().default_expiry, TimeDelta::days(90));
    }

    #[test]
    fn an_empty_file_gives_every_default() {
        let files = Files::new();
        files.write("user.toml", "# nothing set\n");
        assert_eq!(files.load().unwrap(), Config::default());
    }

    #[test]
    fn every_setting_is_read() {
        let files = Files::new();
        files.write(
            "user.toml",
            r#"
store = "/srv/keyward/keyward.db"
clipboard_clear_seconds = 45
default_expiry = "2w"
expiring_soon_days = 0
color = "never"

[notify]
from = "keyward@example.org"
smtp_host = "mail.example.org"
smtp_port = 465
smtp_tls = "tls"
smtp_user = "keyward"
smtp_password_file = "/etc/keyward/smtp.pw"
"#,
        );
        let config = files.load().unwrap();
        assert_eq!(
            config,
            Config {
                store: Some(PathBuf::from("/srv/keyward/keyward.db")),
                store_set_by: Some(files.path("user.toml")),
                clipboard_clear_seconds: 45,
                default_expiry: TimeDelta::weeks(2),
                expiring_soon_days: 0,
                color: ColorChoice::Never,
                notify: Some(NotifyConfig {
                    from: "keyward@example.org".into(),
                    smtp_host: Some("mail.example.org".into()),
                    smtp_port: 465,
                    smtp_tls: SmtpTls::Tls,
                    smtp_user: Some("keyward".into()),
                    smtp_password_env: None,
                    smtp_password_file: Some(PathBuf::from("/etc/keyward/smtp.pw")),
                    smtp_ca_file: None,
                    sendmail: None,
                }),
                // Only the system file configures delivery of a shared store.
                host_notify: None,
                user_notify_file: Some(files.path("user.toml")),
                system_notify_not_roots: None,
            }
        );
    }

    const EXAMPLE: &str = include_str!("../../../assets/config.toml");

    /// The example with its settings uncommented, but for those named in `except`.
    fn uncommented(except: &[&str]) -> String {
        EXAMPLE
            .lines()
            .filter_map(|line| match line.strip_prefix('#') {
                Some(setting)
                    if setting.starts_with(|c: char| c.is_ascii_lowercase() || c == '[') =>
                {
                    let skip = except
                        .iter()
                        .any(|name| setting.starts_with(&format!("{name} ")));
                    (!skip).then_some(setting)
                }
                _ => Some(line),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_shipped_example_changes_nothing_as_it_is() {
        let files = Files::new();
        files.write("user.toml", EXAMPLE);
        assert_eq!(files.load().unwrap(), Config::default());
    }

    #[test]
    fn the_shipped_example_shows_every_default() {
        let files = Files::new();
        files.write(
            "user.toml",
            &uncommented(&["store", "smtp_password_file", "sendmail"]),
        );
        let config = files.load().unwrap();
        let notify = config.notify.clone().unwrap();
        assert_eq!(
            Config {
                notify: None,
                store_set_by: None,
                host_notify: None,
                user_notify_file: None,
                system_notify_not_roots: None,
                ..config
            },
            Config::default()
        );
        assert_eq!(notify.smtp_port, 587);
        assert_eq!(notify.smtp_tls, SmtpTls::Starttls);
        assert_eq!(
            notify.smtp_password_env.as_deref(),
            Some("KEYWARD_SMTP_PASSWORD")
        );

        // Each alternative of the example is valid on its own too.
        files.write(
            "user.toml",
            &uncommented(&[
                "smtp_host",
                "smtp_user",
                "smtp_password_env",
                "smtp_password_file",
            ]),
        );
        let config = files.load().unwrap();
        assert_eq!(
            config.store,
            Some(PathBuf::from("/var/lib/keyward/keyward.db"))
        );
        let notify = config.notify.unwrap();
        assert_eq!(notify.sendmail.as_deref(), Some("/usr/sbin/sendmail -t"));
        files.write(
            "user.toml",
            &uncommented(&["smtp_password_env", "sendmail"]),
        );
        let notify = files.load().unwrap().notify.unwrap();
        assert_eq!(
            notify.smtp_password_file,
            Some(PathBuf::from("/etc/keyward/smtp.pw"))
        );
    }

    #[test]
    fn the_user_file_overrides_the_system_file_setting_by_setting() {
        let files = Files::new();
        files.write(
            "system.toml",
            r#"
store = "/srv/keyward/shared.db"
clipboard_clear_seconds = 10
default_expiry = "30d"

[notify]
from = "keyward@example.org"
smtp_host = "mail.example.org"
smtp_port = 25
smtp_tls = "none"
"#,
        );
        files.write(
            "user.toml",
            r#"
default_expiry = "7d"
color = "always"

[notify]
smtp_port = 2525
"#,
        );
        let config = files.load().unwrap();
        // From the system file, which the user's does not mention.
        assert_eq!(config.store, Some(PathBuf::from("/srv/keyward/shared.db")));
        assert_eq!(config.store_set_by, Some(files.path("system.toml")));
        assert_eq!(config.clipboard_clear_seconds, 10);
        // The user's own.
        assert_eq!(config.default_expiry, TimeDelta::days(7));
        assert_eq!(config.color, ColorChoice::Always);
        // Defaults where neither speaks.
        assert_eq!(config.expiring_soon_days, 14);
        // Inside [notify], setting by setting too.
        let notify = config.notify.unwrap();
        assert_eq!(notify.from, "keyward@example.org");
        assert_eq!(notify.smtp_host.as_deref(), Some("mail.example.org"));
        assert_eq!(notify.smtp_tls, SmtpTls::None);
        assert_eq!(notify.smtp_port, 2525);
    }

    #[test]
    fn the_store_is_named_with_the_file_that_chose_it() {
        let files = Files::new();
        files.write("system.toml", "store = \"/srv/keyward/shared.db\"\n");
        files.write("user.toml", "store = \"/home/ana/k.db\"\n");
        let config = files.load().unwrap();
        assert_eq!(config.store, Some(PathBuf::from("/home/ana/k.db")));
        assert_eq!(config.store_set_by, Some(files.path("user.toml")));
    }

    #[test]
    fn the_system_file_alone_applies() {
        let files = Files::new();
        files.write("system.toml", "store = \"/srv/keyward/shared.db\"\n");
        let config = files.load().unwrap();
        assert_eq!(config.store, Some(PathBuf::from("/srv/keyward/shared.db")));
    }

    #[test]
    fn a_user_choosing_sendmail_replaces_the_system_smtp_host() {
        let files = Files::new();
        files.write(
            "system.toml",
            "[notify]\nfrom = \"keyward@example.org\"\nsmtp_host = \"mail.example.org\"\nsmtp_password_env = \"PW\"\nsmtp_user = \"kw\"\n",
        );
        files.write(
            "user.toml",
            "[notify]\nsendmail = \"/usr/sbin/sendmail -t\"\n",
        );
        let notify = files.load().unwrap().notify.unwrap();
        assert_eq!(notify.sendmail.as_deref(), Some("/usr/sbin/sendmail -t"));
        assert_eq!(notify.smtp_host, None);
        assert_eq!(notify.from, "keyward@example.org");
    }

    #[test]
    fn a_user_choosing_a_password_file_replaces_the_system_password_env() {
        let files = Files::new();
        files.write(
            "system.toml",
            "[notify]\nfrom = \"keyward@example.org\"\nsmtp_host = \"mail.example.org\"\nsmtp_user = \"kw\"\nsmtp_password_env = \"PW\"\n",
        );
        files.write(
            "user.toml",
            "[notify]\nsmtp_password_file = \"/home/ana/pw\"\n",
        );
        let notify = files.load().unwrap().notify.unwrap();
        assert_eq!(notify.smtp_password_env, None);
        assert_eq!(
            notify.smtp_password_file,
            Some(PathBuf::from("/home/ana/pw"))
        );
    }

    #[test]
    fn an_unknown_setting_is_named_with_its_line() {
        let message = error_of("store = \"/srv/k.db\"\n\ndefualt_expiry = \"7d\"\n");
        assert!(
            message.starts_with("line 3: unknown setting `defualt_expiry`, expected one of"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_notify_setting_is_named_with_its_line() {
        let message = error_of(
            "[notify]\nfrom = \"keyward@example.org\"\nsendmail = \"/usr/sbin/sendmail -t\"\nsmtp_pasword_env = \"PW\"\n",
        );
        assert!(
            message.starts_with("line 4: unknown setting `smtp_pasword_env`"),
            "{message}"
        );
        assert!(
            error_of("notify = 3")
                .starts_with("line 1: invalid type: integer `3`, expected a [notify] table"),
        );
    }

    #[test]
    fn a_bad_duration_is_named_with_its_line_and_setting() {
        let message = error_of("color = \"auto\"\n\ndefault_expiry = \"9x\"\n");
        assert_eq!(
            message,
            "line 3: default_expiry: \"9x\" is not a span of time; use e.g. 30m, 24h, 7d or 2w"
        );
        assert!(error_of("default_expiry = \"0d\"").starts_with("line 1: default_expiry: "));
        assert!(error_of("default_expiry = \"never\"").starts_with("line 1: default_expiry: "));
        assert_eq!(
            error_of("default_expiry = 90"),
            "line 1: default_expiry: expected a duration like \"30d\", \"24h\" or \"2w\", found integer"
        );
    }

    #[test]
    fn a_bad_color_is_named() {
        assert_eq!(
            error_of("\ncolor = \"blue\"\n"),
            "line 2: color: \"blue\" is not one of auto, always, never"
        );
        assert_eq!(
            error_of("color = true"),
            "line 1: color: expected one of auto, always, never, found boolean"
        );
    }

    #[test]
    fn numbers_out_of_range_are_named() {
        assert_eq!(
            error_of("clipboard_clear_seconds = 0"),
            "line 1: clipboard_clear_seconds: 0 is out of range; use 1 to 3600"
        );
        assert!(error_of("clipboard_clear_seconds = 3601").contains("out of range"));
        assert!(error_of("clipboard_clear_seconds = -5").contains("out of range"));
        assert_eq!(
            error_of("expiring_soon_days = 366"),
            "line 1: expiring_soon_days: 366 is out of range; use 0 to 365"
        );
        assert_eq!(
            error_of("[notify]\nfrom = \"k@example.org\"\nsendmail = \"x\"\nsmtp_port = 0\n"),
            "line 4: notify.smtp_port: 0 is out of range; use 1 to 65535"
        );
        assert!(
            error_of("expiring_soon_days = \"14\"")
                .contains("expected a whole number from 0 to 365")
        );
    }

    #[test]
    fn a_bad_tls_mode_is_named() {
        assert_eq!(
            error_of("[notify]\nfrom = \"k@example.org\"\nsmtp_host = \"m\"\nsmtp_tls = \"ssl\"\n"),
            "line 4: notify.smtp_tls: \"ssl\" is not one of starttls, tls, none"
        );
    }

    #[test]
    fn a_relative_store_is_refused() {
        assert_eq!(
            error_of("store = \"keyward.db\""),
            "line 1: store: \"keyward.db\" is not an absolute path"
        );
    }

    #[test]
    fn a_store_on_a_server_is_a_url_and_its_password_is_never_echoed() {
        let files = Files::new();
        files.write(
            "user.toml",
            "store = \"postgres://kw@db.example.org/keyward\"",
        );
        let config = files.load().unwrap();
        assert_eq!(
            config.store.as_deref(),
            Some(Path::new("postgres://kw@db.example.org/keyward"))
        );
        for text in [
            "store = \"POSTGRES://kw:S3cr3t@db/keyward\"",
            "store = \"host=db user=kw password=S3cr3t\"",
        ] {
            let message = error_of(text);
            assert!(message.starts_with("line 1: store: "), "{message}");
            assert!(!message.contains("S3cr3t"), "{message}");
        }
    }

    #[test]
    fn sendmail_and_smtp_host_together_are_refused() {
        let message = error_of(
            "[notify]\nfrom = \"keyward@example.org\"\nsmtp_host = \"mail.example.org\"\nsendmail = \"/usr/sbin/sendmail -t\"\n",
        );
        assert_eq!(
            message,
            "line 4: notify.sendmail: give either smtp_host or sendmail, not both"
        );
    }

    #[test]
    fn two_password_sources_are_refused() {
        let message = error_of(
            "[notify]\nfrom = \"keyward@example.org\"\nsmtp_host = \"m\"\nsmtp_user = \"u\"\nsmtp_password_file = \"/p\"\nsmtp_password_env = \"PW\"\n",
        );
        assert_eq!(
            message,
            "line 6: notify.smtp_password_env: give either smtp_password_env or smtp_password_file, not both"
        );
    }

    #[test]
    fn a_notify_table_needs_a_sender_and_a_way_to_send() {
        let message = error_of("color = \"auto\"\n[notify]\nsmtp_host = \"m\"\n");
        assert!(
            message.starts_with("line 2: notify: needs from"),
            "{message}"
        );
        let message = error_of("[notify]\nfrom = \"keyward@example.org\"\n");
        assert!(
            message.starts_with("line 1: notify: needs smtp_host"),
            "{message}"
        );
        let message = error_of("[notify]\nfrom = \"not an address\"\nsendmail = \"x\"\n");
        assert!(message.starts_with("line 2: notify.from: "), "{message}");
    }

    #[test]
    fn smtp_user_and_password_come_together() {
        let base = "[notify]\nfrom = \"keyward@example.org\"\nsmtp_host = \"m\"\n";
        assert!(
            error_of(&format!("{base}smtp_user = \"u\"\n"))
                .contains("smtp_user needs smtp_password_env or smtp_password_file")
        );
        assert!(
            error_of(&format!("{base}smtp_password_env = \"PW\"\n"))
                .contains("a password is given but no smtp_user")
        );
        assert!(
            error_of(&format!(
                "{base}smtp_password_env = \"A=B\"\nsmtp_user = \"u\"\n"
            ))
            .contains("is not the name of an environment variable")
        );
    }

    #[test]
    fn a_syntax_error_is_named_with_its_line() {
        let message = error_of("color = \"auto\"\nstore = \n");
        assert!(message.starts_with("line 2: "), "{message}");
    }

    #[test]
    fn an_explicit_file_that_does_not_exist_is_an_error() {
        let files = Files::new();
        let missing = files.path("nowhere.toml");
        let err = Config::load_from(&files.path("system.toml"), Some(&missing), true).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains(&*missing.to_string_lossy()),
            "{err}"
        );
        // The same path as a default location is simply absent.
        let config = Config::load_from(&files.path("system.toml"), Some(&missing), false).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn an_error_in_the_system_file_names_the_system_file() {
        let files = Files::new();
        let system = files.write("system.toml", "color = \"blue\"\n");
        let err = files.load().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{} line 1: color: ", system.display())),
            "{err}"
        );
    }

    #[test]
    fn colour_follows_the_choice_then_the_terminal_and_no_color() {
        assert!(ColorChoice::Auto.enabled(true, false));
        assert!(!ColorChoice::Auto.enabled(true, true));
        assert!(!ColorChoice::Auto.enabled(false, false));
        assert!(ColorChoice::Always.enabled(false, true));
        assert!(!ColorChoice::Never.enabled(true, false));
    }
}
