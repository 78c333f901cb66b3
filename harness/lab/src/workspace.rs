//! The course workspace: its root, its target directory, its labs and how a `<lab>` argument names one.
//!
//! Labs are discovered, never listed: every `labs/*/lab.toml` is a lab. A manifest that does not parse
//! does not hide the other labs; it is kept in [`Workspace::broken`] and reported when it matters.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::manifest::Manifest;

/// The course workspace.
#[derive(Debug)]
pub struct Workspace {
    /// The directory of the Cargo.toml that has `[workspace]`.
    pub root: PathBuf,
    /// Cargo's target directory: `$CARGO_TARGET_DIR` (or `$CARGO_BUILD_TARGET_DIR`), else
    /// `<root>/target`. A `build.target-dir` in `.cargo/config.toml` is not read.
    pub target_dir: PathBuf,
    /// The labs whose manifest parsed, by number.
    pub labs: Vec<Lab>,
    /// The manifests that did not parse.
    pub broken: Vec<Error>,
}

/// One lab: `labs/<dir_name>/` and its manifest.
#[derive(Debug, Clone)]
pub struct Lab {
    /// The lab's folder, `<root>/labs/<dir_name>`.
    pub dir: PathBuf,
    /// The folder's name, e.g. `01-logstat`.
    pub dir_name: String,
    /// The parsed `lab.toml`.
    pub manifest: Manifest,
}

/// A Cargo package to build and test: a lab's student crate or its reference.
#[derive(Debug, Clone)]
pub struct Package {
    /// The package name, for `cargo -p`.
    pub name: String,
    /// The package's directory: tests run with it as their working directory.
    pub dir: PathBuf,
}

impl Workspace {
    /// Finds the workspace above `start` and discovers its labs.
    ///
    /// # Errors
    ///
    /// [`Error::NoWorkspace`] when no ancestor has a Cargo.toml with `[workspace]`; an I/O error when
    /// `labs/` cannot be listed.
    pub fn discover(start: &Path) -> anyhow::Result<Workspace> {
        let root = find_root(start)?;
        Workspace::open(root)
    }

    /// Opens the workspace whose root is `root` and discovers its labs.
    ///
    /// # Errors
    ///
    /// An I/O error when `labs/` exists but cannot be listed.
    pub fn open(root: PathBuf) -> anyhow::Result<Workspace> {
        let from_env = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
            .into_iter()
            .find_map(|var| std::env::var_os(var).filter(|dir| !dir.is_empty()));
        let target_dir = match from_env {
            Some(dir) => std::path::absolute(PathBuf::from(dir))?,
            None => root.join("target"),
        };
        let (labs, broken) = discover_labs(&root)?;
        Ok(Workspace { root, target_dir, labs, broken })
    }

    /// The lab that `query` names: its package name, folder name or number (`1`, `01`).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownLab`] listing the labs, or the [`Error::Manifest`] of a lab whose manifest is
    /// broken and whose folder `query` names.
    pub fn lab(&self, query: &str) -> Result<&Lab, Error> {
        if let Some(lab) = self.labs.iter().find(|lab| lab.matches(query)) {
            return Ok(lab);
        }
        for broken in &self.broken {
            if let Error::Manifest { path, message } = broken
                && broken_lab_matches(path, query)
            {
                return Err(Error::Manifest { path: path.clone(), message: message.clone() });
            }
        }
        Err(Error::UnknownLab { query: query.to_owned(), known: self.lab_names() })
    }

    /// The lab names, for messages.
    pub fn lab_names(&self) -> String {
        if self.labs.is_empty() {
            return "(none: no labs/*/lab.toml)".to_owned();
        }
        self.labs
            .iter()
            .map(|lab| format!("{} ({})", lab.manifest.name, lab.dir_name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Where `cargo lab` keeps its own files: `<target>/lab`.
    pub fn state_dir(&self) -> PathBuf {
        self.target_dir.join("lab")
    }

    /// The reference package of `lab`: the `solutions/*/Cargo.toml` whose package name is the
    /// manifest's `reference`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingReference`] when no such package exists.
    pub fn reference(&self, lab: &Lab) -> Result<Package, Error> {
        let wanted = &lab.manifest.reference;
        let same_folder = self.root.join("solutions").join(&lab.dir_name);
        let candidates = std::iter::once(same_folder).chain(subdirs(&self.root.join("solutions")));
        for dir in candidates {
            if package_name(&dir.join("Cargo.toml")).as_deref() == Some(wanted.as_str()) {
                return Ok(Package { name: wanted.clone(), dir });
            }
        }
        Err(Error::MissingReference { lab: lab.manifest.name.clone(), reference: wanted.clone() })
    }
}

impl Lab {
    /// Whether `query` names this lab.
    pub fn matches(&self, query: &str) -> bool {
        query == self.manifest.name
            || query == self.dir_name
            || query.parse::<u32>().is_ok_and(|n| n == self.manifest.number)
    }

    /// The student package.
    pub fn student(&self) -> Package {
        Package { name: self.manifest.name.clone(), dir: self.dir.clone() }
    }
}

/// The nearest ancestor of `start` (or `start` itself) whose Cargo.toml has a `[workspace]` table.
///
/// # Errors
///
/// [`Error::NoWorkspace`] when there is none.
pub fn find_root(start: &Path) -> Result<PathBuf, Error> {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest)
            && let Ok(table) = text.parse::<toml::Table>()
            && table.contains_key("workspace")
        {
            return Ok(dir.to_path_buf());
        }
    }
    Err(Error::NoWorkspace { start })
}

fn discover_labs(root: &Path) -> anyhow::Result<(Vec<Lab>, Vec<Error>)> {
    let mut labs = Vec::new();
    let mut broken = Vec::new();
    let labs_dir = root.join("labs");
    if !labs_dir.is_dir() {
        return Ok((labs, broken));
    }
    for dir in subdirs(&labs_dir) {
        let path = dir.join("lab.toml");
        if !path.is_file() {
            continue;
        }
        let Some(dir_name) = dir.file_name().and_then(|name| name.to_str()).map(str::to_owned) else {
            continue;
        };
        match Manifest::load(&path) {
            Ok(manifest) => labs.push(Lab { dir, dir_name, manifest }),
            Err(err) => broken.push(err),
        }
    }
    labs.sort_by(|a, b| (a.manifest.number, &a.dir_name).cmp(&(b.manifest.number, &b.dir_name)));
    Ok((labs, broken))
}

/// The sub-directories of `dir`, sorted; empty when `dir` cannot be read.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// `package.name` of the Cargo.toml at `path`, if it has one.
fn package_name(path: &Path) -> Option<String> {
    let table = std::fs::read_to_string(path).ok()?.parse::<toml::Table>().ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_owned())
}

