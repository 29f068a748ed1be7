//! Scripts: the commands of `--script`, parsed and turned into actions.
//!
//! Commands are separated by `;` or newlines; keywords are
//! case-insensitive.
//!
//! | command | does |
//! |---|---|
//! | `goto N` | row number `N` (1-based) at the top of the screen, selected |
//! | `down N`, `up N` | move the selection `N` rows (default 1) |
//! | `pagedown`, `pageup`, `home`, `end` | as the keys |
//! | `search TEXT` | search (pushed to SQLite); `search` alone clears it |
//! | `sort COLUMN [asc\|desc]` | sort (pushed to SQLite); `sort none` clears it |
//! | `edit LINE PRICE` | set the price of the row on screen line `LINE` (1 = first row shown) |
//! | `key NAME` | press a key as on the terminal: `up`, `down`, `pageup`, `pagedown`, `home`, `end`, `enter`, `esc`, `backspace`, or one character (`key g`, `key /`) |
//! | `type TEXT` | type TEXT into the open prompt, one key per character |
//! | `wait` | let loads and writes settle (every command does this anyway) |
//! | `quit` | stop here: the write queue drains, the cache flushes |

use crossterm::event::{KeyCode, KeyEvent};
use diorama_core::vista::SortDir;
use diorama_core::{Error, Result};

use super::keys::{parse_price, parse_row};
use super::model::{Action, FIELDS};

/// One script command.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// An action as a key would trigger it.
    Act(Action),
    /// Edit the price of the row on screen line `line` (1-based).
    Edit {
        /// Line on screen, 1 = first row shown.
        line: usize,
        /// The new price.
        price: f64,
    },
    /// Key presses, as the terminal would deliver them.
    Keys(Vec<KeyEvent>),
    /// Let loads and writes settle.
    Wait,
    /// Stop.
    Quit,
}

/// Parse a script.
///
/// Errors: `InvalidInput` naming the command that cannot be read.
pub fn parse_script(text: &str) -> Result<Vec<(String, Command)>> {
    text.split([';', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            parse_command(c)
                .map(|command| (c.to_string(), command))
                .map_err(|e| Error::invalid_input(format!("script command {c:?}: {e}")))
        })
        .collect()
}

fn parse_command(text: &str) -> std::result::Result<Command, String> {
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    let count = |rest: &str| {
        if rest.is_empty() {
            Ok(1)
        } else {
            parse_row(rest)
        }
    };
    let act = Command::Act;
    Ok(match word.to_ascii_lowercase().as_str() {
        "goto" => act(Action::GoTo(parse_row(rest)?)),
        "down" => act(Action::Down(count(rest)?)),
        "up" => act(Action::Up(count(rest)?)),
        "pagedown" => act(Action::PageDown),
        "pageup" => act(Action::PageUp),
        "home" => act(Action::Home),
        "end" => act(Action::End),
        "search" => act(Action::Search((!rest.is_empty()).then(|| rest.to_string()))),
        "sort" => act(Action::Sort(parse_sort(rest)?)),
        "edit" => {
            let mut parts = rest.split_whitespace();
            let (Some(line), Some(price), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err("expected `edit LINE PRICE`".into());
            };
            let line = parse_row(line)?;
            if line == 0 {
                return Err("screen lines start at 1".into());
            }
            Command::Edit {
                line,
                price: parse_price(price)?,
            }
        }
        "key" => Command::Keys(vec![KeyEvent::from(parse_key(rest)?)]),
        "type" if !rest.is_empty() => Command::Keys(
            rest.chars()
                .map(|c| KeyEvent::from(KeyCode::Char(c)))
                .collect(),
        ),
        "type" => return Err("expected `type TEXT`".into()),
        "wait" => Command::Wait,
        "quit" => Command::Quit,
        other => return Err(format!("unknown command {other:?}")),
    })
}

fn parse_key(name: &str) -> std::result::Result<KeyCode, String> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(KeyCode::Char(c));
    }
    Ok(match name.to_ascii_lowercase().as_str() {
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "backspace" => KeyCode::Backspace,
        _ => return Err(format!("unknown key {name:?}")),
    })
}

fn parse_sort(rest: &str) -> std::result::Result<Option<(String, SortDir)>, String> {
    let mut parts = rest.split_whitespace();
    let column = match parts.next() {
        None => return Ok(None),
        Some(c) if c.eq_ignore_ascii_case("none") => return Ok(None),
        Some(c) => c,
    };
    if !FIELDS.contains(&column) {
        return Err(format!(
            "cannot sort by {column:?}: columns are {}",
            FIELDS.join(", ")
        ));
    }
    let dir = match parts.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => SortDir::Asc,
        Some("desc") => SortDir::Desc,
        Some(other) => return Err(format!("{other:?} is not asc or desc")),
    };
    if parts.next().is_some() {
        return Err("expected `sort COLUMN [asc|desc]`".into());
    }
    Ok(Some((column.to_string(), dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_parses() {
        let script =
            parse_script("goto 500000; search lamp; sort price; edit 7 19.99; quit").unwrap();
        let commands: Vec<Command> = script.into_iter().map(|(_, c)| c).collect();
        assert_eq!(
            commands,
            vec![
                Command::Act(Action::GoTo(500_000)),
                Command::Act(Action::Search(Some("lamp".into()))),
                Command::Act(Action::Sort(Some(("price".into(), SortDir::Asc)))),
                Command::Edit {
                    line: 7,
                    price: 19.99
                },
                Command::Quit,
            ]
        );
    }

    #[test]
    fn bad_commands_are_named() {
        for bad in [
            "jump 3",
            "sort id",
            "sort price sideways",
            "edit 7",
            "edit 0 1",
            "goto x",
        ] {
            let error = parse_script(bad).unwrap_err();
            assert!(error.message().contains(bad), "{error}");
        }
        assert_eq!(
            parse_script("search; sort none\nDOWN").unwrap()[2].1,
            Command::Act(Action::Down(1))
        );
        assert_eq!(
            parse_script("key PgDn; type 12").unwrap()[1].1,
            Command::Keys(vec![
                KeyEvent::from(KeyCode::Char('1')),
                KeyEvent::from(KeyCode::Char('2'))
            ])
        );
    }
}
