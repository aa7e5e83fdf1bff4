//! The client's config file and flags: contexts chosen by `--context`, `SPP_CTL_CONTEXT`
//! or `current_context`, flags over environment over context, the `config` commands,
//! completion scripts, and client options refused next to the server roles.

mod common;

use common::TestAgent;
use common::client::{BIN, Cluster, spp};

/// A gateway context (default host h2) and an agent context (current), written into
/// the config dir of the cluster's home.
fn write_config(cluster: &Cluster, agent: &TestAgent) {
    let dir = cluster.pki.dir.path().join("config").join("spp-ctl");
    std::fs::create_dir_all(&dir).expect("config dir");
    let text = format!(
        "current_context = \"local\"\n\
         [contexts.local]\nserver = \"http://{}\"\n\
         [contexts.gw]\nserver = \"{}\"\ncacert = \"{}\"\ntoken_file = \"{}\"\nhost = \"h2\"\n",
        agent.addrs.api,
        cluster.server(),
        cluster.pki.ca().display(),
        cluster.token_file.display()
    );
    std::fs::write(dir.join("config.toml"), text).expect("write config");
}

/// Which nfv 1 answered `nfv 1 status`: the lone agent's (0), h1's (1) or h2's (2).
async fn who_answers(cluster: &Cluster, env: &[(&str, &str)], args: &[&str]) -> usize {
    let mut all = vec!["nfv", "1", "status"];
    all.extend_from_slice(args);
    let before: Vec<usize> = (0..3).map(|i| cluster_sim(cluster, i).received().len()).collect();
    let run = spp(cluster.pki.dir.path(), env, &all).await;
    assert_eq!(run.code, 0, "{run:?}");
    let after: Vec<usize> = (0..3).map(|i| cluster_sim(cluster, i).received().len()).collect();
    let changed: Vec<usize> = (0..3).filter(|&i| after[i] != before[i]).collect();
    assert_eq!(changed.len(), 1, "exactly one nfv answered: {changed:?}");
    changed[0]
}

fn cluster_sim(cluster: &Cluster, i: usize) -> &spp_ctl::sim::SimHandle {
    &cluster.sims[i][1]
}

#[tokio::test]
async fn contexts_and_the_precedence_of_flags_environment_and_file() {
    let mut cluster = Cluster::start().await;
    // A third agent, outside the gateway, for the `local` context.
    let agent = TestAgent::start().await;
    cluster.sims.insert(0, agent.attach_all().await);
    write_config(&cluster, &agent);
    let c = &cluster;
    // sims: 0 = the lone agent, 1 = h1, 2 = h2.
    assert_eq!(who_answers(c, &[], &[]).await, 0, "current_context");
    assert_eq!(who_answers(c, &[("SPP_CTL_CONTEXT", "gw")], &[]).await, 2, "SPP_CTL_CONTEXT, its host");
    assert_eq!(who_answers(c, &[], &["--context", "gw"]).await, 2, "--context");
    assert_eq!(
        who_answers(c, &[("SPP_CTL_CONTEXT", "gw")], &["--context", "local"]).await,
        0,
        "flag over env"
    );
    assert_eq!(
        who_answers(c, &[("SPP_CTL_HOST", "h1")], &["--context", "gw"]).await,
        1,
        "env host over context"
    );
    assert_eq!(
        who_answers(c, &[("SPP_CTL_HOST", "h1")], &["--context", "gw", "-H", "h2"]).await,
        2,
        "-H over env"
    );
    let local = format!("http://{}", agent.addrs.api);
    // The gateway's server, CA and token file from the environment beat the context's.
    let env = c.env();
    let mut gateway_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    gateway_env.push(("SPP_CTL_CONTEXT", "local"));
    assert_eq!(who_answers(c, &gateway_env, &["-H", "h1"]).await, 1, "env server over context");

    // The context's default host belongs to its server: another server drops it.
    let env = c.env();
    let server_only = [("SPP_CTL_SERVER", env[0].1.as_str()), ("SPP_CTL_CACERT", env[1].1.as_str())];
    let run = spp(c.pki.dir.path(), &server_only, &["--context", "gw", "nfv", "1"]).await;
    assert_eq!(run.code, 3, "no host: the gateway's 404 for /v1/nfvs/1: {run:?}");

    let home = c.pki.dir.path();
    let missing = spp(home, &[], &["--context", "nope", "get", "processes"]).await;
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (1, "spp-ctl: context \"nope\" not found (known: gw, local)\n")
    );
    let contexts = spp(home, &[], &["config", "get-contexts"]).await;
    let rows: Vec<Vec<&str>> = contexts.assert_ok().lines().map(|l| l.split_whitespace().collect()).collect();
    let gateway = c.server();
    assert_eq!(
        rows,
        [vec!["CURRENT", "NAME", "SERVER", "HOST"], vec!["gw", &gateway, "h2"], vec!["*", "local", &local]]
    );
}

