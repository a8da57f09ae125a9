use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// How long a binary may take to print its listening line. Generous: a cold debug binary on a
/// loaded two-core machine can take a while to open its database.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A free TCP port on 127.0.0.1, for binaries that must know their port before they start
/// (an OpenID provider's issuer URL contains it).
///
/// # Errors
///
/// Fails if no port can be bound.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running binary, killed when dropped.
#[derive(Debug)]
pub struct Running {
    child: Child,
    base: String,
    output: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Running {
    /// `base` joined with `path`, e.g. `http://127.0.0.1:41234/health`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Lines the process has printed since the last call (log lines, for assertions about
    /// what is and is not logged).
    pub fn drain_output(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.output.try_recv() {
            lines.push(line);
        }
        lines
    }

    /// Waits until the process prints a line containing `marker`, and returns every line
    /// printed since the last call up to and including that one.
    ///
    /// Use it to be sure a log line has been written (e.g. a request's log line) before
    /// asserting on the log, without sleeping.
    ///
    /// # Errors
    ///
    /// Fails if the process exits, or prints no such line within the start timeout.
    pub async fn output_until(&mut self, marker: &str) -> anyhow::Result<Vec<String>> {
        let mut lines = Vec::new();
        let found = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = self.output.recv().await {
                let done = line.contains(marker);
                lines.push(line);
                if done {
                    return true;
                }
            }
            false
        })
        .await;
        match found {
            Ok(true) => Ok(lines),
            Ok(false) => bail!(
                "the process exited before printing {marker:?}:\n{}",
                lines.join("\n")
            ),
            Err(_) => bail!(
                "the process printed no line with {marker:?} in time:\n{}",
                lines.join("\n")
            ),
        }
    }

    /// Sends SIGTERM and waits for the process to exit, returning whether it exited cleanly.
    ///
    /// # Errors
    ///
    /// Fails if the process cannot be signalled or waited for.
    pub async fn stop(mut self) -> anyhow::Result<bool> {
        if let Some(pid) = self.child.id() {
            let status = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .context("sending SIGTERM")?;
            if !status.success() {
                bail!("kill -TERM {pid} failed");
            }
        }
        let status = tokio::time::timeout(START_TIMEOUT, self.child.wait())
            .await
            .context("the process did not stop after SIGTERM")??;
        Ok(status.success())
    }
}

/// Starts `command`, forwards its output line by line, and waits until a line contains
/// `ready_marker`; the URL in that line (`http://…`) becomes the base URL.
async fn start(mut command: Command, ready_marker: &str) -> anyhow::Result<Running> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .env("RUST_LOG_STYLE", "never")
        .kill_on_drop(true);
    let mut child = command.spawn().context("starting the binary")?;
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<String>();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let sender = sender.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
    }
    drop(sender);

    let mut seen = Vec::new();
    let base = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = receiver.recv().await {
            let found = line
                .contains(ready_marker)
                .then(|| extract_url(&line))
                .flatten();
            seen.push(line);
            if let Some(url) = found {
                return Some(url);
            }
        }
        None
    })
    .await;
    match base {
        Ok(Some(base)) => Ok(Running {
            child,
            base,
            output: receiver,
        }),
        Ok(None) => bail!(
            "the binary exited before it was ready:\n{}",
            seen.join("\n")
        ),
        Err(_) => bail!("the binary was not ready in time:\n{}", seen.join("\n")),
    }
}

fn extract_url(line: &str) -> Option<String> {
    let start = line.find("http://")?;
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == ')' || c == ';' || c == ',')
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches('/').to_owned())
}

/// Where cargo put the workspace's binaries for this test run.
fn binary(name: &str) -> PathBuf {
    // Integration tests live in target/<profile>/deps; the binaries one folder up.
    let mut dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(name)
}

/// Builds a workspace binary once per test process, so `cargo test -p wristband-e2e` works
/// even when the binaries were not built yet.
fn ensure_built(package: &str, name: &str) -> anyhow::Result<PathBuf> {
    // The names built so far by this process. Each test starts its own binaries; asking cargo
    // again every time would make every test wait on the build lock of any other cargo running.
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let path = binary(name);
    if built.iter().any(|done| done == name) {
        return Ok(path);
    }
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--locked", "-p", package, "--bin", name])
        .args(if cfg!(debug_assertions) {
            &[][..]
        } else {
            &["--release"][..]
        })
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .with_context(|| format!("building {name}"))?;
    if !status.success() || !path.exists() {
        bail!("could not build {name} (expected at {})", path.display());
    }
    built.push(name.to_owned());
    Ok(path)
}

