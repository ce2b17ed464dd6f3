//! The History tab's column menu (`m`): which columns the table shows, changed
//! as the admin toggles them and remembered for them when the menu closes.

use crate::tui::kit::keymap::{Action, Binding, DOWN, END, ENTER, ESC, HOME, Layer, UP, bind, key};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::window;
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use keyward_core::export::Column;
use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Debug)]
pub struct ColumnMenu {
    pub cursor: usize,
    /// The columns the table shows, in `Column::ALL`'s order.
    pub shown: Vec<Column>,
    /// Whether a toggle changed them since the menu opened.
    pub changed: bool,
}

impl ColumnMenu {
    pub fn new(shown: Vec<Column>) -> ColumnMenu {
        ColumnMenu {
            cursor: 0,
            shown,
            changed: false,
        }
    }

    fn toggle(&mut self) -> bool {
        let column = Column::ALL[self.cursor];
        let shown = &mut self.shown;
        if let Some(i) = shown.iter().position(|c| *c == column) {
            // The table keeps at least one column.
            if shown.len() == 1 {
                return false;
            }
            shown.remove(i);
        } else {
            shown.push(column);
            shown.sort_by_key(|c| Column::ALL.iter().position(|a| a == c));
        }
        self.changed = true;
        true
    }
}

static COLUMNS: &[Binding] = &[
    bind(&[key('?')], Action::Help, "help for this window", ""),
    bind(&[UP, key('k')], Action::Up, "previous column", ""),
    bind(&[DOWN, key('j')], Action::Down, "next column", ""),
    bind(&[HOME, key('g')], Action::Top, "first column", ""),
    bind(&[END, key('G')], Action::Bottom, "last column", ""),
    bind(
        &[key(' ')],
        Action::Select,
        "show or hide the column",
        "toggle",
    ),
    bind(&[ESC, ENTER, key('m')], Action::Close, "close", "close"),
];

pub const LAYER: Layer = Layer {
    name: "columns",
    bindings: COLUMNS,
    takes_text: false,
    note: "",
};

impl Window for ColumnMenu {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        let n = Column::ALL.len();
        match action {
            Action::Up => self.cursor = self.cursor.saturating_sub(1),
            Action::Down => self.cursor = (self.cursor + 1).min(n - 1),
            Action::Top => self.cursor = 0,
            Action::Bottom => self.cursor = n - 1,
            // The table behind changes as the admin toggles.
            Action::Select if self.toggle() => cx.ask(Ask::ShowColumns(self.shown.clone())),
            Action::Close => {
                if self.changed {
                    let names: Vec<&str> = self.shown.iter().map(|c| c.name()).collect();
                    cx.effect(Effect::SaveHistoryColumns(names.join(",")));
                }
                cx.ask(Ask::Close);
            }
            _ => {}
        }
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_menu(self, theme, frame);
    }
}

fn draw_menu(menu: &ColumnMenu, theme: &Theme, frame: &mut Frame) {
    let cursor = menu.cursor;
    let inner = window(
        frame,
        40,
        Column::ALL.len() as u16 + 2,
        " Columns ".to_owned(),
    );
    // On a short terminal the list scrolls with the cursor.
    let room = usize::from(inner.height).max(1);
    let start = cursor
        .saturating_sub(room - 1)
        .min(Column::ALL.len().saturating_sub(room));
    let lines: Vec<Line> = Column::ALL
        .iter()
        .enumerate()
        .skip(start)
        .take(room)
        .map(|(i, c)| {
            let on = menu.shown.contains(c);
            let style = if i == cursor {
                theme.cursor()
            } else {
                Style::new()
            };
            // The export's field name beside the title, so a CSV header
            // reads back to the column it came from.
            let title = format!(
                "{} [{}] {}",
                if i == cursor { "›" } else { " " },
                if on { "x" } else { " " },
                c.title()
            );
            let pad = 24usize.saturating_sub(title.chars().count());
            Line::from(vec![
                Span::styled(format!("{title}{:pad$}", ""), style),
                Span::styled(c.name(), style.patch(theme.dim())),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
    crate::tui::kit::widgets::more_marker(
        frame,
        inner,
        start > 0,
        start + room < Column::ALL.len(),
        "",
    );
}
