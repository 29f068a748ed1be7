//! The core's modules form layers that import one way (see the crate docs):
//! no module names a module of a higher layer, in code (`crate::…` paths,
//! including the crate root's re-exports). Comments and doc links may
//! mention anything.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may use its own layer and those below.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["value", "sync", "runtime", "sim"],
    &["vista", "cache"],
    &["dio"],
    &["scenery"],
    &["lens"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of `source` without `//` comments (string literals containing
/// `//` do not occur in `crate::` paths, so a plain cut is enough here).
fn code_lines(source: &str) -> impl Iterator<Item = &str> {
    source.lines().map(|line| match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    })
}

/// Top-level names re-exported by lib.rs (`pub use module::{A, B}`), so
/// `crate::Dio` counts as a use of `dio`.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for line in code_lines(lib) {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        let items = items
            .trim_end_matches(';')
            .trim_matches(|c| c == '{' || c == '}');
        for item in items.split(',') {
            let item = item.trim();
            if !item.is_empty() {
                names.insert(item.to_string(), module.to_string());
            }
        }
    }
    names
}

/// Every module a `crate::` path in `code` names; `crate::{a::X, B}`
/// groups count each member, across lines.
fn referenced_modules(code: &str, reexports: &BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let mut names: Vec<&str> = Vec::new();
        if let Some(group) = rest.strip_prefix('{') {
            // Members at the group's top level, up to its matching brace.
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(&group[start..i]);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(rest);
        }
        for name in names {
            let ident: String = name
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if layer_of(&ident).is_some() {
                found.push(ident);
            } else if let Some(module) = reexports.get(&ident) {
                found.push(module.clone());
            }
        }
    }
    found
}

#[test]
fn no_module_imports_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let reexports = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let module = top.to_str().unwrap().trim_end_matches(".rs");
        if module == "lib" {
            continue;
        }
        let own = layer_of(module).unwrap_or_else(|| {
            panic!("module `{module}` has no layer: add it to LAYERS and the crate docs")
        });
        let source = fs::read_to_string(&file).unwrap();
        let code: Vec<&str> = code_lines(&source).collect();
        for used in referenced_modules(&code.join("\n"), &reexports) {
            checked += 1;
            if layer_of(&used).unwrap() > own {
                violations.push(format!(
                    "{}: `{module}` uses `{used}`, a higher layer",
                    relative.display()
                ));
            }
        }
    }
    assert!(checked > 100, "the scan found only {checked} crate:: paths");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_scan_sees_grouped_and_reexported_paths() {
    let reexports = root_reexports("pub use dio::{Dio, DioEvent};\npub use lens::Lens;");
    assert_eq!(
        referenced_modules(
            "use crate::{\n    lens::{Lens, LensBuilder},\n    Dio,\n};",
            &reexports
        ),
        vec!["lens".to_string(), "dio".to_string()]
    );
    assert_eq!(
        referenced_modules(
            "let x = crate::scenery::open(crate::Lens::new());",
            &reexports
        ),
        vec!["scenery".to_string(), "lens".to_string()]
    );
    let code: Vec<&str> = code_lines("use crate::error; // see crate::lens").collect();
    assert_eq!(
        referenced_modules(&code.join("\n"), &reexports),
        vec!["error".to_string()]
    );
}
