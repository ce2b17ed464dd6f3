//! The name of a saved filter: asked when saving a query (`s`) or renaming a
//! saved filter (`R`).

use crate::tui::kit::keymap::{Action, Binding, ENTER, ESC, Layer, bind};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{error_line, input_line, one_line_prompt, safe, window};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use keyward_core::domain::Name;
use ratatui::Frame;
use ratatui::crossterm::event::Event;
use ratatui::text::{Line, Span};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

#[derive(Debug)]
pub enum NamePurpose {
    SaveFilter { query: String },
    RenameFilter { from: String },
}

#[derive(Debug)]
pub struct NamePrompt {
    pub purpose: NamePurpose,
    pub input: Input,
    pub error: Option<String>,
}

impl NamePrompt {
    pub fn new(purpose: NamePurpose, name: String) -> NamePrompt {
        NamePrompt {
            purpose,
            input: Input::new(name),
            error: None,
        }
    }
}

static NAME_PROMPT: &[Binding] = &[
    bind(&[ENTER], Action::Confirm, "save", "save"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub const LAYER: Layer = Layer {
    name: "filter name",
    bindings: NAME_PROMPT,
    takes_text: true,
    note: "",
};

impl Window for NamePrompt {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        if action == Action::Cancel {
            cx.ask(Ask::Close);
            return;
        }
        if let Err(e) = Name::parse("filter name", self.input.value()) {
            self.error = Some(e.to_string());
            return;
        }
        let name = self.input.value().trim().to_owned();
        cx.effect(match &self.purpose {
            NamePurpose::SaveFilter { query } => Effect::SaveFilter {
                name,
                query: query.clone(),
            },
            NamePurpose::RenameFilter { from } => Effect::RenameFilter {
                from: from.clone(),
                to: name,
            },
        });
        cx.ask(Ask::Close);
    }

    fn type_text(&mut self, event: &Event) {
        self.input.handle_event(event);
        self.error = None;
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_prompt(self, theme, frame);
    }
}

fn draw_prompt(p: &NamePrompt, theme: &Theme, frame: &mut Frame) {
    let (title, what) = match &p.purpose {
        NamePurpose::SaveFilter { query } => (" Save filter ".to_owned(), safe(query)),
        NamePurpose::RenameFilter { from } => (" Rename filter ".to_owned(), safe(from)),
    };
    let inner = window(frame, 70, 7, title);
    let mut lines = vec![
        Line::from(Span::styled(what, theme.dim())),
        input_line("Name ", 5, &p.input, true, theme),
    ];
    if let Some(e) = &p.error {
        lines.push(error_line(e, theme));
    }
    one_line_prompt(frame, inner, lines, &p.input);
}
