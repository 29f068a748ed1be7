//! Keys: crossterm key events to actions, and typing into the prompt.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::model::{Action, App, Prompt, PromptKind};

/// Apply `key` to `app`: edit the prompt when one is open, else run the
/// key's action.
pub fn handle_key(app: &mut App, key: KeyEvent) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        app.apply(Action::Quit);
        return;
    }
    if app.prompt.is_some() {
        prompt_key(app, key.code);
        return;
    }
    let action = match key.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up(1),
        KeyCode::Down | KeyCode::Char('j') => Action::Down(1),
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::Home => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Char('s') => Action::CycleSort,
        KeyCode::Char('S') => Action::ReverseSort,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('g') => return open_prompt(app, PromptKind::GoTo),
        KeyCode::Char('/') => return open_prompt(app, PromptKind::Search),
        KeyCode::Char('e') => {
            match app.view().row(app.cursor) {
                Some(row) => open_prompt(
                    app,
                    PromptKind::Price {
                        index: app.cursor,
                        id: row.id.clone(),
                    },
                ),
                None => app.message = Some(("that row is not loaded yet".into(), true)),
            }
            return;
        }
        _ => return,
    };
    app.message = None;
    app.apply(action);
}

fn open_prompt(app: &mut App, kind: PromptKind) {
    let input = match &kind {
        PromptKind::Search => app.view().query().search.unwrap_or_default(),
        _ => String::new(),
    };
    app.message = None;
    app.prompt = Some(Prompt { kind, input });
}

fn prompt_key(app: &mut App, code: KeyCode) {
    let Some(prompt) = app.prompt.as_mut() else {
        return;
    };
    match code {
        KeyCode::Esc => app.prompt = None,
        KeyCode::Backspace => {
            prompt.input.pop();
        }
        KeyCode::Char(c) => prompt.input.push(c),
        KeyCode::Enter => {
            let Some(prompt) = app.prompt.take() else {
                return;
            };
            match submit(&prompt) {
                Ok(action) => app.apply(action),
                Err(message) => app.message = Some((message, true)),
            }
        }
        _ => {}
    }
}

/// The action a submitted prompt asks for.
pub fn submit(prompt: &Prompt) -> Result<Action, String> {
    let input = prompt.input.trim();
    match &prompt.kind {
        PromptKind::GoTo => parse_row(input).map(Action::GoTo),
        PromptKind::Search => Ok(Action::Search(
            (!input.is_empty()).then(|| input.to_string()),
        )),
        PromptKind::Price { index, .. } => parse_price(input).map(|price| Action::EditPrice {
            index: *index,
            price,
        }),
    }
}

/// A row number: digits, with optional `,` or `_` separators.
pub fn parse_row(text: &str) -> Result<usize, String> {
    let digits: String = text.chars().filter(|c| *c != ',' && *c != '_').collect();
    digits
        .parse::<usize>()
        .map_err(|_| format!("{text:?} is not a row number"))
}

/// A price: a finite decimal number.
pub fn parse_price(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(price) if price.is_finite() => Ok(price),
        _ => Err(format!("{text:?} is not a price")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_parse_their_input() {
        let goto = Prompt {
            kind: PromptKind::GoTo,
            input: " 500,000 ".into(),
        };
        assert_eq!(submit(&goto), Ok(Action::GoTo(500_000)));
        let search = Prompt {
            kind: PromptKind::Search,
            input: "".into(),
        };
        assert_eq!(submit(&search), Ok(Action::Search(None)));
        let price = Prompt {
            kind: PromptKind::Price {
                index: 3,
                id: "p0000004".into(),
            },
            input: "19.99".into(),
        };
        assert_eq!(
            submit(&price),
            Ok(Action::EditPrice {
                index: 3,
                price: 19.99
            })
        );
        assert!(parse_price("NaN").is_err());
        assert!(parse_row("ten").is_err());
    }
}