/// Whether `query` names the lab whose (broken) manifest is `manifest`: by folder name, by the
/// folder's name without its number, or by the number.
fn broken_lab_matches(manifest: &Path, query: &str) -> bool {
    let dir_name = manifest.parent().and_then(Path::file_name).and_then(|name| name.to_str());
    dir_name.is_some_and(|name| {
        name == query || name.split_once('-').is_some_and(|(number, rest)| rest == query || number == query)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, number: u32) -> String {
        format!(
            "name = \"{name}\"\nreference = \"{name}-ref\"\nnumber = {number}\ntitle = \"t\"\n\
             [[stages]]\nid = \"a\"\ntitle = \"A\"\ntests = \"stage1\"\nweight = 1\nhint = \"h\"\nbook = \"b\"\n"
        )
    }

    fn fake_workspace() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        for (dir, name, number) in [("02-kvstore", "kvstore", 2), ("01-logstat", "logstat", 1)] {
            std::fs::create_dir_all(root.join("labs").join(dir)).unwrap();
            std::fs::write(root.join("labs").join(dir).join("lab.toml"), manifest(name, number)).unwrap();
        }
        std::fs::create_dir_all(root.join("labs/03-broken")).unwrap();
        std::fs::write(root.join("labs/03-broken/lab.toml"), "name = 3").unwrap();
        std::fs::create_dir_all(root.join("labs/README-only")).unwrap();
        std::fs::create_dir_all(root.join("solutions/01-logstat")).unwrap();
        std::fs::write(
            root.join("solutions/01-logstat/Cargo.toml"),
            "[package]\nname = \"logstat-ref\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        tmp
    }

    #[test]
    fn finds_the_root_from_a_subdirectory() {
        let tmp = fake_workspace();
        let root = find_root(&tmp.path().join("labs/01-logstat")).unwrap();
        assert_eq!(root, tmp.path());
    }

    #[test]
    fn no_workspace_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        // The temp dir's ancestors (/tmp, /) are not workspaces on any sane machine.
        assert!(matches!(find_root(tmp.path()), Err(Error::NoWorkspace { .. })));
    }

    #[test]
    fn discovers_labs_in_number_order() {
        let tmp = fake_workspace();
        let ws = Workspace::open(tmp.path().to_path_buf()).unwrap();
        let names: Vec<_> = ws.labs.iter().map(|lab| lab.manifest.name.as_str()).collect();
        assert_eq!(names, ["logstat", "kvstore"]);
        assert_eq!(ws.broken.len(), 1);
    }

    #[test]
    fn looks_labs_up_by_name_folder_or_number() {
        let tmp = fake_workspace();
        let ws = Workspace::open(tmp.path().to_path_buf()).unwrap();
        for query in ["logstat", "01-logstat", "1", "01"] {
            assert_eq!(ws.lab(query).unwrap().manifest.name, "logstat", "{query}");
        }
        assert_eq!(ws.lab("2").unwrap().dir_name, "02-kvstore");
    }

    #[test]
    fn unknown_lab_lists_the_labs() {
        let tmp = fake_workspace();
        let ws = Workspace::open(tmp.path().to_path_buf()).unwrap();
        let err = ws.lab("nope").unwrap_err();
        assert!(matches!(err, Error::UnknownLab { .. }));
        assert!(err.to_string().contains("logstat (01-logstat), kvstore (02-kvstore)"), "{err}");
    }

    #[test]
    fn a_broken_lab_reports_its_manifest_error() {
        let tmp = fake_workspace();
        let ws = Workspace::open(tmp.path().to_path_buf()).unwrap();
        for query in ["broken", "03-broken", "03"] {
            let err = ws.lab(query).unwrap_err();
            assert!(matches!(err, Error::Manifest { .. }), "{query}: {err}");
            assert!(err.to_string().contains("03-broken/lab.toml"), "{err}");
            assert_eq!(err.to_string().matches("bad lab manifest").count(), 1, "{err}");
        }
    }

    #[test]
    fn finds_the_reference_package() {
        let tmp = fake_workspace();
        let ws = Workspace::open(tmp.path().to_path_buf()).unwrap();
        let reference = ws.reference(ws.lab("logstat").unwrap()).unwrap();
        assert_eq!(reference.name, "logstat-ref");
        assert_eq!(reference.dir, tmp.path().join("solutions/01-logstat"));
        let err = ws.reference(ws.lab("kvstore").unwrap()).unwrap_err();
        assert!(err.to_string().contains("kvstore-ref"), "{err}");
    }
}
