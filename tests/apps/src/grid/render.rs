//! Drawing one frame: a title line, the table, the status line and the
//! prompt (or message, or help) line.

use diorama_core::Value;
use diorama_core::scenery::{EnrichedRecord, RowStatus};
use diorama_core::vista::SortDir;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::data::thousands;
use super::model::{App, PromptKind};

/// Screen lines that are not table rows: title, header, status, prompt.
const CHROME: u16 = 4;

/// Table rows that fit a terminal `height` lines high.
pub fn table_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(CHROME)).max(1)
}

/// The placeholder of a cell whose row has not landed yet.
pub const PLACEHOLDER: &str = "…";

const HELP: &str =
    "↑↓ PgUp PgDn Home End move · g go to · / search · s sort · S reverse · e edit price · q quit";

/// Draw `app` into `frame`.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let [title, table, status, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(title_line(app), title);
    frame.render_widget(grid(app), table);
    frame.render_widget(status_line(app), status);
    frame.render_widget(bottom_line(app), bottom);
}

fn title_line(app: &App) -> Paragraph<'static> {
    let view = app.view();
    let query = view.query();
    let dataset = &app.session.dataset;
    let mut text = format!(
        " Diorama grid · {} · {} rows",
        dataset
            .db_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        thousands(view.row_count()),
    );
    if let Some(search) = &query.search {
        text.push_str(&format!(" · search {search:?}"));
    }
    if let Some(sort) = &query.sort {
        text.push_str(&format!(" · sort {} {}", sort.field, arrow(sort.dir)));
    }
    text.push_str(if app.session.warm {
        " · warm cache"
    } else {
        " · cold cache"
    });
    Paragraph::new(text).style(Style::new().add_modifier(Modifier::BOLD))
}

fn arrow(dir: SortDir) -> &'static str {
    match dir {
        SortDir::Asc => "▲",
        SortDir::Desc => "▼",
    }
}

/// Columns: header, width, right-aligned.
const COLUMNS: &[(&str, Constraint, bool)] = &[
    ("#", Constraint::Length(9), true),
    ("id", Constraint::Length(8), false),
    ("name", Constraint::Min(12), false),
    ("category", Constraint::Length(9), false),
    ("price", Constraint::Length(9), true),
    ("stock", Constraint::Length(5), true),
    ("updated_at", Constraint::Length(16), false),
    ("status", Constraint::Length(7), false),
];

fn grid(app: &App) -> Table<'static> {
    let sort = app.current_sort();
    let header = Row::new(COLUMNS.iter().map(|(name, _, right)| {
        let label = match &sort {
            Some((field, dir)) if field == name => format!("{name} {}", arrow(*dir)),
            _ => (*name).to_string(),
        };
        aligned(label, *right)
    }))
    .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let (range, rows) = app.visible();
    let body: Vec<Row<'static>> = range
        .zip(rows)
        .map(|(index, row)| {
            let line = match row {
                Some(row) => row_cells(index, &row),
                None => placeholder_cells(index),
            };
            if index == app.cursor {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    Table::new(body, COLUMNS.iter().map(|(_, width, _)| *width)).header(header)
}

fn aligned(text: String, right: bool) -> Cell<'static> {
    let line = Line::from(text);
    Cell::from(if right {
        line.alignment(Alignment::Right)
    } else {
        line
    })
}

fn row_cells(index: usize, row: &EnrichedRecord) -> Row<'static> {
    let field = |name: &str| match row.record.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::Text(text)) => text.clone(),
        Some(value) => value.to_string(),
    };
    let price = match row.record.get("price").and_then(Value::as_f64) {
        Some(price) => format!("{price:.2}"),
        None => field("price"),
    };
    let (label, color) = status_label(&row.status);
    Row::new(vec![
        aligned(thousands(index + 1), true),
        Cell::from(row.id.clone()),
        Cell::from(field("name")),
        Cell::from(field("category")),
        aligned(price, true),
        aligned(field("stock"), true),
        Cell::from(field("updated_at")),
        Cell::from(Span::styled(label, Style::new().fg(color))),
    ])
}

fn placeholder_cells(index: usize) -> Row<'static> {
    let dim = Style::new().fg(Color::DarkGray);
    let mut cells = vec![aligned(thousands(index + 1), true)];
    cells.extend((1..COLUMNS.len() - 1).map(|_| Cell::from(PLACEHOLDER)));
    cells.push(Cell::from("loading"));
    Row::new(cells).style(dim)
}

/// The word and color a row's status is shown with.
pub fn status_label(status: &RowStatus) -> (&'static str, Color) {
    match status {
        RowStatus::Fresh => ("fresh", Color::Green),
        RowStatus::Stale => ("stale", Color::Yellow),
        RowStatus::Loading => ("loading", Color::DarkGray),
        RowStatus::PendingWrite => ("pending", Color::Cyan),
        RowStatus::WriteFailed { .. } => ("failed", Color::Red),
        RowStatus::NotFound => ("gone", Color::Magenta),
    }
}

fn status_line(app: &App) -> Paragraph<'static> {
    let view = app.view();
    let stats = view.stats();
    // Most telling first: a narrow terminal cuts the end.
    let text = format!(
        " rows loaded {} · chunk loads {} · cache hits {} · pending writes {} · {:?} · gen {} · in flight {} · master calls {}",
        thousands(stats.rows_loaded as usize),
        stats.chunk_loads,
        thousands(stats.cache_hits as usize),
        app.session.dio.pending_writes(),
        view.load_state(),
        view.generation().0,
        stats.loads_in_flight,
        app.session.master_calls(),
    );
    Paragraph::new(text).style(Style::new().fg(Color::Black).bg(Color::Gray))
}

fn bottom_line(app: &App) -> Paragraph<'static> {
    if let Some(prompt) = &app.prompt {
        let label = match &prompt.kind {
            PromptKind::GoTo => "go to row: ".to_string(),
            PromptKind::Search => "search: ".to_string(),
            PromptKind::Price { id, .. } => format!("new price of {id}: "),
        };
        return Paragraph::new(format!(" {label}{}█", prompt.input));
    }
    // Errors first: a failed write of the selected row outranks news.
    if let Some((message, true)) = &app.message {
        return Paragraph::new(format!(" {message}")).style(Style::new().fg(Color::Red));
    }
    if let Some(row) = app.view().row(app.cursor)
        && let RowStatus::WriteFailed { error } = &row.status
    {
        return Paragraph::new(format!(" write to {} failed: {error}", row.id))
            .style(Style::new().fg(Color::Red));
    }
    if let Some((message, false)) = &app.message {
        return Paragraph::new(format!(" {message}"));
    }
    Paragraph::new(format!(" {HELP}")).style(Style::new().fg(Color::DarkGray))
}
