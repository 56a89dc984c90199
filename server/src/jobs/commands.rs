//! Running a job's command: a child process with a timeout, its output streamed line by line into
//! the job's log.

use super::*;

/// Records the end of a job that has no row of its own to update.
pub(super) async fn finish_plain(
    ctx: &AppCtx,
    job_id: i64,
    worker: &str,
    outcome: &Outcome,
) -> Result<(), AppError> {
    let txn = app::server::begin_write(&ctx.db).await?;
    jobs::finish(&txn, job_id, worker, outcome).await?;
    txn.commit().await?;
    Ok(())
}

/// `output -json` as name → value, sensitive values replaced by a marker.
pub(super) fn outputs_of(json: &str) -> BTreeMap<String, serde_json::Value> {
    let parsed: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(json).unwrap_or_default();
    parsed
        .into_iter()
        .map(|(name, output)| {
            let value = if output["sensitive"].as_bool() == Some(true) {
                serde_json::Value::String("(sensitive)".into())
            } else {
                output["value"].clone()
            };
            (name, value)
        })
        .collect()
}

/// One module run's sandboxed commands: what runs, where, with what, and what to mask.
pub(super) struct Run<'a> {
    pub(super) sandbox: &'a crate::sandbox::Sandbox,
    pub(super) program: &'a Path,
    /// The run folder (the only place written).
    pub(super) dir: &'a Path,
    /// The module's folder inside it.
    pub(super) cwd: &'a Path,
    pub(super) env: &'a [(String, String)],
    /// The attached integrations' secret values: masked in every line logged.
    pub(super) secrets: &'a [String],
    /// The last lines the commands wrote to standard error (masked): a failed run's error.
    pub(super) errors: ErrorTail,
}

/// The last [`ErrorTail::KEPT`] lines of standard error, shared with the pumps.
#[derive(Clone, Default)]
pub(super) struct ErrorTail(std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>);

impl ErrorTail {
    const KEPT: usize = 400;

    fn push(&self, line: &str) {
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == Self::KEPT {
                lines.pop_front();
            }
            lines.push_back(line.to_string());
        }
    }

    pub(super) fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The most output a command may log (more is a runaway: the command is stopped).
pub(super) const MAX_OUTPUT: usize = 8 << 20;

/// The longest line kept whole; longer ones are cut.
pub(super) const MAX_LINE: usize = 8 << 10;

/// Reads `reader` as lines into `sender` (masked, cut at [`MAX_LINE`]) until it ends or the
/// run's output passes [`MAX_OUTPUT`]: then false.
pub(super) async fn pump_lines(
    mut reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
    stream: &'static str,
    sender: mpsc::UnboundedSender<(&'static str, String)>,
    secrets: Vec<String>,
    total: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    errors: Option<ErrorTail>,
) -> bool {
    use std::sync::atomic::Ordering;
    let mut buffer = vec![0u8; 64 << 10];
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    let flush = |line: &mut Vec<u8>, cut: &mut bool| {
        let mut text = String::from_utf8_lossy(line).into_owned();
        if *cut {
            text.push_str(" …(line cut)");
        }
        let masked = crate::sandbox::mask(&text, &secrets);
        if let Some(errors) = &errors {
            errors.push(&masked);
        }
        let _ = sender.send((stream, masked));
        line.clear();
        *cut = false;
    };
    loop {
        let read = match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if total.fetch_add(read, Ordering::Relaxed) + read > MAX_OUTPUT {
            return false;
        }
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                flush(&mut line, &mut cut);
            } else if line.len() < MAX_LINE {
                line.push(byte);
            } else {
                cut = true;
            }
        }
    }
    if !line.is_empty() {
        flush(&mut line, &mut cut);
    }
    true
}

