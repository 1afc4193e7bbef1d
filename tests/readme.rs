//! The README's promises: its excerpt of the sample postmortem is what the tool writes, and
//! its two quick-start commands are the ones CI and users run.

use assert_cmd::Command;

#[test]
fn the_readme_excerpt_is_generated_not_typed() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("<!-- excerpt:start -->\n").unwrap() + 23;
    let end = readme.find("\n<!-- excerpt:end -->").unwrap();
    let excerpt = &readme[start..end];
    let out = Command::cargo_bin("mailsleuth")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "samples/", "--tz", "UTC", "-q", "--format", "md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = md.lines().collect();
    for l in excerpt.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            lines.contains(&l),
            "README excerpt line is stale: {l}\nthe tool now writes:\n{}",
            md.lines().take(8).collect::<Vec<_>>().join("\n")
        );
    }
    assert!(excerpt.lines().count() >= 3);
}

#[test]
fn the_quick_start_commands_are_the_ones_we_run() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let quick = &readme[readme.find("## Quick start").unwrap()..];
    let quick = &quick[..quick[3..].find("\n## ").map_or(quick.len(), |p| p + 3)];
    assert!(quick.contains("cargo run --release -- report samples/"));
    assert!(quick.contains("cargo test"));
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run must call the README's test command"
    );
}
