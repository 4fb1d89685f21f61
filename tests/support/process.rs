//! Commands bounded in time, with their output kept, and what the machine gives them: a free
//! port, the current UID.

use std::fs::{self, File};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// No command of these tests may run longer than this; it is killed and the test fails.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) struct Output {
    pub(crate) what: String,
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
}

impl Output {
    pub(crate) fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what}: {} failed with {}\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.status,
            self.stdout,
            self.stderr
        );
    }

    /// Fails, and says so on stderr with `says`.
    pub(crate) fn assert_loud_failure(&self, what: &str, says: &str) {
        self.assert_failure(what);
        assert!(
            self.stderr.contains(says),
            "{what}: stderr does not say {says:?}:\n{}",
            self.stderr
        );
    }

    pub(crate) fn assert_failure(&self, what: &str) {
        assert!(
            !self.status.success(),
            "{what}: {} succeeded but must fail\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.stdout,
            self.stderr
        );
        assert!(
            self.status.code().is_some(),
            "{what}: {} died from a signal ({})",
            self.what,
            self.status
        );
    }
}

/// Runs a command with its output in files (a server it starts may keep pipes open), `stdin`
/// fed from a file; kills its whole process group after `TIMEOUT`.
pub(crate) fn bounded(cmd: &mut Command, stdin: Option<&str>) -> Output {
    let what = format!("{:?}", cmd.get_program());
    let io = tempfile::tempdir().expect("tempdir");
    let file = |name: &str| File::create(io.path().join(name)).expect("create output file");
    let input = match stdin {
        Some(text) => {
            fs::write(io.path().join("stdin"), text).expect("write stdin");
            Stdio::from(File::open(io.path().join("stdin")).expect("open stdin"))
        }
        None => Stdio::null(),
    };
    cmd.stdin(input)
        .stdout(file("stdout"))
        .stderr(file("stderr"))
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in {TIMEOUT:?}; killed");
        }
        sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let read = |name: &str| {
        String::from_utf8_lossy(&fs::read(io.path().join(name)).expect("read output")).into_owned()
    };
    Output {
        what,
        status,
        stdout: read("stdout"),
        stderr: read("stderr"),
        elapsed,
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

pub(crate) fn current_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("numeric uid")
}
