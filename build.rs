//! Build script: the git commit for `mailsleuth --version`.
//!
//! `MAILSLEUTH_COMMIT` is the short hash of HEAD when the crate is built from a git checkout
//! (a worktree too); `unknown` when it is built from a tarball, or when git is missing. A
//! packager who knows the commit can set `MAILSLEUTH_COMMIT` in the environment instead.
//! Git is only asked when `.git` sits beside Cargo.toml, so a tarball unpacked inside some
//! other repository does not borrow that repository's commit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MAILSLEUTH_COMMIT");
    let commit = std::env::var("MAILSLEUTH_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
            if !dir.join(".git").exists() {
                return None;
            }
            // Rebuild when HEAD moves: HEAD itself (a checkout), its reflog (a commit on the
            // branch), the branch's loose ref and the packed refs. `--git-path` finds them in
            // a linked worktree too, where `.git` is a file.
            let mut watch = vec!["HEAD".to_string(), "logs/HEAD".into(), "packed-refs".into()];
            if let Some(r) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
                watch.push(r);
            }
            for w in &watch {
                if let Some(p) = git(&dir, &["rev-parse", "--git-path", w]) {
                    let p = dir.join(p);
                    if p.exists() {
                        println!("cargo:rerun-if-changed={}", p.display());
                    }
                }
            }
            git(&dir, &["rev-parse", "--short", "HEAD"])
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=MAILSLEUTH_COMMIT={commit}");
}
