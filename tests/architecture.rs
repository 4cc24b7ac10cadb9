//! The core's modules import each other one way: a test reads `core/src` and fails on a new
//! import cycle between top-level modules, and on an arrow the layering forbids.
//!
//! An import is any `crate::<module>` path outside comments; `crate::<Item>` paths resolve
//! through the `pub use` lines of `lib.rs`. ARCHITECTURE.md draws the same picture.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The one known cycle: `config::Rules` holds the compiled pieces of `graph` (the blocklist),
/// `matching` (the plan) and `twin` (traits, consent, segments), and those modules, with
/// `prepare`, read `Rules`. Splitting it needs each module to take only its own compiled
/// piece. A new member, or a second cycle, fails the test; so does breaking this one (shrink
/// the list then).
const KNOWN_CYCLE: &[&str] = &["config", "graph", "matching", "prepare", "twin"];

/// Modules that import nothing of the crate but its error type, and arrows that must never
/// exist.
const LEAVES: &[&str] = &["error", "normalize", "parallel", "progress"];
const FORBIDDEN: &[(&str, &str)] = &[
    // The domain types sit below everything that computes with them.
    ("model", "config"),
    ("model", "graph"),
    ("model", "matching"),
    ("model", "twin"),
    ("model", "engine"),
    ("model", "io"),
    ("model", "store"),
    // Files and frames, and the durable store, never reach up into the engine or the views.
    ("io", "engine"),
    ("io", "store"),
    ("io", "html"),
    ("store", "engine"),
    ("store", "io"),
    ("store", "html"),
    // Only the views and the CLI sit above the engine.
    ("engine", "html"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("core/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<name>` paths in `text`, comments left out.
fn crate_paths(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                names.push(name);
            }
            rest = after;
        }
    }
    names
}

/// The module each item re-exported at the crate root comes from (`Engine` → `engine`).
fn root_items() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs is readable");
    let mut items = BTreeMap::new();
    let mut rest = lib.as_str();
    while let Some(at) = rest.find("pub use ") {
        let after = &rest[at + "pub use ".len()..];
        let end = after.find(';').expect("a pub use ends with ;");
        let statement = &after[..end];
        let module = statement.split("::").next().expect("a path").trim().to_owned();
        let names = match (statement.find('{'), statement.rfind('}')) {
            (Some(open), Some(close)) => statement[open + 1..close].to_owned(),
            _ => statement.rsplit("::").next().expect("a name").to_owned(),
        };
        for name in names.split(',') {
            let name = name.trim();
            if !name.is_empty() {
                items.insert(name.to_owned(), module.clone());
            }
        }
        rest = &after[end..];
    }
    items
}

/// Top-level module → the top-level modules its files import.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let items = root_items();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(&root).expect("core/src is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_stem().expect("a name").to_string_lossy().into_owned();
        if name != "lib" && name != "bin" {
            modules.insert(name);
        }
    }
    for module in &modules {
        let mut files = Vec::new();
        let dir = root.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(root.join(format!("{module}.rs")));
        }
        let deps = graph.entry(module.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file is readable");
            for name in crate_paths(&text) {
                let target = if modules.contains(&name) { Some(name.clone()) } else { items.get(&name).cloned() };
                match target {
                    Some(target) if &target != module => {
                        deps.insert(target);
                    }
                    Some(_) => {}
                    None => panic!("{}: crate::{name} is neither a module nor a root item", file.display()),
                }
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            loop {
                let w = s.stack.pop().expect("v is on the stack");
                s.on_stack.remove(w);
                component.insert(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[test]
fn the_only_import_cycle_is_the_known_one() {
    let graph = imports();
    let found = cycles(&graph);
    let known: BTreeSet<String> = KNOWN_CYCLE.iter().map(|m| m.to_string()).collect();
    let unexpected: Vec<_> = found.iter().filter(|c| **c != known).collect();
    assert!(unexpected.is_empty(), "new import cycles between core modules: {unexpected:?}\nimports: {graph:#?}");
    assert!(
        found.contains(&known),
        "the known cycle {KNOWN_CYCLE:?} is gone or smaller (found {found:?}): shrink KNOWN_CYCLE in tests/architecture.rs"
    );
}

#[test]
fn leaves_import_nothing_and_forbidden_arrows_do_not_exist() {
    let graph = imports();
    for leaf in LEAVES {
        let deps = graph.get(*leaf).unwrap_or_else(|| panic!("no module {leaf}"));
        let deps: Vec<_> = deps.iter().filter(|d| d.as_str() != "error").collect();
        assert!(deps.is_empty(), "{leaf} must import nothing of the crate but its errors; it imports {deps:?}");
    }
    assert!(graph["error"].is_empty(), "error imports {:?}", graph["error"]);
    for (from, to) in FORBIDDEN {
        assert!(
            !graph.get(*from).is_some_and(|deps| deps.contains(*to)),
            "{from} imports {to}: the layering in ARCHITECTURE.md forbids it"
        );
    }
}

#[test]
fn the_scanner_sees_imports_and_skips_comments() {
    // The test above is only as good as this scan: a path in code counts, one in a comment not.
    let text =
        "use crate::graph::Graph;\n// crate::engine in a comment\nlet x = crate::Engine::new(c); // crate::html\n";
    assert_eq!(crate_paths(text), vec!["graph", "Engine"]);
    let graph = imports();
    assert!(graph["engine"].contains("store"), "the engine uses the durable store: {:?}", graph["engine"]);
    assert!(graph["html"].contains("engine"), "the views use the engine: {:?}", graph["html"]);
    assert_eq!(root_items().get("Engine").map(String::as_str), Some("engine"));
}

#[test]
fn every_node_export_catches_panics() {
    // A panic that unwinds into Node aborts the process: every function napi exports is
    // wrapped in catch_unwind by its attribute (the calls' own guard turns panics inside the
    // core into InternalError; the attribute covers everything around it).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bindings-node/src");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let mut exports = 0;
    let mut unguarded = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file is readable");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("#[napi") {
                continue;
            }
            let mut end = i;
            while !lines[end].trim_end().ends_with(']') {
                end += 1;
            }
            let mut next = end + 1;
            while lines[next].trim_start().starts_with("#[") || lines[next].trim_start().starts_with("///") {
                next += 1;
            }
            let item = lines[next].trim_start();
            let is_fn =
                ["fn ", "pub fn ", "pub(crate) fn ", "async fn ", "pub async fn "].iter().any(|p| item.starts_with(p));
            if !is_fn {
                continue;
            }
            exports += 1;
            let attribute = lines[i..=end].join(" ");
            if !attribute.contains("catch_unwind") {
                unguarded.push(format!("{}:{}: {}", file.display(), next + 1, item));
            }
        }
    }
    assert!(exports > 50, "found only {exports} exports: the scan is broken");
    assert!(unguarded.is_empty(), "exports without #[napi(catch_unwind)]: {unguarded:#?}");
}
