//! Whole-screen states: first run (setup and the sample-data offer), a login
//! that may not use the store, and the moment before the operator is known.

use super::{Setup, SetupField};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{byte_at, centered, safe};
use crate::tui::state::State;
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn setup(s: &Setup, theme: &Theme, frame: &mut Frame) {
    let area = centered(frame.area(), 72, 14);
    frame.render_widget(Clear, area);
    let field = |label: &str, value: &str, focused: bool| {
        // The field being typed into is marked, not only by the cursor.
        Line::from(vec![
            Span::styled(if focused { "› " } else { "  " }, theme.key()),
            Span::styled(format!("{label:<7}"), theme.header()),
            Span::styled(
                format!("{}{}", safe(value), if focused { "" } else { " " }),
                if focused {
                    theme.cursor()
                } else {
                    ratatui::style::Style::new()
                },
            ),
        ])
    };
    let mut lines = vec![
        Line::from("There is no keyward store here yet. keyward creates one at"),
        Line::from(Span::styled(safe(&s.store), theme.key())),
        Line::from(format!(
            "and makes you, {}, its first admin.",
            safe(&s.login)
        )),
        Line::from(""),
        field("Name", s.name.value(), s.focus == SetupField::Name),
        field("Email", s.email.value(), s.focus == SetupField::Email),
        Line::from(""),
    ];
    if let Some(e) = &s.error {
        lines.push(Line::from(Span::styled(
            format!("✗ {}", safe(e)),
            theme.error(),
        )));
    } else if s.busy {
        lines.push(Line::from("Creating the store…"));
    } else {
        lines.push(Line::from(Span::styled(
            "Enter: next / create · Tab: switch field · Esc: quit",
            theme.dim(),
        )));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Welcome to keyward ");
    let inner = block.inner(area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
    let (input, row) = match s.focus {
        SetupField::Name => (&s.name, 4),
        SetupField::Email => (&s.email, 5),
    };
    let value = input.value();
    let x = inner.x
        + 9
        + safe(&value[..byte_at(value, input.cursor())])
            .chars()
            .count() as u16;
    frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y + row));
}

pub fn offer_demo(state: &State, theme: &Theme, frame: &mut Frame) {
    let area = centered(frame.area(), 72, 14);
    frame.render_widget(Clear, area);
    let who = state.me.as_ref().map(|m| safe(&m.name)).unwrap_or_default();
    let demo = state.demo_store.as_deref().unwrap_or("demo.db");
    let lines = vec![
        Line::from(format!("Your store is ready, and {who} is its admin:")),
        Line::from(Span::styled(safe(&state.store), theme.key())),
        Line::from("It stays empty: sample data never goes into it."),
        Line::from(""),
        Line::from("Try keyward on sample data in a separate demo store?"),
        Line::from(Span::styled(safe(demo), theme.key())),
        Line::from("It is created and opened now, with instances, developers,"),
        Line::from("teams, keys in every status and history by made-up people."),
        Line::from(""),
        Line::from(Span::styled(
            "y: create and open the demo store · n: open my empty store",
            theme.key(),
        )),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Store created "),
        ),
        area,
    );
}

pub fn refused(message: &str, theme: &Theme, frame: &mut Frame) {
    let area = centered(frame.area(), 76, 16);
    frame.render_widget(Clear, area);
    let mut lines: Vec<Line> = message
        .lines()
        .map(|l| Line::from(Span::raw(safe(l))))
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("q: quit", theme.key())));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keyward cannot open this store for you "),
        ),
        area,
    );
}

pub fn loading(state: &State, frame: &mut Frame) {
    frame.render_widget(
        Paragraph::new(format!("Opening {}…", safe(&state.store))),
        frame.area(),
    );
}
