//! Every component of the component-model spec tests (tier cm-sync) goes through weld's static
//! translation and inliner without a panic: each either flattens or gives an error. This guards
//! the translation code on real inputs until the runtime runs these tests.

use std::path::Path;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, Wat};

fn components_of(text: &str) -> Vec<Vec<u8>> {
    let Ok(buf) = ParseBuffer::new(text) else { return Vec::new() };
    let Ok(script) = parser::parse::<Wast>(&buf) else { return Vec::new() };
    let mut out = Vec::new();
    for directive in script.directives {
        let module = match directive {
            WastDirective::Module(m) | WastDirective::ModuleDefinition(m) => m,
            _ => continue,
        };
        if let mut q @ (QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..)) = module
            && let Ok(bytes) = q.encode()
        {
            out.push(bytes);
        }
    }
    out
}

#[test]
fn spec_components_translate_without_panics() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tests");
    let list = std::fs::read_to_string(shared.join("tiers/cm-sync.list")).expect("../shared/tests/tiers/cm-sync.list");
    let (mut ok, mut err, mut total) = (0, 0, 0);
    for file in list.lines().filter(|l| !l.trim().is_empty()) {
        let text = std::fs::read_to_string(shared.join(file)).unwrap();
        for bytes in components_of(&text) {
            total += 1;
            let result =
                weld_environ::component::translate::translate_component(&bytes, weld_environ::supported_features())
                    .and_then(|t| weld_environ::component::inline::inline(&t));
            match result {
                Ok(_) => ok += 1,
                Err(e) => {
                    err += 1;
                    if std::env::var_os("WELD_SHOW_ERRORS").is_some() {
                        println!("{file}: {e:#}");
                    }
                }
            }
        }
    }
    println!("{total} components: {ok} flattened, {err} errors");
    assert!(total > 50, "only {total} components found");
    // 223 flatten since resources are followed (197 before); the rest use async, maps,
    // fixed-length lists, exceptions or other unsupported features. The number may only grow.
    assert!(ok >= 223, "only {ok} of {total} components flattened");
}
