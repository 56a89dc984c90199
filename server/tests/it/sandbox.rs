//! The sandbox every module run goes through, attacked with a shell: it cannot read the data
//! dir (the key that seals every secret, the database), the server's environment or other
//! processes, cannot write outside its run folder, and a fork bomb stops at its process limit —
//! the server unaffected. (A real Terraform module trying the same is in `executors`.)

use server::sandbox::Sandbox;

async fn sh(sandbox: &Sandbox, run: &std::path::Path, script: &str) -> (Option<i32>, String) {
    let env = vec![("PATH".to_string(), "/usr/bin:/bin".to_string())];
    let mut command = sandbox
        .command(
            std::path::Path::new("/bin/sh"),
            &["-c", script],
            run,
            run,
            &env,
        )
        .expect("bubblewrap is installed (scripts/setup)");
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .expect("the sandbox ended")
        .unwrap();
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn a_hostile_run_sees_and_writes_nothing_of_the_server() {
    let data_dir = std::env::temp_dir()
        .join(format!("slipway-sandbox-test-{}", std::process::id()))
        .join("data");
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(data_dir.join("secret_key"), "THE-SEALING-KEY-0123456789").unwrap();
    std::fs::write(
        data_dir.join("slipway.db"),
        "SQLite format 3 rows-of-secrets",
    )
    .unwrap();
    let sandbox = Sandbox::new(&data_dir);
    let run = sandbox.make_run_dir("run-hostile").unwrap();
    std::fs::write(run.join("main.tf"), "# the module\n").unwrap();
    sandbox.hand_over(&run).unwrap();
    let data_path = data_dir.display().to_string();

    // Read the key and the database, by path and by walking up from the run folder.
    let (_, out) = sh(&sandbox, &run, &format!("cat {data_path}/secret_key {data_path}/slipway.db; ls -la {data_path}; cat ../../*/secret_key; find / -name secret_key -path '*{}*' 2>/dev/null", data_dir.file_name().unwrap().to_string_lossy())).await;
    assert!(
        !out.contains("THE-SEALING-KEY") && !out.contains("rows-of-secrets"),
        "{out}"
    );
    // The server's environment and processes: a PID namespace of its own, an environment of
    // PATH alone.
    let server_pid = std::process::id();
    let (_, out) = sh(&sandbox, &run, &format!("cat /proc/{server_pid}/environ; echo; cat /proc/1/environ; echo; echo processes=$(ls /proc | grep -c '^[0-9]') uid=$(id -u)")).await;
    let own: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k != "PATH" && k.len() > 3)
        .collect();
    assert!(!own.is_empty());
    for name in &own {
        assert!(!out.contains(&format!("{name}=")), "{name} leaked: {out}");
    }
    let counted = out
        .split("processes=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok());
    assert!(
        counted.is_some_and(|n| n < 10),
        "it sees only its own processes: {out}"
    );
    assert!(
        out.contains("uid=65534")
            || !std::fs::metadata("/proc/self")
                .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0),
        "started by root, it runs as nobody: {out}"
    );
    // Writes: its folder only.
    let (_, out) = sh(&sandbox, &run, &format!("echo pwned > {data_path}/pwned; echo pwned > /etc/pwned; echo pwned > ../pwned; echo fine > ./written && cat ./written")).await;
    assert!(out.contains("fine"), "{out}");
    assert!(!data_dir.join("pwned").exists() && !std::path::Path::new("/etc/pwned").exists());
    assert!(!run.parent().unwrap().join("pwned").exists());
    assert_eq!(
        std::fs::read_to_string(run.join("written")).unwrap(),
        "fine\n"
    );
    // Processes: a bomb of sleepers stops at the limit, and they all go with the sandbox.
    let (_, out) = sh(
        &sandbox,
        &run,
        "i=0; while [ $i -lt 3000 ]; do sleep 30 2>/dev/null & i=$((i+1)); done; echo spawned",
    )
    .await;
    assert!(
        out.contains("fork")
            || out.contains("Resource temporarily unavailable")
            || out.contains("Cannot allocate"),
        "the limit held: {:.300}",
        out
    );
    let before = std::time::Instant::now();
    loop {
        let left = std::process::Command::new("pgrep")
            .args(["-c", "-f", "^sleep 30$"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&left.stdout).trim() == "0" {
            break;
        }
        assert!(
            before.elapsed() < std::time::Duration::from_secs(20),
            "the sleepers outlived their sandbox"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    std::fs::remove_dir_all(&run).unwrap();
    std::fs::remove_dir_all(data_dir.parent().unwrap()).unwrap();
}
