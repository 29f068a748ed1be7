//! The grid's state: the session, the cursor and the scroll position, the
//! prompt, and the actions keys and scripts trigger.

use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use diorama_core::scenery::EnrichedRecord;
use diorama_core::sync::watch::Generation;
use diorama_core::vista::{Id, Sort, SortDir};
use diorama_core::{Record, TableScenery};

use super::notices;
use super::session::Session;

/// The record fields, in column order; the ones a sort may name.
pub const FIELDS: &[&str] = &["name", "category", "price", "stock", "updated_at"];

/// What `s` steps through: no sort, then each column ascending and descending.
const SORT_CYCLE: &[(&str, SortDir)] = &[
    ("price", SortDir::Asc),
    ("price", SortDir::Desc),
    ("name", SortDir::Asc),
    ("name", SortDir::Desc),
    ("stock", SortDir::Asc),
    ("stock", SortDir::Desc),
    ("updated_at", SortDir::Asc),
    ("updated_at", SortDir::Desc),
    ("category", SortDir::Asc),
    ("category", SortDir::Desc),
];

/// Something the user (or a script) asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Move the cursor up this many rows.
    Up(usize),
    /// Move the cursor down this many rows.
    Down(usize),
    /// One screen up.
    PageUp,
    /// One screen down.
    PageDown,
    /// The first row.
    Home,
    /// The last row.
    End,
    /// Row number `n` (1-based), shown at the top of the screen.
    GoTo(usize),
    /// Search for this text (`None` clears the search).
    Search(Option<String>),
    /// Sort by `(column, direction)` (`None` clears the sort).
    Sort(Option<(String, SortDir)>),
    /// The next sort of the cycle.
    CycleSort,
    /// The current sort, the other way round.
    ReverseSort,
    /// Set the price of the row at this index (0-based, of the current order).
    EditPrice {
        /// Index of the row.
        index: usize,
        /// The new price.
        price: f64,
    },
    /// Leave (the caller drains the write queue and flushes the cache).
    Quit,
}

/// What a prompt is asking for.
#[derive(Clone, Debug, PartialEq)]
pub enum PromptKind {
    /// A row number to go to.
    GoTo,
    /// A search text.
    Search,
    /// A new price for the row at `index` (`id` is shown).
    Price {
        /// Index of the row being edited.
        index: usize,
        /// Its id.
        id: Id,
    },
}

/// A line being typed at the bottom of the screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    /// What the line is for.
    pub kind: PromptKind,
    /// What was typed so far.
    pub input: String,
}

/// The grid's state.
#[derive(Debug)]
pub struct App {
    /// The Diorama side.
    pub session: Session,
    /// Index of the selected row.
    pub cursor: usize,
    /// Index of the first row on screen.
    pub top: usize,
    /// Rows the table shows at once (from the terminal height).
    pub page: usize,
    /// The prompt being typed, if any.
    pub prompt: Option<Prompt>,
    /// The last message and whether it reports an error.
    pub message: Option<(String, bool)>,
    /// Set by [`Action::Quit`].
    pub quit: bool,
    requested: Option<Range<usize>>,
    /// A search was set or cleared at this generation and its rows have not
    /// landed yet (the title says the rows are being counted).
    search_pending: Option<Generation>,
    /// The row the cursor was on when a search was cleared, its screen
    /// line, and where the master says it is now (once it answered).
    relocating: Option<Relocation>,
}

/// Finding the cursor's row again after a search is cleared.
#[derive(Debug)]
struct Relocation {
    line: usize,
    found: Arc<Mutex<Option<Option<usize>>>>,
}

impl App {
    /// A grid over `session` showing `page` rows at once.
    pub fn new(session: Session, page: usize) -> Self {
        // What opening the cache found (moved aside, rolled back) is the
        // first thing on screen.
        let message = session.cache_notice.clone().map(|notice| (notice, true));
        App {
            session,
            cursor: 0,
            top: 0,
            page: page.max(1),
            prompt: None,
            message,
            quit: false,
            requested: None,
            search_pending: None,
            relocating: None,
        }
    }

    /// True while a new search's rows (and their number) have not landed.
    pub fn counting(&self) -> bool {
        self.search_pending.is_some() || self.view().estimated_total().is_none()
    }

    /// True while the cursor waits to be put back on its row after a
    /// search was cleared.
    pub fn relocating(&self) -> bool {
        self.relocating.is_some()
    }

