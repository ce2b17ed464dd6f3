//! The one showing of a new secret, after create or renew: `c` copies it, and
//! leaving without copying asks first.

use super::confirm::{Confirm, Pending};
use crate::clipboard::Via;
use crate::tui::kit::keymap::{Action, Binding, ESC, Layer, bind, key};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{local_time, safe, window};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use keyward_core::domain::KeyToken;
use keyward_core::domain::model::Key;
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use zeroize::Zeroizing;

/// The one showing of a new secret.
#[derive(Debug)]
pub struct NewSecret {
    pub key: Key,
    pub token: KeyToken,
    pub renewed: bool,
    pub copied: Option<Via>,
    pub copy_error: Option<String>,
}

impl NewSecret {
    /// The copy ended: how, or why not.
    pub fn copied(&mut self, result: &Result<Via, String>) {
        match result {
            Ok(via) => {
                self.copied = Some(*via);
                self.copy_error = None;
            }
            Err(e) => self.copy_error = Some(e.clone()),
        }
    }
}

static NEW_SECRET: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(
        &[key('c')],
        Action::Copy,
        "copy the key to the clipboard",
        "copy",
    ),
    // Not Enter: Enter is "yes" in the leave-without-copying question that
    // follows, and two Enters must never throw a secret away.
    bind(
        &[ESC, key('q')],
        Action::Close,
        "close (the key is not shown again)",
        "close",
    ),
];

pub const LAYER: Layer = Layer {
    name: "new key",
    bindings: NEW_SECRET,
    takes_text: false,
    note: "",
};

impl Window for NewSecret {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        match action {
            Action::Copy => cx.effect(Effect::Copy {
                public_id: self.key.public_id.clone(),
                secret: Zeroizing::new(self.token.expose().to_owned()),
            }),
            Action::Close if self.copied.is_some() => cx.ask(Ask::Close),
            Action::Close => cx.ask(Ask::AskFirst(Confirm {
                title: "Leave without copying the key?".to_owned(),
                lines: vec![
                    "The key was never copied, and it will not be shown again.".to_owned(),
                    "Without it, the key must be renewed to get a new secret.".to_owned(),
                ],
                pending: Pending::LeaveSecret,
                back: None,
                scroll: 0,
            })),
            _ => {}
        }
    }

    fn draw(&self, state: &State, theme: &Theme, frame: &mut Frame) {
        draw_secret(self, state, theme, frame);
    }
}

fn draw_secret(s: &NewSecret, state: &State, theme: &Theme, frame: &mut Frame) {
    let verb = if s.renewed { "renewed" } else { "created" };
    let inner = window(
        frame,
        76,
        13,
        format!(" Key {verb}: {} ", safe(&s.key.name)),
    );
    let copied = match (&s.copied, &s.copy_error) {
        // OSC 52 is a request the terminal may ignore (tmux, some SSH
        // clients): keyward cannot know it arrived, so it does not say so.
        (Some(Via::Osc52), _) => Line::from(Span::styled(
            format!(
                "Sent to the terminal (OSC 52), which may ignore it: paste it somewhere to check before closing. Cleared after {} s.",
                state.settings.clipboard_clear.as_secs()
            ),
            theme.warning(),
        )),
        (Some(via), _) => Line::from(Span::styled(
            format!(
                "✓ Copied to {}; cleared after {} s.",
                via.describe(),
                state.settings.clipboard_clear.as_secs()
            ),
            theme.ok(),
        )),
        (None, Some(e)) => Line::from(Span::styled(
            format!("✗ Could not copy ({}); copy it from the screen.", safe(e)),
            theme.error(),
        )),
        (None, None) => Line::from(Span::styled("Not copied yet: press c.", theme.warning())),
    };
    // After a renewal: until when the integration may still use the old secret.
    let old_secret = match (s.renewed, s.key.grace_until) {
        (false, _) => Line::from(""),
        (true, Some(t)) => Line::from(Span::styled(
            format!(
                "The old secret keeps working until {}.",
                local_time(t, state.settings.utc_offset)
            ),
            theme.warning(),
        )),
        (true, None) => Line::from(Span::styled(
            "The old secret stopped working at once.",
            theme.warning(),
        )),
    };
    let lines = vec![
        Line::from(Span::styled(s.token.expose().to_owned(), theme.secret())),
        Line::from(""),
        Line::from("This is the only time the full key is shown; it will not be shown again."),
        Line::from("Copy it now and hand it over safely."),
        Line::from(format!(
            "{} · {} · {}",
            safe(&s.key.instance),
            safe(&s.key.developer),
            safe(&s.key.channel)
        )),
        old_secret,
        copied,
        Line::from(""),
        Line::from(Span::styled("c: copy · Esc: close", theme.key())),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
