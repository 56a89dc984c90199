//! Module runs (`terraform`, `tofu`) run in a sandbox: code from a module repository is code
//! from whoever can push there, and it runs with an integration's credentials. Each command is
//! started as
//!
//! ```text
//! [setpriv --reuid nobody …]  prlimit --nproc … --as … --fsize … --nofile … --core 0 --
//!     bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try
//!           --die-with-parent --new-session --ro-bind / / --tmpfs /tmp --proc /proc --dev /dev
//!           --tmpfs <data dir> --tmpfs <server's home> [--ro-bind <provider mirror> …]
//!           --bind <run folder> <run folder> --
//!     <program> <arguments>
//! ```
//!
//! so that it sees the machine read-only, none of the data dir (the database, `secret_key`,
//! other runs, mirrors), nothing of the server's environment or processes (its own PID
//! namespace; the environment holds only `PATH`, `HOME` and the attached integrations'
//! variables), writes only its own run folder, and is bounded in processes, memory, file size,
//! open files and (by the caller) time and output. Started as root, it also drops to `nobody`,
//! so that it can read only what anyone may. The network is left to it: providers must reach
//! their APIs.
//!
//! Nothing runs unsandboxed: without bubblewrap the run fails, naming what to install.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The uid and gid a sandbox started by root runs as.
const NOBODY: u32 = 65534;
/// Processes (and threads) of the sandbox's user; a fork bomb stops here.
const MAX_PROCESSES: u64 = 512;
/// Address space per process: Go programs (terraform, providers) reserve generously.
const MAX_MEMORY: u64 = 6 << 30;
/// The largest file a run may write.
const MAX_FILE: u64 = 1 << 30;

#[derive(Clone, Debug)]
pub struct Sandbox {
    /// Folders the sandbox must not see (the data dir, the server's home).
    hidden: Vec<PathBuf>,
    /// Folders shown read-only even inside a hidden one (the provider mirror).
    exposed: Vec<PathBuf>,
    /// Where run folders are made: outside the data dir, traversable by `nobody`.
    pub runs_dir: PathBuf,
}

fn found(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|p| p.join(program))
        .find(|p| p.is_file())
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl Sandbox {
    pub fn new(data_dir: &Path) -> Sandbox {
        let mut hidden = vec![data_dir.to_path_buf()];
        if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
            if home.is_absolute() && home != Path::new("/") {
                hidden.push(home);
            }
        }
        // One folder per data dir (several servers may share a machine, as the tests do).
        let tag = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
            hex::encode(&digest[..6])
        };
        Sandbox {
            hidden,
            exposed: Vec::new(),
            runs_dir: std::env::temp_dir().join(format!("slipway-runs-{tag}")),
        }
    }

    /// Shows `folder` to runs read-only, even where it lies in a hidden folder (the server's
    /// home).
    pub fn expose(mut self, folder: &Path) -> Sandbox {
        self.exposed.push(folder.to_path_buf());
        self
    }

    /// Makes the folder for one run (empty), writable by the sandbox's user.
    pub fn make_run_dir(&self, name: &str) -> Result<PathBuf, String> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&self.runs_dir)
            .map_err(|e| format!("cannot create {}: {e}", self.runs_dir.display()))?;
        // Others may pass through to their own folder, not list the others.
        let _ = std::fs::set_permissions(&self.runs_dir, std::fs::Permissions::from_mode(0o711));
        let dir = self.runs_dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create the run folder: {e}"))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot protect the run folder: {e}"))?;
        Ok(dir)
    }

    /// Hands the run folder (everything in it) to the sandbox's user before a command runs.
    pub fn hand_over(&self, dir: &Path) -> Result<(), String> {
        if !running_as_root() {
            return Ok(());
        }
        fn walk(path: &Path) -> std::io::Result<()> {
            std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY))?;
            if path.symlink_metadata()?.is_dir() {
                for entry in std::fs::read_dir(path)? {
                    walk(&entry?.path())?;
                }
            }
            Ok(())
        }
        walk(dir).map_err(|e| format!("cannot hand the run folder to the sandbox: {e}"))
    }

    /// The command that runs `program args` in `cwd` (inside `run_dir`) in the sandbox, with
    /// only `env` in its environment.
    pub fn command(
        &self,
        program: &Path,
        args: &[impl AsRef<std::ffi::OsStr>],
        run_dir: &Path,
        cwd: &Path,
        env: &[(String, String)],
    ) -> Result<tokio::process::Command, String> {
        let bwrap = found("bwrap").ok_or(
            "the module sandbox is not installed: install bubblewrap (Debian: apt-get install bubblewrap); Slipway runs no module outside it",
        )?;
        let prlimit = found("prlimit").ok_or("prlimit (util-linux) is not installed")?;
        let mut chain: Vec<std::ffi::OsString> = Vec::new();
        if running_as_root() {
            let setpriv = found("setpriv").ok_or("setpriv (util-linux) is not installed")?;
            chain.extend(
                [
                    setpriv.as_os_str(),
                    "--reuid=65534".as_ref(),
                    "--regid=65534".as_ref(),
                    "--clear-groups".as_ref(),
                    "--inh-caps=-all".as_ref(),
                    "--".as_ref(),
                ]
                .map(Into::into),
            );
        }
        chain.push(prlimit.into());
        for limit in [
            format!("--nproc={MAX_PROCESSES}"),
            format!("--as={MAX_MEMORY}"),
            format!("--fsize={MAX_FILE}"),
            "--nofile=4096".into(),
            "--core=0".into(),
            "--".into(),
        ] {
            chain.push(limit.into());
        }
        chain.push(bwrap.into());
        for arg in [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--ro-bind",
            "/",
            "/",
            "--tmpfs",
            "/tmp",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ] {
            chain.push(arg.into());
        }
        for hidden in &self.hidden {
            if hidden.is_dir() {
                chain.extend(["--tmpfs".into(), hidden.clone().into_os_string()]);
            }
        }
        for exposed in &self.exposed {
            chain.extend([
                "--ro-bind".into(),
                exposed.clone().into_os_string(),
                exposed.clone().into_os_string(),
            ]);
        }
        chain.extend([
            "--bind".into(),
            run_dir.as_os_str().to_owned(),
            run_dir.as_os_str().to_owned(),
            "--chdir".into(),
            cwd.as_os_str().to_owned(),
            "--".into(),
            program.as_os_str().to_owned(),
        ]);
        chain.extend(args.iter().map(|a| a.as_ref().to_owned()));
        let mut command = tokio::process::Command::new(&chain[0]);
        command
            .args(&chain[1..])
            .current_dir(run_dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        Ok(command)
    }
}

/// Replaces every secret value in `line` with `***`, as CI systems mask theirs; values shorter
/// than 4 characters are left (they would mask ordinary words).
pub fn mask(line: &str, secrets: &[String]) -> String {
    let mut out = line.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let secrets = vec!["AKIA0123456789".to_string(), "xy".to_string()];
        assert_eq!(
            mask("key=AKIA0123456789 and AKIA0123456789.", &secrets),
            "key=*** and ***."
        );
        assert_eq!(mask("xy stays", &secrets), "xy stays");
    }
}
