//! `--check` for both roles, like `nginx -t`: everything is loaded as for a start (the
//! configuration, certificates and that each key belongs to its certificate, JWT keys)
//! and what would run is described; no port is bound. `main` prints it and exits.

use crate::agent::AgentConfig;
use crate::agent::security::Security;
use crate::auth::{AuthConfig, Verifier};
use crate::gateway::GatewayConfig;
use crate::in_force::InForceError;
use crate::tls::ServerTlsFiles;
use std::net::SocketAddr;

/// What a gateway with `config` would run, or why it would not start.
pub async fn gateway(config: &GatewayConfig) -> Result<String, InForceError> {
    if let Some(files) = &config.tls {
        crate::tls::server_config(files)?;
    }
    crate::tls::client_config_for(&config.upstream_tls, "upstream_tls.ca")?;
    if !config.auth.is_none() {
        Verifier::new(&config.auth).await?;
    }
    let metrics = config.metrics_listen.map_or_else(|| "on the main listener".to_owned(), |a| a.to_string());
    let mut lines = vec![
        format!("listen {} ({})", config.listen, tls(config.tls.as_ref())),
        format!("metrics {metrics}"),
        auth(Some(&config.auth)),
        format!("workers {}", config.workers),
    ];
    lines.extend(config.agents.iter().map(|a| format!("agent {} {}", a.host, a.url)));
    if let Some(dns) = &config.discovery {
        lines.push(format!(
            "discovery {}:{} ({}), every {}",
            dns.name,
            dns.port,
            dns.scheme,
            humantime::format_duration(dns.interval)
        ));
    }
    if config.agents.is_empty() && config.discovery.is_none() {
        lines.push("no agents: none listed and no discovery".to_owned());
    }
    Ok(lines.join("\n"))
}

/// What an agent with `config` would run on `ports` (primary, secondary, API).
pub async fn agent(config: &AgentConfig, ports: [SocketAddr; 3]) -> Result<String, InForceError> {
    Security::load(config).await?;
    let [primary, secondary, api] = ports;
    Ok([
        format!("primary port {primary}, secondary port {secondary}"),
        format!("API {api} ({})", tls(config.tls.as_ref())),
        auth(config.auth.as_ref()),
        format!("host name {}", config.host_name),
    ]
    .join("\n"))
}

fn tls(files: Option<&ServerTlsFiles>) -> String {
    match files {
        None => "plain HTTP".to_owned(),
        Some(ServerTlsFiles { cert, client_ca: None, .. }) => format!("TLS, certificate {}", cert.display()),
        Some(ServerTlsFiles { cert, client_ca: Some(ca), .. }) => {
            format!("TLS, certificate {}, client certificates from {}", cert.display(), ca.display())
        }
    }
}

fn auth(auth: Option<&AuthConfig>) -> String {
    match auth {
        Some(auth) if !auth.is_none() => format!(
            "auth jwt: {} key source(s), issuer {}, audience {}",
            auth.keys.len(),
            auth.issuer.as_deref().unwrap_or("any"),
            auth.audience.as_deref().unwrap_or("any")
        ),
        _ => "auth none: every client may use every agent".to_owned(),
    }
}