    /// Notice a search's rows landing (clear its note) and the master's
    /// answer for the row to keep the cursor on.
    fn follow_changes(&mut self) {
        let view = self.view().id();
        while let Ok(event) = self.session.events.try_recv() {
            if let Some(notice) = notices::notice(&event, view) {
                self.message = Some((notice, true));
            }
        }
        if let Some(asked) = self.search_pending {
            let view = self.view();
            let range = self.visible_range();
            let landed = view.generation() != asked
                && view.stats().loads_in_flight == 0
                && view.estimated_total().is_some()
                && view.rows(range).iter().all(Option::is_some);
            if landed {
                self.search_pending = None;
                if matches!(&self.message, Some((m, false)) if m.starts_with("searching ")) {
                    self.message = None;
                }
            }
        }
        let answer = self.relocating.as_ref().and_then(|r| {
            r.found
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .map(|found| (r.line, found))
        });
        if let Some((line, found)) = answer {
            self.relocating = None;
            if let Some(at) = found {
                self.cursor = at;
                self.top = at.saturating_sub(line);
            }
        }
    }

    /// The scenery shown.
    pub fn view(&self) -> &TableScenery {
        &self.session.view
    }

    /// The rows on screen: indices and rows (`None` while not loaded).
    pub fn visible(&self) -> (Range<usize>, Vec<Option<Arc<EnrichedRecord>>>) {
        let range = self.visible_range();
        let rows = self.view().rows(range.clone());
        (range, rows)
    }

    /// The indices on screen: a page from `top`, within the set when its
    /// size is known.
    pub fn visible_range(&self) -> Range<usize> {
        let view = self.view();
        let end = self.top + self.page;
        match view.estimated_total() {
            Some(_) => self.top..end.min(view.row_count()).max(self.top),
            None => self.top..end,
        }
    }

    /// The viewport last handed to the scenery.
    pub fn requested(&self) -> Option<Range<usize>> {
        self.requested.clone()
    }

    /// Set the number of rows shown at once (a resize).
    pub fn set_page(&mut self, page: usize) {
        self.page = page.max(1);
    }

    /// Keep the cursor and the scroll position inside the set and hand the
    /// rows on screen to the scenery as its viewport when they changed.
    /// Called before every frame.
    pub fn sync_viewport(&mut self) {
        self.follow_changes();
        let view = self.view();
        let count = view.row_count();
        let known = view.estimated_total().is_some();
        if known {
            self.cursor = self.cursor.min(count.saturating_sub(1));
        }
        if self.cursor < self.top {
            self.top = self.cursor;
        }
        if self.cursor >= self.top + self.page {
            self.top = self.cursor + 1 - self.page;
        }
        if known {
            self.top = self.top.min(count.saturating_sub(self.page));
        }
        let range = self.visible_range();
        if self.requested.as_ref() != Some(&range) {
            self.view().set_viewport(range.clone());
            self.requested = Some(range);
        }
    }

    /// Do `action`; a refusal is shown as an error message.
    pub fn apply(&mut self, action: Action) {
        if let Err(message) = self.try_apply(action) {
            self.message = Some((message, true));
        }
    }

