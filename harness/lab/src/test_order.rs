//! The order a stage's tests are shown and reported in: the order they are written in their test file,
//! which goes from the simplest case to the hardest, rather than libtest's alphabetical order. The
//! first failure a student is shown is then the simplest one of the stage.

use std::path::{Path, PathBuf};

/// The source file of the test target `target` of the package in `package_dir`: the `path` of its
/// `[[test]]` entry in the package's Cargo.toml (a reference compiles the lab's files by path), else
/// `tests/<target>.rs`.
pub fn test_source(package_dir: &Path, target: &str) -> PathBuf {
    let declared = std::fs::read_to_string(package_dir.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|manifest| {
            manifest.get("test")?.as_array()?.iter().find_map(|test| {
                (test.get("name")?.as_str()? == target)
                    .then(|| test.get("path")?.as_str().map(PathBuf::from))?
            })
        });
    package_dir.join(declared.unwrap_or_else(|| PathBuf::from(format!("tests/{target}.rs"))))
}

/// Sorts libtest's test names (`name`, `module::name`) by where `fn name` first appears in `source`;
/// names it cannot find keep their order, after the others.
pub fn sort_by_source(names: &mut [String], source: &str) {
    names.sort_by_cached_key(|name| {
        let leaf = name.rsplit("::").next().unwrap_or(name);
        position_of_fn(source, leaf).unwrap_or(usize::MAX)
    });
}

/// The byte offset of the first `fn <name>` followed by `(` or `<` in `source`.
fn position_of_fn(source: &str, name: &str) -> Option<usize> {
    let needle = format!("fn {name}");
    let mut from = 0;
    while let Some(found) = source[from..].find(&needle) {
        let at = from + found;
        let after = source[at + needle.len()..].trim_start();
        let before_ok = at == 0 || !source.as_bytes()[at - 1].is_ascii_alphanumeric();
        if before_ok && (after.starts_with('(') || after.starts_with('<')) {
            return Some(at);
        }
        from = at + needle.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_the_order_of_the_file_not_the_alphabet() {
        let source = "#[test]\nfn parses_simple() {}\nfn helper_parses() {}\n#[test]\nfn a_hard_case() {}\n\
                      mod nested {\n    #[test]\n    fn b_inner<T>() {}\n}\nproptest! {\n    #[test]\n    fn \
                      agrees(line in any::<u8>()) {}\n}\n";
        let mut names: Vec<String> =
            ["a_hard_case", "agrees", "nested::b_inner", "parses_simple", "unknown"].map(String::from).into();
        sort_by_source(&mut names, source);
        assert_eq!(names, ["parses_simple", "a_hard_case", "nested::b_inner", "agrees", "unknown"]);
    }

    #[test]
    fn a_longer_name_is_not_a_match() {
        assert_eq!(position_of_fn("fn parses_more() {}\nfn parses() {}", "parses"), Some(20));
        assert_eq!(position_of_fn("fn xparses() {}", "parses"), None);
    }

    #[test]
    fn finds_a_references_test_file_by_its_manifest_path() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("Cargo.toml"),
            "[package]\nname = \"x-ref\"\n[[test]]\nname = \"stage1\"\npath = \"../../labs/01-x/tests/stage1.rs\"\n",
        )
        .unwrap();
        assert_eq!(test_source(tmp.path(), "stage1"), tmp.path().join("../../labs/01-x/tests/stage1.rs"));
        assert_eq!(test_source(tmp.path(), "stage2"), tmp.path().join("tests/stage2.rs"));
    }
}
