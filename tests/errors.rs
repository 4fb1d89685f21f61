//! Every bad config in fixtures/invalid/ gets a clear error: exit 2, nothing on stdout, the place
//! as file:line:col, the key path, and a hint. The exact text is snapshotted.

#[test]
fn every_invalid_fixture_fails_with_its_snapshot() {
    let mut count = 0;
    insta::glob!("../fixtures/invalid", "*.yaml", |path| {
        count += 1;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        let rel = format!("fixtures/invalid/{name}");
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = pgstate::run(["pgstate", "render", "-c", &rel], &mut out, &mut err);
        let err = String::from_utf8(err).expect("stderr is UTF-8");
        assert_eq!(code, 2, "{rel}: {err}");
        assert!(out.is_empty(), "{rel}: nothing on stdout");
        assert!(err.starts_with("error: "), "{rel}: {err}");
        assert!(
            err.contains(&format!("--> {rel}:")),
            "{rel}: the place is file:line:col\n{err}"
        );
        assert!(
            err.contains("  = help: "),
            "{rel}: a hint says what would be right\n{err}"
        );
        let first_line = std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(
            first_line.starts_with("# "),
            "{rel}: the first line says what the case tests"
        );
        insta::assert_snapshot!(err);
    });
    assert!(count >= 40, "the bad-input corpus has {count} cases");
}

#[test]
fn check_reports_the_same_config_errors() {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = pgstate::run(
        [
            "pgstate",
            "check",
            "-c",
            "fixtures/invalid/storage-size-1GB.yaml",
        ],
        &mut out,
        &mut err,
    );
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&err).contains("did you mean 1Gi?"));
}

#[test]
fn every_error_in_a_config_is_reported_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("many.yaml");
    std::fs::write(
        &path,
        "name: Shop\npostgres:\n  image: postgres\n  port: 0\n  storage: {size: 1GB}\n",
    )
    .expect("write");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = pgstate::run(
        ["pgstate", "render", "-c", path.to_str().expect("utf-8")],
        &mut out,
        &mut err,
    );
    assert_eq!(code, 2);
    let err = String::from_utf8(err).expect("utf-8");
    for needle in [
        "name:",
        "postgres.image:",
        "postgres.port:",
        "postgres.storage.size:",
        "4 errors in the config",
    ] {
        assert!(err.contains(needle), "missing {needle}:\n{err}");
    }
}

#[test]
fn hostile_files_are_refused_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |path: &std::path::Path| {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = pgstate::run(
            ["pgstate", "render", "-c", path.to_str().expect("utf-8")],
            &mut out,
            &mut err,
        );
        (code, String::from_utf8_lossy(&err).into_owned())
    };
    let deep = dir.path().join("deep.yaml");
    std::fs::write(&deep, format!("a: {}", "[".repeat(10_000))).expect("write");
    let (code, err) = run(&deep);
    assert_eq!(code, 2, "{err}");
    let binary = dir.path().join("binary.yaml");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2]).expect("write");
    let (code, err) = run(&binary);
    assert_eq!(code, 2);
    assert!(err.contains("not UTF-8") || err.contains("binary"), "{err}");
    let latin1 = dir.path().join("latin1.yaml");
    std::fs::write(&latin1, b"name: shop\nlabels: {team: caf\xe9}\n").expect("write");
    let (code, err) = run(&latin1);
    assert_eq!(code, 2);
    assert!(err.contains(":2:"), "the line of the bad byte: {err}");
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, "#".repeat(2 * 1024 * 1024)).expect("write");
    let (code, err) = run(&big);
    assert_eq!(code, 2);
    assert!(err.contains("1 MiB"), "{err}");
    let (code, err) = run(dir.path());
    assert_eq!(code, 2, "a folder of bad configs: {err}");
    let fifo = dir.path().join("fifo.yaml");
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let (code, err) = run(&fifo);
        assert_eq!(code, 2);
        assert!(err.contains("not a regular file"), "{err}");
    }
}
