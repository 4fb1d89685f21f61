//! CI's snapshot hygiene can fail: `.ci/test`, run whole, rejects a snapshot no test asserts and
//! a left-over review file, from the list of asserted snapshots insta writes.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::ci_test_with_cargo;

/// `.ci/test` in `dir` with a `cargo` that passes every test and records (as insta does) that
/// the run asserted `tests/snapshots/main__a.snap`, which is there.
fn scratch_ci(dir: &Path) -> Command {
    let cmd = ci_test_with_cargo(
        dir,
        "#!/bin/sh\n\
         if [ -n \"${INSTA_SNAPSHOT_REFERENCES_FILE-}\" ]; then\n\
         \x20 echo \"$PWD/tests/snapshots/main__a.snap\" >> \"$INSTA_SNAPSHOT_REFERENCES_FILE\"\n\
         elif [ $# -eq 2 ]; then echo 'the whole run lists no snapshots' >&2; exit 9\n\
         fi\n\
         echo 'test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out'\n",
    );
    let snapshots = dir.join("tests/snapshots");
    std::fs::create_dir_all(&snapshots).expect("mkdir");
    std::fs::write(
        snapshots.join("main__a.snap"),
        "---\nsource: tests/a.rs\n---\na\n",
    )
    .expect("write");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn said(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    )
}

#[test]
fn the_test_command_rejects_a_snapshot_no_test_asserts_and_left_review_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ci = scratch_ci(dir.path());
    let out = ci.output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "clean: {}", said(&out));

    let snapshots = dir.path().join("tests/snapshots");
    std::fs::write(snapshots.join("main__gone.snap"), "---\n---\nold\n").expect("write");
    std::fs::write(snapshots.join("main__a.snap.new"), "---\n---\nnew\n").expect("write");
    std::fs::write(dir.path().join("tests/.a.rs.pending-snap"), "{}\n").expect("write");
    let out = ci.output().expect("runs");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    for line in [
        "snapshot no test asserts (delete it, or find the test that lost it): tests/snapshots/main__gone.snap",
        "snapshot review file left (review the change, then accept or delete it): tests/.a.rs.pending-snap",
        "snapshot review file left (review the change, then accept or delete it): tests/snapshots/main__a.snap.new",
    ] {
        assert!(stderr.lines().any(|l| l == line), "{line}\n{}", said(&out));
    }
    assert!(
        !stderr.contains("tests/snapshots/main__a.snap\n"),
        "an asserted snapshot is no orphan: {stderr}"
    );
    assert_eq!(
        text(&out.stdout).lines().last(),
        Some("tests: 3 passed, 0 failed"),
        "the summary stays the last line"
    );

    // A part of the tests (a filter) cannot tell an orphan: it runs as before.
    let out = ci.arg("render::").output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "filtered: {}", said(&out));
}

/// The mechanism `.ci/test` relies on: insta, told a references file, lists there every
/// snapshot file a test asserts.
#[test]
fn insta_lists_the_snapshots_a_test_asserts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let references = dir.path().join("references");
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "cli::help_shows_examples", "--quiet"])
        .env("INSTA_SNAPSHOT_REFERENCES_FILE", &references)
        .env("INSTA_UPDATE", "no")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", said(&out));
    let listed = std::fs::read_to_string(&references).expect("insta wrote the references file");
    let mut names: Vec<&str> = listed
        .lines()
        .map(|l| {
            l.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or_else(|| panic!("{l} is a path in this crate"))
        })
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "/tests/snapshots/main__cli__help_shows_examples-2.snap",
            "/tests/snapshots/main__cli__help_shows_examples.snap"
        ]
    );
}