/// Runs a command in the sandbox, its output line by line into the log; the exit status, or
/// why it did not run or was stopped.
pub(super) async fn execute(
    run: &Run<'_>,
    args: &[String],
    log: &JobLog,
    name: &str,
) -> Result<i32, String> {
    log.say(format!(
        "$ {name} {}",
        crate::sandbox::mask(&args.join(" "), run.secrets)
    ));
    let mut child = run
        .sandbox
        .command(run.program, args, run.dir, run.cwd, run.env)?
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", run.program.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let pump = |stream: &'static str, reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        pump_lines(
            reader,
            stream,
            log.sender.clone(),
            run.secrets.to_vec(),
            total.clone(),
            (stream == "err").then(|| run.errors.clone()),
        )
    };
    let waited = tokio::time::timeout(COMMAND_TIMEOUT, async {
        let (out, err) = tokio::join!(pump("out", Box::new(stdout)), pump("err", Box::new(stderr)));
        if !(out && err) {
            let _ = child.kill().await;
            return Err(format!(
                "{name} wrote more than {} MiB of output and was stopped",
                MAX_OUTPUT >> 20
            ));
        }
        child
            .wait()
            .await
            .map_err(|e| format!("waiting for {name}: {e}"))
    })
    .await;
    match waited {
        Ok(Ok(status)) => Ok(status.code().unwrap_or(-1)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "{name} ran longer than {} minutes and was stopped",
            COMMAND_TIMEOUT.as_secs() / 60
        )),
    }
}

/// Runs a command in the sandbox and returns its standard output (for `output -json`), at most
/// [`MAX_OUTPUT`].
pub(super) async fn capture(run: &Run<'_>, args: &[&str]) -> Result<String, String> {
    let output = run
        .sandbox
        .command(run.program, args, run.dir, run.cwd, run.env)?
        .output()
        .await
        .map_err(|e| format!("cannot start {}: {e}", run.program.display()))?;
    if !output.status.success() {
        let errors = crate::sandbox::mask(&String::from_utf8_lossy(&output.stderr), run.secrets);
        for line in errors.lines() {
            run.errors.push(line);
        }
        return Err(errors);
    }
    if output.stdout.len() > MAX_OUTPUT {
        return Err("the outputs are larger than 8 MiB".into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A job's log as it is written: lines go through a channel to a task that stores them in
/// batches (every 250 ms), so a page following the log sees them while the job runs.
pub struct JobLog {
    pub(super) sender: mpsc::UnboundedSender<(&'static str, String)>,
    pub(super) writer: tokio::task::JoinHandle<()>,
}

impl JobLog {
    /// Opens the log of an attempt. Its first line, `header`, is written before this returns,
    /// so that an attempt whose process dies a moment later still shows in the log; later lines
    /// are written in batches.
    pub(super) async fn start(ctx: &AppCtx, job_id: i64, attempt: i32, header: String) -> JobLog {
        let (sender, mut receiver) = mpsc::unbounded_channel::<(&'static str, String)>();
        let db = ctx.db.clone();
        let mut seq = jobs::next_seq(&db, job_id).await.unwrap_or(1);
        let first = LogLine {
            seq,
            attempt,
            stream: "slipway".to_string(),
            line: header,
        };
        match jobs::append_log(&db, job_id, std::slice::from_ref(&first)).await {
            Ok(()) => seq += 1,
            Err(e) => tracing::error!(job = job_id, "writing the job log failed: {e}"),
        }
        let writer = tokio::spawn(async move {
            let mut open = true;
            while open {
                let mut batch = Vec::new();
                let deadline = tokio::time::sleep(Duration::from_millis(250));
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        received = receiver.recv() => match received {
                            Some((stream, line)) => {
                                batch.push(LogLine { seq, attempt, stream: stream.to_string(), line });
                                seq += 1;
                                if batch.len() >= 200 { break; }
                            }
                            None => { open = false; break; }
                        },
                        _ = &mut deadline => break,
                    }
                }
                if let Err(e) = jobs::append_log(&db, job_id, &batch).await {
                    tracing::error!(job = job_id, "writing the job log failed: {e}");
                }
            }
        });
        JobLog { sender, writer }
    }

    pub fn say(&self, line: String) {
        let _ = self.sender.send(("slipway", line));
    }

    pub(super) async fn finish(self) {
        drop(self.sender);
        let _ = self.writer.await;
    }
}