    fn try_apply(&mut self, action: Action) -> Result<(), String> {
        let last = self.view().row_count().saturating_sub(1);
        match action {
            Action::Up(n) => self.cursor = self.cursor.saturating_sub(n),
            Action::Down(n) => self.cursor = self.cursor.saturating_add(n).min(last),
            Action::PageUp => {
                self.cursor = self.cursor.saturating_sub(self.page);
                self.top = self.top.saturating_sub(self.page);
            }
            Action::PageDown => {
                self.cursor = self.cursor.saturating_add(self.page).min(last);
                self.top = self.top.saturating_add(self.page);
            }
            Action::Home => {
                self.cursor = 0;
                self.top = 0;
            }
            Action::End => {
                self.cursor = last;
                self.top = last;
            }
            Action::GoTo(n) => {
                if n == 0 || n > last + 1 {
                    return Err(format!("no row {n}: rows are 1 to {}", last + 1));
                }
                self.cursor = n - 1;
                self.top = n - 1;
            }
            Action::Search(text) => {
                let text = text.filter(|t| !t.trim().is_empty());
                let had_search = self.view().query().search.is_some();
                let keep = self.view().row(self.cursor).map(|row| row.id.clone());
                let line = self.cursor.saturating_sub(self.top);
                let before = self.view().generation();
                self.view()
                    .set_search(text.clone())
                    .map_err(|e| e.to_string())?;
                self.go_top();
                self.search_pending = Some(before);
                // Cleared: find the selected row in the whole set again.
                if let (true, None, Some(id)) = (had_search, &text, keep) {
                    self.relocate(id, line);
                }
                self.message = Some((
                    match text {
                        Some(text) => format!("searching {text:?}"),
                        None => "search cleared".into(),
                    },
                    false,
                ));
            }
            Action::Sort(sort) => self.sort(sort)?,
            Action::CycleSort => {
                let current = self.current_sort();
                let at = current.and_then(|(field, dir)| {
                    SORT_CYCLE
                        .iter()
                        .position(|(f, d)| *f == field && *d == dir)
                });
                let next = match at {
                    None => Some(SORT_CYCLE[0]),
                    Some(i) if i + 1 < SORT_CYCLE.len() => Some(SORT_CYCLE[i + 1]),
                    Some(_) => None,
                };
                self.sort(next.map(|(f, d)| (f.to_string(), d)))?;
            }
            Action::ReverseSort => {
                if let Some((field, dir)) = self.current_sort() {
                    let dir = match dir {
                        SortDir::Asc => SortDir::Desc,
                        SortDir::Desc => SortDir::Asc,
                    };
                    self.sort(Some((field, dir)))?;
                }
            }
            Action::EditPrice { index, price } => self.edit_price(index, price)?,
            Action::Quit => self.quit = true,
        }
        Ok(())
    }

    /// The current sort column and direction.
    pub fn current_sort(&self) -> Option<(String, SortDir)> {
        self.view().query().sort.map(|s: Sort| (s.field, s.dir))
    }

    /// The sort of the rows on screen: after `s` it is still the previous
    /// one until the new order's first window lands, so the header never
    /// labels rows of the old order with the new sort.
    pub fn shown_sort(&self) -> Option<(String, SortDir)> {
        self.view()
            .shown_query()
            .sort
            .map(|s: Sort| (s.field, s.dir))
    }

    fn sort(&mut self, sort: Option<(String, SortDir)>) -> Result<(), String> {
        if let Some((field, _)) = &sort
            && !FIELDS.contains(&field.as_str())
        {
            return Err(format!(
                "cannot sort by {field:?}: columns are {}",
                FIELDS.join(", ")
            ));
        }
        let (column, dir) = match &sort {
            Some((field, dir)) => (Some(field.clone()), *dir),
            None => (None, SortDir::Asc),
        };
        self.view()
            .set_sort(column, dir)
            .map_err(|e| e.to_string())?;
        self.go_top();
        self.message = Some((
            match sort {
                Some((field, dir)) => format!("sorted by {field} {}", dir_word(dir)),
                None => "unsorted".into(),
            },
            false,
        ));
        Ok(())
    }

    /// A new query starts at its first row.
    /// Ask the master where row `id` is in the current query; the cursor
    /// moves there (on screen line `line`) when it answers, if the row is
    /// in the set.
    fn relocate(&mut self, id: Id, line: usize) {
        let found = Arc::new(Mutex::new(None));
        let slot = found.clone();
        // A remote source cannot say where a row is: the cursor stays on top.
        let Some(master) = self.session.master.clone() else {
            return;
        };
        let query = self.view().query();
        self.session.count_master_call();
        smol::spawn(async move {
            let at = master.position(&query, &id).await.ok().flatten();
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
        })
        .detach();
        self.relocating = Some(Relocation { line, found });
    }

    fn go_top(&mut self) {
        self.cursor = 0;
        self.top = 0;
    }

    fn edit_price(&mut self, index: usize, price: f64) -> Result<(), String> {
        if !price.is_finite() {
            return Err(format!("{price} is not a price"));
        }
        let row = self
            .view()
            .row(index)
            .ok_or_else(|| format!("row {} is not loaded yet", index + 1))?;
        let price = (price * 100.0).round() / 100.0;
        self.session
            .dio
            .try_patch(row.id.clone(), Record::new().with("price", price))
            .map_err(|e| format!("price of {} not queued: {e}", row.id))?;
        self.cursor = index;
        self.message = Some((format!("price of {} set to {price:.2}", row.id), false));
        Ok(())
    }
}

/// `asc` / `desc`.
pub fn dir_word(dir: SortDir) -> &'static str {
    match dir {
        SortDir::Asc => "asc",
        SortDir::Desc => "desc",
    }
}
