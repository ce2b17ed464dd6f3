//! The History tab's export prompt (`E`): every row the filter matches, in the
//! columns shown, to a new CSV or JSON file.

use crate::tui::kit::keymap::{Action, Binding, ENTER, ESC, Layer, TAB, bind};
use crate::tui::kit::theme::Theme;
use crate::tui::kit::widgets::{error_line, input_line, one_line_prompt, window};
use crate::tui::router::{Ask, Cx, Window};
use crate::tui::state::{Effect, State};
use keyward_core::domain::query::HistoryQuery;
use keyward_core::export::{Column, ExportFormat};
use ratatui::Frame;
use ratatui::crossterm::event::Event;
use ratatui::text::{Line, Span};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

#[derive(Debug)]
pub struct ExportPrompt {
    pub path: Input,
    pub format: ExportFormat,
    pub error: Option<String>,
    /// What the tab showed when `E` was pressed: its filter and columns.
    pub query: HistoryQuery,
    pub columns: Vec<Column>,
    /// Whether the admin changed the name offered (a free name found later
    /// then leaves it alone).
    pub edited: bool,
    /// Whether the export is being written (the prompt waits for the answer).
    pub writing: bool,
}

impl ExportPrompt {
    /// The prompt for the rows `query` matches, in `columns`, offering `path` as CSV.
    pub fn new(path: String, query: HistoryQuery, columns: Vec<Column>) -> ExportPrompt {
        ExportPrompt {
            path: Input::new(path),
            format: ExportFormat::Csv,
            error: None,
            query,
            columns,
            edited: false,
            writing: false,
        }
    }

    /// A name no file has yet, found after the prompt opened: offered unless
    /// the admin has typed their own.
    pub fn propose(&mut self, path: std::path::PathBuf) {
        if self.edited || self.writing {
            return;
        }
        let mut name = path.display().to_string();
        if self.format == ExportFormat::Json {
            if let Some(stem) = name.strip_suffix(".csv") {
                name = format!("{stem}.json");
            }
        }
        self.path = Input::new(name);
    }

    /// The export was refused (the file exists, the folder is missing): say
    /// why and wait for another name.
    pub fn refused(&mut self, e: &keyward_core::error::Error) {
        self.writing = false;
        self.error = Some(e.to_string());
    }
}

static EXPORT: &[Binding] = &[
    bind(
        &[TAB],
        Action::ToggleFormat,
        "switch between CSV and JSON",
        "format",
    ),
    bind(&[ENTER], Action::Confirm, "export", "export"),
    bind(&[ESC], Action::Cancel, "cancel", "cancel"),
];

pub const LAYER: Layer = Layer {
    name: "export",
    bindings: EXPORT,
    takes_text: true,
    note: "",
};

impl Window for ExportPrompt {
    fn layers() -> &'static [Layer] {
        &[LAYER]
    }

    fn layer(&self) -> Layer {
        LAYER
    }

    fn act(&mut self, action: Action, cx: &mut Cx) {
        let p = self;
        match action {
            Action::ToggleFormat => {
                let (from, to) = match p.format {
                    ExportFormat::Csv => (ExportFormat::Csv, ExportFormat::Json),
                    ExportFormat::Json => (ExportFormat::Json, ExportFormat::Csv),
                };
                p.format = to;
                let path = p.path.value();
                if let Some(stem) = path.strip_suffix(&format!(".{}", from.extension())) {
                    p.path = Input::new(format!("{stem}.{}", to.extension()));
                }
            }
            Action::Confirm if p.writing => {}
            Action::Confirm => {
                let path = p.path.value().trim();
                if path.is_empty() {
                    p.error = Some("give a file to write".to_owned());
                    return;
                }
                cx.effect(Effect::Export {
                    query: p.query.clone(),
                    columns: p.columns.clone(),
                    path: path.into(),
                    format: p.format,
                });
                p.error = None;
                p.writing = true;
            }
            Action::Cancel => cx.ask(Ask::Close),
            _ => {}
        }
    }

    fn type_text(&mut self, event: &Event) {
        if self.writing {
            return;
        }
        if self.path.handle_event(event).is_some_and(|c| c.value) {
            self.edited = true;
        }
        self.error = None;
    }

    fn draw(&self, _state: &State, theme: &Theme, frame: &mut Frame) {
        draw_prompt(self, theme, frame);
    }
}

fn draw_prompt(p: &ExportPrompt, theme: &Theme, frame: &mut Frame) {
    let inner = window(frame, 76, 8, " Export the history shown ".to_owned());
    let format = match p.format {
        ExportFormat::Csv => "CSV",
        ExportFormat::Json => "JSON",
    };
    let mut lines = vec![
        Line::from("Every row the filter matches, in the columns shown."),
        input_line("File ", 5, &p.path, true, theme),
        Line::from(vec![
            Span::styled("Format ", theme.header()),
            Span::raw(format),
            Span::styled("  (Tab switches)", theme.dim()),
        ]),
    ];
    if let Some(e) = &p.error {
        lines.push(error_line(e, theme));
    } else if p.writing {
        lines.push(Line::styled("Writing…", theme.dim()));
    }
    one_line_prompt(frame, inner, lines, &p.path);
}