/// How to start the festival app.
#[derive(Debug, Clone, Default)]
pub struct FestivalOptions {
    /// Seed alice and bob.
    pub demo: bool,
    /// Reuse this data folder (to restart on the same database); a fresh one otherwise.
    pub data_dir: Option<PathBuf>,
    /// Extra `KEY=value` environment variables.
    pub env: Vec<(String, String)>,
}

impl FestivalOptions {
    /// Demo mode on a fresh data folder.
    pub fn demo() -> Self {
        Self {
            demo: true,
            ..Self::default()
        }
    }
}

/// The festival app, running.
#[derive(Debug)]
pub struct Festival {
    /// The process.
    pub process: Running,
    /// Its data folder (kept alive as long as this value when temporary).
    pub data_dir: PathBuf,
    temp_dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Festival {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.process
    }
}

impl std::ops::DerefMut for Festival {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.process
    }
}

impl Festival {
    /// Starts `festival-app` on a free port and waits until it listens.
    ///
    /// # Errors
    ///
    /// Fails if the binary cannot be built or started, or exits before it is ready.
    pub async fn start(options: FestivalOptions) -> anyhow::Result<Self> {
        let (temp, data_dir) = match options.data_dir {
            Some(dir) => (None, dir),
            None => {
                let temp = tempfile::tempdir()?;
                let dir = temp.path().to_path_buf();
                (Some(temp), dir)
            }
        };
        let port = free_port()?;
        let mut command = Command::new(ensure_built("festival-app", "festival-app")?);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FESTIVAL_ADDR", format!("127.0.0.1:{port}"))
            .env("FESTIVAL_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("FESTIVAL_DATA_DIR", &data_dir)
            .env("FESTIVAL_INSECURE_COOKIES", "1")
            .env("RUST_LOG", "festival_app=info,tower_http=info");
        if options.demo {
            command.env("FESTIVAL_DEMO", "1");
        }
        for (key, value) in &options.env {
            command.env(key, value);
        }
        let process = start(command, "festival open at").await?;
        Ok(Self {
            process,
            data_dir,
            temp_dir: temp,
        })
    }

    /// Stops the app and hands back its data folder, to start it again on the same database.
    ///
    /// # Errors
    ///
    /// Fails if the process does not stop.
    pub async fn stop_keeping_data(
        self,
    ) -> anyhow::Result<(bool, Option<tempfile::TempDir>, PathBuf)> {
        let clean = self.process.stop().await?;
        Ok((clean, self.temp_dir, self.data_dir))
    }
}

/// How to start the ticket vendor.
#[derive(Debug, Clone)]
pub struct VendorOptions {
    /// The festival callback the vendor's demo client may redirect to.
    pub redirect_uri: String,
}

/// The ticket vendor, running.
#[derive(Debug)]
pub struct Vendor {
    /// The process.
    pub process: Running,
    /// Its data folder (signing key), removed when the vendor is dropped.
    pub data_dir: tempfile::TempDir,
}

impl std::ops::Deref for Vendor {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.process
    }
}

impl Vendor {
    /// Starts `ticket-vendor` on a free port with its demo users and client.
    ///
    /// # Errors
    ///
    /// Fails if the binary cannot be built or started.
    pub async fn start(options: VendorOptions) -> anyhow::Result<Self> {
        let temp = tempfile::tempdir()?;
        let port = free_port()?;
        let mut command = Command::new(ensure_built("ticket-vendor", "ticket-vendor")?);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("VENDOR_ADDR", format!("127.0.0.1:{port}"))
            .env("VENDOR_ISSUER", format!("http://127.0.0.1:{port}"))
            .env("VENDOR_REDIRECT_URI", &options.redirect_uri)
            .env("VENDOR_DATA_DIR", temp.path())
            .env("RUST_LOG", "ticket_vendor=info");
        let process = start(command, "listening").await?;
        Ok(Self {
            process,
            data_dir: temp,
        })
    }
}
