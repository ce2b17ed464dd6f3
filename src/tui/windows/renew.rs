//! Renewing a key: an optional grace period for the old secret and a new
//! expiry; the window is its own confirmation.

use super::confirm::KeyBrief;
use crate::tui::kit::keymap::{Action, BACKTAB, Binding, ENTER, ESC, Layer, TAB, bind};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{
    error_line, input_line, place_cursor, safe, window, wrapped_height,
};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use chrono::DateTime;
use keyward_core::domain::expiry::{Expiry, parse_duration};
use keyward_core::domain::model::{Key, KeyStatus};
use ratatui::Frame;
use ratatui::crossterm::event::Event;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// The renew window's two inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenewField {
    Grace,
    Expires,
}

/// Renewing: optional grace period and new expiry; the modal is its own confirmation.
#[derive(Debug)]
pub struct RenewForm {
    pub key: KeyBrief,
    pub masked: String,
    pub grace: Input,
    pub expires: Input,
    pub focus: RenewField,
    pub error: Option<String>,
    pub saving: bool,
    /// The key has expired: its old secret no longer works, so there is no
    /// grace to give and the grace field takes nothing.
    pub expired: bool,
}

impl RenewForm {
    /// Renewing `key`, offering `expires` (the default expiry) as its new expiry.
    pub fn new(key: &Key, expires: String) -> RenewForm {
        RenewForm {
            key: KeyBrief::of(key),
            masked: key.masked(),
            grace: Input::default(),
            expires: Input::new(expires),
            focus: if key.status == KeyStatus::Expired {
                RenewField::Expires
            } else {
                RenewField::Grace
            },
            error: None,
            saving: false,
            expired: key.status == KeyStatus::Expired,
        }
    }
}

static RENEW: &[Binding] = &[
    bind(&[TAB, BACKTAB], Action::NextField, "switch field", "field"),
    bind(&[ENTER], Action::Confirm, "renew", "renew"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub const LAYER: Layer = Layer {
    name: "renew",
    bindings: RENEW,
    takes_text: true,
    note: "",
};

impl Window for RenewForm {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        let now = DateTime::from_timestamp(cx.now, 0).unwrap_or_default();
        let r = self;
        match action {
            Action::NextField if r.expired => {}
            Action::NextField => {
                r.focus = match r.focus {
                    RenewField::Grace => RenewField::Expires,
                    RenewField::Expires => RenewField::Grace,
                }
            }
            Action::Cancel if !r.saving => cx.ask(Ask::Close),
            Action::Confirm if !r.saving => {
                let grace = r.grace.value().trim().to_owned();
                let expires = r.expires.value().trim().to_owned();
                let checked = (if grace.is_empty() {
                    Ok(())
                } else {
                    parse_duration(&grace).map(drop)
                })
                .and_then(|()| {
                    if expires.is_empty() {
                        Ok(())
                    } else {
                        Expiry::parse(&expires, now).map(drop)
                    }
                });
                if let Err(e) = checked {
                    r.error = Some(e.to_string());
                    return;
                }
                r.saving = true;
                cx.effect(Effect::RenewKey {
                    public_id: r.key.public_id.clone(),
                    grace: (!grace.is_empty()).then_some(grace),
                    expires: (!expires.is_empty()).then_some(expires),
                });
            }
            _ => {}
        }
    }

    fn type_text(&mut self, event: &Event) {
        let input = match self.focus {
            RenewField::Grace => &mut self.grace,
            RenewField::Expires => &mut self.expires,
        };
        input.handle_event(event);
        self.error = None;
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_renew(self, theme, frame);
    }
}

fn draw_renew(r: &RenewForm, theme: &Theme, frame: &mut Frame) {
    let inner = window(frame, 74, 12, format!(" Renew {}? ", safe(&r.key.name)));
    let mut lines = vec![
        Line::from(format!(
            "Key {}: a new secret replaces the current one.",
            r.masked
        )),
        if r.expired {
            Line::from(Span::styled(
                "It has expired: its old secret no longer works and gets no grace.",
                theme.warning(),
            ))
        } else {
            Line::from("The old secret stops working at once, or when the grace period ends.")
        },
        Line::from(""),
        if r.expired {
            Line::from(vec![
                Span::styled(format!("{:<9}", "Grace"), theme.header()),
                Span::styled("none (expired)", theme.dim()),
            ])
        } else {
            input_line("Grace", 9, &r.grace, r.focus == RenewField::Grace, theme)
        },
        input_line(
            "Expires",
            9,
            &r.expires,
            r.focus == RenewField::Expires,
            theme,
        ),
        Line::from(Span::styled(
            if r.expired {
                "Expires: 90d, 2027-01-31 or never"
            } else {
                "Grace: empty for none, or 24h, 7d…"
            },
            theme.dim(),
        )),
    ];
    if let Some(e) = &r.error {
        lines.push(error_line(e, theme));
    } else if r.saving {
        lines.push(Line::from("Renewing…"));
    }
    // The explanation above the inputs wraps on a narrow screen.
    let inputs_row = wrapped_height(&lines[..3], inner.width);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    let (input, row) = match r.focus {
        RenewField::Grace => (&r.grace, 0),
        RenewField::Expires => (&r.expires, 1),
    };
    place_cursor(frame, inner, inputs_row + row, 9, input);
}
