//! Drawing one frame: a title line, the table, the status line and the
//! prompt (or message, or help) line.

use diorama_core::Value;
use diorama_core::scenery::{EnrichedRecord, LoadState, RowStatus};
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
    frame.render_widget(title_line(app, title.width), title);
    frame.render_widget(grid(app, table.width), table);
    frame.render_widget(status_line(app, status.width), status);
    frame.render_widget(bottom_line(app), bottom);
}

fn title_line(app: &App, width: u16) -> Paragraph<'static> {
    let view = app.view();
    // The query of the rows on screen (the previous one until a new
    // order's first window lands).
    let query = view.shown_query();
    // While a new query's size is not known yet, say so rather than show
    // the rows known so far (`0 rows` while a search counts).
    let rows = if app.counting() {
        "counting rows…".to_string()
    } else {
        format!("{} rows", thousands(view.row_count()))
    };
    let mut parts = vec![
        " Diorama grid".to_string(),
        app.session.source.label(),
        rows,
    ];
    if let Some(search) = &query.search {
        parts.push(format!("search {search:?}"));
    }
    if let Some(sort) = &query.sort {
        parts.push(format!("sort {} {}", sort.field, arrow(sort.dir)));
    }
    parts.push(
        if app.session.warm {
            "warm cache"
        } else {
            "cold cache"
        }
        .to_string(),
    );
    // Whole parts only, in order, as many as fit.
    let mut text = String::new();
    for part in parts {
        let next = if text.is_empty() {
            part
        } else {
            format!("{text} · {part}")
        };
        if next.chars().count() > usize::from(width) && !text.is_empty() {
            break;
        }
        text = next;
    }
    Paragraph::new(text).style(Style::new().add_modifier(Modifier::BOLD))
}

fn arrow(dir: SortDir) -> &'static str {
    match dir {
        SortDir::Asc => "▲",
        SortDir::Desc => "▼",
    }
}

/// Columns: header, width, right-aligned.
const COLUMNS: &[(&str, u16, bool)] = &[
    ("#", 9, true),
    ("id", 8, false),
    ("name", 12, false),
    ("category", 9, false),
    ("price", 9, true),
    ("stock", 5, true),
    ("updated_at", 16, false),
    ("status", 7, false),
];
/// The index of the name column, which takes the room left over.
const NAME: usize = 2;
/// Columns left out, in this order, while the table does not fit: the
/// least needed first. What remains keeps its full width, so a value is
/// never cut by a squeezed column.
const DROP_ORDER: &[usize] = &[6, 3, 7, 0, 5];

/// The columns shown in a table `width` cells wide and their widths
/// (one cell between columns); the name column gets what is left.
pub fn column_layout(width: u16) -> Vec<(usize, u16)> {
    let mut shown: Vec<usize> = (0..COLUMNS.len()).collect();
    let needed = |shown: &[usize]| -> u16 {
        shown.iter().map(|&c| COLUMNS[c].1).sum::<u16>() + shown.len().saturating_sub(1) as u16
    };
    for &drop in DROP_ORDER {
        if needed(&shown) <= width {
            break;
        }
        shown.retain(|&c| c != drop);
    }
    let spare = width.saturating_sub(needed(&shown));
    shown
        .into_iter()
        .map(|c| {
            let w = if c == NAME {
                COLUMNS[c].1 + spare
            } else {
                COLUMNS[c].1
            };
            (c, w)
        })
        .collect()
}

/// `text` (a number as written) fitted to `width` cells: as it is when it
/// fits, else in scientific notation with as many digits as fit, else `…`.
/// Never cut: a cut number reads as another number.
pub fn fit_number(text: &str, value: Option<f64>, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if let Some(value) = value.filter(|v| v.is_finite()) {
        for digits in (0..=3).rev() {
            let short = format!("{value:.digits$e}");
            if short.chars().count() <= width {
                return short;
            }
        }
    }
    PLACEHOLDER.to_string()
}

/// `text` fitted to `width` cells, ending in `…` when cut.
fn fit_text(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push_str(PLACEHOLDER);
    cut
}

fn grid(app: &App, width: u16) -> Table<'static> {
    let layout = column_layout(width);
    let sort = app.shown_sort();
    let header = Row::new(layout.iter().map(|&(c, w)| {
        let (name, _, right) = COLUMNS[c];
        let label = match &sort {
            Some((field, dir)) if field == name => format!("{name} {}", arrow(*dir)),
            _ => name.to_string(),
        };
        aligned(fit_text(&label, usize::from(w)), right)
    }))
    .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let (range, rows) = app.visible();
    let body: Vec<Row<'static>> = range
        .zip(rows)
        .map(|(index, row)| {
            let line = match row {
                Some(row) => row_cells(index, &row, &layout),
                None => placeholder_cells(index, &layout),
            };
            if index == app.cursor {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    Table::new(body, layout.iter().map(|&(_, w)| Constraint::Length(w))).header(header)
}

fn aligned(text: String, right: bool) -> Cell<'static> {
    let line = Line::from(text);
    Cell::from(if right {
        line.alignment(Alignment::Right)
    } else {
        line
    })
}

fn row_cells(index: usize, row: &EnrichedRecord, layout: &[(usize, u16)]) -> Row<'static> {
    let field = |name: &str| match row.record.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::Text(text)) => text.clone(),
        Some(value) => value.to_string(),
    };
    let number = |name: &str| row.record.get(name).and_then(Value::as_f64);
    let (label, color) = status_label(&row.status);
    let cells = layout.iter().map(|&(c, w)| {
        let w = usize::from(w);
        match COLUMNS[c].0 {
            "#" => aligned(
                fit_number(&thousands(index + 1), Some((index + 1) as f64), w),
                true,
            ),
            "id" => Cell::from(fit_text(&row.id, w)),
            "price" => {
                let text = match number("price") {
                    Some(price) => format!("{price:.2}"),
                    None => field("price"),
                };
                aligned(fit_number(&text, number("price"), w), true)
            }
            "stock" => aligned(fit_number(&field("stock"), number("stock"), w), true),
            "status" => Cell::from(Span::styled(label, Style::new().fg(color))),
            name => Cell::from(fit_text(&field(name), w)),
        }
    });
    Row::new(cells.collect::<Vec<_>>())
}

