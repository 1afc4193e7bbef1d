//! Command-line paths to input files: files as given, directories walked (in name order, so
//! the result never depends on the file system's order), `-` for standard input.

use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputPath {
    File(PathBuf),
    Stdin,
}

impl InputPath {
    pub fn display(&self) -> String {
        match self {
            InputPath::File(p) => p.display().to_string(),
            InputPath::Stdin => "<stdin>".to_string(),
        }
    }
}

/// A path that could not be used, with the reason.
#[derive(Debug)]
pub struct Unreadable {
    pub path: String,
    pub reason: String,
}

/// Expand the command-line arguments. Unreadable paths are returned beside the files, so the
/// caller can warn and go on with the rest.
pub fn discover(args: &[PathBuf]) -> (Vec<InputPath>, Vec<Unreadable>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for a in args {
        if a.as_os_str() == "-" {
            out.push(InputPath::Stdin);
            continue;
        }
        match std::fs::metadata(a) {
            Ok(m) if m.is_dir() => walk(a, &mut out, &mut bad),
            Ok(_) => out.push(InputPath::File(a.clone())),
            Err(e) => bad.push(Unreadable {
                path: a.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }
    (out, bad)
}

fn walk(dir: &Path, out: &mut Vec<InputPath>, bad: &mut Vec<Unreadable>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            bad.push(Unreadable {
                path: dir.display().to_string(),
                reason: e.to_string(),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        // Symlinked directories are not followed (no loops); symlinked files are.
        let Ok(lm) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if lm.is_dir() {
            walk(&p, out, bad);
        } else if lm.file_type().is_symlink() {
            if std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                out.push(InputPath::File(p));
            }
        } else {
            out.push(InputPath::File(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_in_name_order() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("b.log"), "x").unwrap();
        std::fs::write(d.path().join("a.log"), "x").unwrap();
        std::fs::write(d.path().join("sub/c.log"), "x").unwrap();
        let (files, bad) = discover(&[d.path().to_path_buf(), PathBuf::from("-")]);
        assert!(bad.is_empty());
        let names: Vec<String> = files
            .iter()
            .map(|f| match f {
                InputPath::File(p) => p.strip_prefix(d.path()).unwrap().display().to_string(),
                InputPath::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(names, ["a.log", "b.log", "sub/c.log", "-"]);
        let (files, bad) = discover(&[d.path().join("missing")]);
        assert!(files.is_empty());
        assert_eq!(bad.len(), 1);
    }
}
