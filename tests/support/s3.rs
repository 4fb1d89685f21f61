//! A real S3-compatible server (s3s-fs) for the offsite backup tests.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::free_port;

/// A real S3-compatible server (s3s-fs, from crates.io, installed by .ci/test-deps) on a free
/// loopback port, storing buckets as folders of a temp folder. Killed when dropped.
pub(crate) struct S3Server {
    pub(crate) port: u16,
    pub(crate) root: TempDir,
    child: Option<std::process::Child>,
}

pub(crate) const S3_ACCESS_KEY: &str = "pgstate-e2e-access";
pub(crate) const S3_SECRET_KEY: &str = "pgstate-e2e-secret-Zx9";

impl S3Server {
    /// Starts the server with one bucket.
    pub(crate) fn start(bucket: &str) -> Self {
        let bin = std::env::var_os("PGSTATE_E2E_S3S_FS").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/s3s-fs/bin/s3s-fs"),
            PathBuf::from,
        );
        assert!(
            bin.is_file(),
            "the S3 tests need s3s-fs at {} (`bash .ci/test-deps` installs it); they never skip",
            bin.display()
        );
        let root = tempfile::Builder::new()
            .prefix("pgstate-e2e-s3-")
            .tempdir()
            .expect("tempdir");
        fs::create_dir(root.path().join(bucket)).expect("mkdir bucket");
        let mut server = Self {
            port: 0,
            root,
            child: None,
        };
        server.spawn(&bin);
        server
    }

    fn spawn(&mut self, bin: &Path) {
        self.port = free_port();
        let log = File::create(self.root.path().with_extension("log")).expect("s3 log");
        let child = Command::new(bin)
            .env_clear()
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
            .arg(self.root.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start s3s-fs");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "s3s-fs does not listen on {}",
                self.port
            );
            sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The objects under `folder` of `bucket` (names, sorted) with their bytes.
    pub(crate) fn objects(&self, bucket: &str, folder: &str) -> BTreeMap<String, Vec<u8>> {
        let dir = self.root.path().join(bucket).join(folder);
        let Ok(entries) = fs::read_dir(&dir) else {
            return BTreeMap::new();
        };
        entries
            .map(|e| e.expect("entry"))
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).expect("read object"),
                )
            })
            .collect()
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