#[tokio::test]
async fn config_commands_write_contexts_that_later_runs_use() {
    let agent = TestAgent::start().await;
    let _sims = agent.attach_all().await;
    let home = tempfile::tempdir().expect("home");
    let server = format!("http://{}", agent.addrs.api);
    let set = spp(home.path(), &[], &["config", "set-context", "lab", "--server", &server]).await;
    let file = home.path().join("config").join("spp-ctl").join("config.toml");
    assert_eq!(set.assert_ok(), format!("context \"lab\" saved in {}\n", file.display()));
    assert_eq!(
        std::fs::read_to_string(&file).expect("written"),
        format!("current_context = \"lab\"\n\n[contexts.lab]\nserver = \"{server}\"\n")
    );
    assert_eq!(spp(home.path(), &[], &["config", "current-context"]).await.assert_ok(), "lab\n");
    assert!(
        spp(home.path(), &[], &["get", "processes"])
            .await
            .assert_ok()
            .starts_with("TYPE     CLIENT-ID\nprimary\n")
    );
    spp(home.path(), &[], &["config", "set-context", "other", "--server", "http://127.0.0.1:1"])
        .await
        .assert_ok();
    assert_eq!(
        spp(home.path(), &[], &["config", "use-context", "other"]).await.assert_ok(),
        "switched to context \"other\"\n"
    );
    assert_eq!(spp(home.path(), &[], &["get", "processes"]).await.code, 5, "the other context's server");
    assert_eq!(spp(home.path(), &[], &["config", "use-context", "none"]).await.code, 1);
    spp(home.path(), &[], &["config", "delete-context", "other"]).await.assert_ok();
    let current = spp(home.path(), &[], &["config", "current-context"]).await;
    assert_eq!(
        (current.code, current.stderr.as_str()),
        (1, "spp-ctl: no current context: spp-ctl config use-context NAME\n")
    );
    // SPP_CTL_CONFIG names another file; a broken one is a clear local error.
    let broken = home.path().join("broken.toml");
    std::fs::write(&broken, "[contexts.x]\nserverr = 1\n").expect("write");
    let run =
        spp(home.path(), &[("SPP_CTL_CONFIG", broken.to_str().expect("UTF-8"))], &["get", "processes"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with(&format!("spp-ctl: {}: unknown field `serverr`", broken.display())),
        "{run:?}"
    );
}

#[tokio::test]
async fn completion_scripts_for_three_shells() {
    let home = tempfile::tempdir().expect("home");
    for (shell, marker) in
        [("bash", "complete -F"), ("zsh", "#compdef spp-ctl"), ("fish", "complete -c spp-ctl")]
    {
        let run = spp(home.path(), &[], &["completion", shell]).await;
        let script = run.assert_ok();
        assert!(script.contains(marker), "{shell}: {script:.200}");
        assert!(script.contains("classifier_table") && script.contains("nfv"), "{shell} names the commands");
    }
    assert_eq!(spp(home.path(), &[], &["completion", "tcsh"]).await.code, 2);
}

#[test]
fn client_options_and_agent_flags_do_not_mix() {
    let run = |args: &[&str]| std::process::Command::new(BIN).args(args).env_clear().output().expect("runs");
    let agent_flag = run(&["-p", "5555", "get", "processes"]);
    assert_eq!(agent_flag.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&agent_flag.stderr).starts_with(
        "error: --pri-port starts the agent: give it without a command, or after `spp-ctl agent`"
    ));
    let client_flag = run(&["gateway", "--config", "/nonexistent", "--server", "http://x"]);
    assert_eq!(client_flag.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&client_flag.stderr)
            .starts_with("error: --server is a client option: it goes with a client command")
    );
    assert_eq!(run(&["-H", "h1"]).status.code(), Some(2), "the agent takes no -H");
}