fn placeholder_cells(index: usize, layout: &[(usize, u16)]) -> Row<'static> {
    let dim = Style::new().fg(Color::DarkGray);
    let cells = layout.iter().map(|&(c, w)| match COLUMNS[c].0 {
        "#" => aligned(
            fit_number(
                &thousands(index + 1),
                Some((index + 1) as f64),
                usize::from(w),
            ),
            true,
        ),
        "status" => Cell::from("loading"),
        _ => Cell::from(PLACEHOLDER),
    });
    Row::new(cells.collect::<Vec<_>>()).style(dim)
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

/// The load state in words.
pub fn load_state_words(state: LoadState) -> &'static str {
    match state {
        LoadState::Loading => "loading",
        LoadState::Partial => "partly loaded",
        LoadState::Complete => "all loaded",
    }
}

/// The status line for a terminal `width` cells wide: each item in its
/// long form if all fit, else in its short form, else as many whole items
/// as fit, most telling first. An item is never cut.
pub fn status_text(items: &[(String, String)], width: usize) -> String {
    let join = |parts: Vec<&str>| format!(" {}", parts.join(" · "));
    let long = join(items.iter().map(|(l, _)| l.as_str()).collect());
    if long.chars().count() <= width {
        return long;
    }
    let mut short: Vec<&str> = items.iter().map(|(_, s)| s.as_str()).collect();
    while short.len() > 1 && join(short.clone()).chars().count() > width {
        short.pop();
    }
    let text = join(short);
    if text.chars().count() <= width {
        text
    } else {
        String::new()
    }
}

fn status_line(app: &App, width: u16) -> Paragraph<'static> {
    let view = app.view();
    let stats = view.stats();
    let item = |long: String, short: String| (long, short);
    let calls = app.session.master_calls();
    let pending = app.session.dio.pending_writes();
    let mut items = vec![item(
        format!("master calls {calls}"),
        format!("calls {calls}"),
    )];
    // Loads that failed (a master away, a remote service stopped): told
    // early, since the rows they were for stay placeholders until a
    // viewport reaches them again.
    if stats.chunk_failures > 0 {
        let failed = stats.chunk_failures;
        items.push(item(
            format!("failed loads {failed}"),
            format!("failed {failed}"),
        ));
    }
    items.extend([
        item(
            format!("rows loaded {}", thousands(stats.rows_loaded as usize)),
            format!("loaded {}", thousands(stats.rows_loaded as usize)),
        ),
        item(
            format!("pending writes {pending}"),
            format!("pending {pending}"),
        ),
        item(
            load_state_words(view.load_state()).to_string(),
            load_state_words(view.load_state()).to_string(),
        ),
        item(
            format!("chunk loads {}", stats.chunk_loads),
            format!("chunks {}", stats.chunk_loads),
        ),
        item(
            format!("cache hits {}", thousands(stats.cache_hits as usize)),
            format!("hits {}", thousands(stats.cache_hits as usize)),
        ),
        item(
            format!("loading {} chunks", stats.loads_in_flight),
            format!("in flight {}", stats.loads_in_flight),
        ),
        item(
            format!("generation {}", view.generation().0),
            format!("gen {}", view.generation().0),
        ),
    ]);
    Paragraph::new(status_text(&items, usize::from(width)))
        .style(Style::new().fg(Color::Black).bg(Color::Gray))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fit_or_become_an_ellipsis() {
        assert_eq!(fit_number("305.14", Some(305.14), 9), "305.14");
        assert_eq!(
            fit_number(&format!("{:.2}", 1e300), Some(1e300), 9),
            "1.000e300"
        );
        assert_eq!(
            fit_number("12345678901234567890", Some(1.2345678901234567e19), 5),
            "1e19"
        );
        assert_eq!(fit_number("305.14", Some(305.14), 3), "3e2");
        assert_eq!(fit_number("305.14", Some(305.14), 2), "…");
        assert_eq!(fit_number("abcdef", None, 3), "…");
    }

    #[test]
    fn the_status_line_shortens_then_drops_whole_items() {
        let items = [
            ("master calls 17".to_string(), "calls 17".to_string()),
            ("rows loaded 1,000".to_string(), "loaded 1,000".to_string()),
        ];
        assert_eq!(
            status_text(&items, 80),
            " master calls 17 · rows loaded 1,000"
        );
        assert_eq!(status_text(&items, 30), " calls 17 · loaded 1,000");
        assert_eq!(status_text(&items, 12), " calls 17");
        assert_eq!(status_text(&items, 5), "");
    }

    #[test]
    fn narrow_tables_leave_columns_out_and_keep_widths() {
        let all = column_layout(120);
        assert_eq!(all.len(), COLUMNS.len());
        let narrow = column_layout(50);
        let names: Vec<&str> = narrow.iter().map(|&(c, _)| COLUMNS[c].0).collect();
        assert_eq!(names, ["#", "id", "name", "price", "stock"]);
        assert!(narrow.iter().all(|&(c, w)| w >= COLUMNS[c].1));
        let used: u16 = narrow.iter().map(|&(_, w)| w).sum::<u16>() + 4;
        assert_eq!(used, 50);
    }
}
